"""relay leases (one gateway node delivers each destination's queue); provisional outbox messages

Revision ID: 0006
Revises: 0005
"""
import sqlalchemy as sa
from alembic import op

import gateway.store.schema

revision = '0006'
down_revision = '0005'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'relay_leases',
        sa.Column('destination', sa.String(length=64), nullable=False),
        sa.Column('owner', sa.String(length=128), nullable=False),
        sa.Column('expires_at', gateway.store.schema.UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint('destination'))
    with op.batch_alter_table('outbox', schema=None) as batch_op:
        batch_op.add_column(sa.Column('provisional', sa.Boolean(), server_default=sa.text('false'), nullable=False))


def downgrade():
    with op.batch_alter_table('outbox', schema=None) as batch_op:
        batch_op.drop_column('provisional')
    op.drop_table('relay_leases')
