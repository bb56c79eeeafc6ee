"""audit_plates.erased: a plate hash an erasure replaced by its tombstone (the chain covers what a listing showed)

Revision ID: 0142
Revises: 0141
"""
import sqlalchemy as sa
from alembic import op

revision = '0142'
down_revision = '0141'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('audit_plates', schema=None) as batch_op:
        batch_op.add_column(sa.Column('erased', sa.Boolean(), server_default=sa.text('false'), nullable=False))


def downgrade():
    with op.batch_alter_table('audit_plates', schema=None) as batch_op:
        batch_op.drop_column('erased')
