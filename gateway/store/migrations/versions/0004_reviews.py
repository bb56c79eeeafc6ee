"""review queue

Revision ID: 0004
Revises: 0003
"""
import sqlalchemy as sa
from alembic import op

import gateway.store.schema

revision = '0004'
down_revision = '0003'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'reviews',
        sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
        sa.Column('event_id', sa.String(length=64), nullable=False),
        sa.Column('facility_id', sa.String(length=64), nullable=False),
        sa.Column('camera_id', sa.String(length=64), nullable=False),
        sa.Column('direction', sa.String(length=5), nullable=False),
        sa.Column('occurred_at', gateway.store.schema.UTCDateTime(), nullable=False),
        sa.Column('reason', sa.String(length=64), nullable=False),
        sa.Column('plate', sa.String(length=12), nullable=True),
        sa.Column('confidence', gateway.store.schema.ExactDecimal(5, 4), nullable=True),
        sa.Column('image', sa.LargeBinary(), nullable=True),
        sa.Column('image_url', sa.String(length=2048), nullable=True),
        sa.Column('state', sa.String(length=8), nullable=False),
        sa.Column('created_at', gateway.store.schema.UTCDateTime(), nullable=False),
        sa.Column('resolved_at', gateway.store.schema.UTCDateTime(), nullable=True),
        sa.Column('resolved_by', sa.String(length=64), nullable=True),
        sa.Column('resolved_plate', sa.String(length=12), nullable=True),
        sa.Column('outcome', sa.String(length=8), nullable=True),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('event_id'))
    with op.batch_alter_table('reviews', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_reviews_state'), ['state'], unique=False)


def downgrade():
    with op.batch_alter_table('reviews', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_reviews_state'))
    op.drop_table('reviews')
