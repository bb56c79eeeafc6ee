"""issue 16: zones set at runtime (versions), zone occupancy hours (in shards, issue 19), open sessions by zone and type

Revision ID: 0100
Revises: 0090
"""
import sqlalchemy as sa
from alembic import op

import gateway.store.schema

revision = '0100'
down_revision = '0150'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'zone_versions',
        sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
        sa.Column('facility_id', sa.String(length=64), nullable=False),
        sa.Column('zone_id', sa.String(length=64), nullable=False),
        sa.Column('name', sa.String(length=200), nullable=False),
        sa.Column('kind', sa.String(length=16), nullable=False),
        sa.Column('capacity', sa.Text(), nullable=False),
        sa.Column('permit_only', sa.Boolean(), nullable=False),
        sa.Column('set_by', sa.String(length=128), nullable=False),
        sa.Column('set_at', gateway.store.schema.UTCDateTime(), nullable=False),
        sa.Column('reason', sa.String(length=500), nullable=True),
        sa.PrimaryKeyConstraint('id'))
    op.create_index('ix_zone_versions_facility', 'zone_versions', ['facility_id', 'zone_id'])
    op.create_table(
        'zone_occupancy_hours',
        sa.Column('facility_id', sa.String(length=64), nullable=False),
        sa.Column('zone_id', sa.String(length=64), nullable=False),
        sa.Column('vehicle_type', sa.String(length=16), nullable=False),
        sa.Column('hour', gateway.store.schema.UTCDateTime(), nullable=False),
        sa.Column('shard', sa.Integer(), autoincrement=False, nullable=False),
        sa.Column('entries', sa.Integer(), nullable=False),
        sa.Column('exits', sa.Integer(), nullable=False),
        sa.Column('peak', sa.Integer(), nullable=False),
        sa.Column('occupied_end', sa.Integer(), nullable=False),
        sa.Column('last_at', gateway.store.schema.UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint('facility_id', 'zone_id', 'vehicle_type', 'hour', 'shard'))
    op.create_index('ix_sessions_open_zone', 'sessions', ['facility_id', 'zone_id', 'vehicle_type'],
                    sqlite_where=sa.text("status = 'OPEN'"), postgresql_where=sa.text("status = 'OPEN'"))


def downgrade():
    op.drop_index('ix_sessions_open_zone', table_name='sessions')
    op.drop_table('zone_occupancy_hours')
    op.drop_index('ix_zone_versions_facility', table_name='zone_versions')
    op.drop_table('zone_versions')
