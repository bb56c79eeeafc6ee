"""relay leases: one gateway node delivers each destination's queue

Revision ID: 0006
Revises: 0004
"""
from alembic import op
import sqlalchemy as sa
import gateway.store

revision = '0006'
down_revision = '0004'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'relay_leases',
        sa.Column('destination', sa.String(length=64), nullable=False),
        sa.Column('owner', sa.String(length=128), nullable=False),
        sa.Column('expires_at', gateway.store.UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint('destination'))


def downgrade():
    op.drop_table('relay_leases')
