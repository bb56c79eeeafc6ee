"""lane incidents (barrier control)

Revision ID: 0002
Revises: 0001
"""
import sqlalchemy as sa
from alembic import op

import gateway.store.schema

revision = '0002'
down_revision = '0001'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'lane_incidents',
        sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
        sa.Column('at', gateway.store.schema.UTCDateTime(), nullable=False),
        sa.Column('facility_id', sa.String(length=64), nullable=False),
        sa.Column('lane_number', sa.Integer(), nullable=False),
        sa.Column('kind', sa.String(length=32), nullable=False),
        sa.Column('event_id', sa.String(length=64), nullable=True),
        sa.Column('detail', sa.String(length=500), nullable=True),
        sa.PrimaryKeyConstraint('id'))
    with op.batch_alter_table('lane_incidents', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_lane_incidents_at'), ['at'], unique=False)


def downgrade():
    with op.batch_alter_table('lane_incidents', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_lane_incidents_at'))
    op.drop_table('lane_incidents')
