"""open data (issue 17): occupancy hours, counted by each entry and exit

Revision ID: 0075
Revises: 0050
"""
import sqlalchemy as sa
from alembic import op

import gateway.store.schema

revision = '0075'
down_revision = '0050'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'occupancy_hours',
        sa.Column('facility_id', sa.String(length=64), nullable=False),
        sa.Column('hour', gateway.store.schema.UTCDateTime(), nullable=False),
        sa.Column('entries', sa.Integer(), nullable=False),
        sa.Column('exits', sa.Integer(), nullable=False),
        sa.Column('stays', sa.Integer(), nullable=False),
        sa.Column('stay_seconds', sa.Integer(), nullable=False),
        sa.Column('peak', sa.Integer(), nullable=False),
        sa.Column('occupied_end', sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint('facility_id', 'hour'))


def downgrade():
    op.drop_table('occupancy_hours')
