"""report rollups (issue 16): revenue and traffic per facility and quarter hour in shards (issue 19), counted from the rows so far (shard 0)

Revision ID: 0110
Revises: 0090
"""
import sqlalchemy as sa
from alembic import op

import gateway.store.schema
from gateway.store import rollups

revision = '0110'
down_revision = '0120'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'revenue_rollups',
        sa.Column('facility_id', sa.String(length=64), nullable=False),
        sa.Column('quarter', gateway.store.schema.UTCDateTime(), nullable=False),
        sa.Column('method', sa.String(length=32), nullable=False),
        sa.Column('kind', sa.String(length=8), nullable=False),
        sa.Column('vehicle_type', sa.String(length=16), nullable=False),
        sa.Column('lane_number', sa.Integer(), nullable=False),
        sa.Column('shard', sa.Integer(), autoincrement=False, nullable=False),
        sa.Column('count', sa.Integer(), nullable=False),
        sa.Column('amount_e4', sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint('facility_id', 'quarter', 'method', 'kind', 'vehicle_type', 'lane_number', 'shard'))
    op.create_table(
        'traffic_rollups',
        sa.Column('facility_id', sa.String(length=64), nullable=False),
        sa.Column('quarter', gateway.store.schema.UTCDateTime(), nullable=False),
        sa.Column('movement', sa.String(length=5), nullable=False),
        sa.Column('stay_band', sa.Integer(), nullable=False),
        sa.Column('shard', sa.Integer(), autoincrement=False, nullable=False),
        sa.Column('count', sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint('facility_id', 'quarter', 'movement', 'stay_band', 'shard'))
    rollups.rebuild(op.get_bind())


def downgrade():
    op.drop_table('traffic_rollups')
    op.drop_table('revenue_rollups')
