"""audit_plates: the plates an audit entry showed (a listing's), by keyed hash, for the by-plate query

Revision ID: 0141
Revises: 0140
"""
import sqlalchemy as sa
from alembic import op

revision = '0141'
down_revision = '0140'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('audit_plates',
    sa.Column('entry_id', sa.Integer(), nullable=False),
    sa.Column('plate_hash', sa.String(length=64), nullable=False),
    sa.ForeignKeyConstraint(['entry_id'], ['audit_log.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('entry_id', 'plate_hash')
    )
    with op.batch_alter_table('audit_plates', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_audit_plates_plate_hash'), ['plate_hash'], unique=False)


def downgrade():
    op.drop_table('audit_plates')
