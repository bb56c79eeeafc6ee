"""issue 16 part A: tariff versions, stored pictures; sessions' vehicle type, zone, pictures and their match score

Revision ID: 0060
Revises: 0075
"""
import sqlalchemy as sa
from alembic import op

import gateway.store.schema

revision = '0060'
down_revision = '0075'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'tariff_versions',
        sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
        sa.Column('facility_id', sa.String(length=64), nullable=False),
        sa.Column('vehicle_type', sa.String(length=16), nullable=False),
        sa.Column('effective_from', gateway.store.schema.UTCDateTime(), nullable=False),
        sa.Column('currency', sa.String(length=3), nullable=False),
        sa.Column('rules', sa.Text(), nullable=False),
        sa.Column('set_by', sa.String(length=128), nullable=False),
        sa.Column('set_at', gateway.store.schema.UTCDateTime(), nullable=False),
        sa.Column('reason', sa.String(length=500), nullable=True),
        sa.PrimaryKeyConstraint('id'))
    with op.batch_alter_table('tariff_versions', schema=None) as batch_op:
        batch_op.create_index('ix_tariff_versions_facility', ['facility_id', 'vehicle_type', 'effective_from'],
                              unique=False)
    op.create_table(
        'stored_images',
        sa.Column('sha256', sa.String(length=64), nullable=False),
        sa.Column('size', sa.Integer(), nullable=False),
        sa.Column('stored_at', gateway.store.schema.UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint('sha256'))
    with op.batch_alter_table('stored_images', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_stored_images_stored_at'), ['stored_at'], unique=False)
    with op.batch_alter_table('sessions', schema=None) as batch_op:
        batch_op.add_column(sa.Column('vehicle_type', sa.String(length=16), server_default=sa.text("'car'"),
                                      nullable=False))
        batch_op.add_column(sa.Column('zone_id', sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column('entry_image', sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column('exit_image', sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column('image_match_score', gateway.store.schema.ExactDecimal(6, 4), nullable=True))


def downgrade():
    with op.batch_alter_table('sessions', schema=None) as batch_op:
        for column in ('image_match_score', 'exit_image', 'entry_image', 'zone_id', 'vehicle_type'):
            batch_op.drop_column(column)
    with op.batch_alter_table('stored_images', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_stored_images_stored_at'))
    op.drop_table('stored_images')
    with op.batch_alter_table('tariff_versions', schema=None) as batch_op:
        batch_op.drop_index('ix_tariff_versions_facility')
    op.drop_table('tariff_versions')
