"""transactional outbox for relays

Revision ID: 0003
Revises: 0002
"""
import sqlalchemy as sa
from alembic import op

import gateway.store.schema

revision = '0003'
down_revision = '0002'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'outbox',
        sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
        sa.Column('destination', sa.String(length=64), nullable=False),
        sa.Column('kind', sa.String(length=16), nullable=False),
        sa.Column('key', sa.String(length=96), nullable=False),
        sa.Column('facility_id', sa.String(length=64), nullable=True),
        sa.Column('document', sa.Text(), nullable=False),
        sa.Column('created_at', gateway.store.schema.UTCDateTime(), nullable=False),
        sa.Column('state', sa.String(length=9), nullable=False),
        sa.Column('attempts', sa.Integer(), nullable=False),
        sa.Column('next_attempt_at', gateway.store.schema.UTCDateTime(), nullable=False),
        sa.Column('last_error', sa.String(length=500), nullable=True),
        sa.Column('delivered_at', gateway.store.schema.UTCDateTime(), nullable=True),
        sa.PrimaryKeyConstraint('id'))
    with op.batch_alter_table('outbox', schema=None) as batch_op:
        batch_op.create_index('ix_outbox_queue', ['destination', 'state', 'id'], unique=False)


def downgrade():
    with op.batch_alter_table('outbox', schema=None) as batch_op:
        batch_op.drop_index('ix_outbox_queue')
    op.drop_table('outbox')
