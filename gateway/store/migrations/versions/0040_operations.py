"""operations: the audit log chained (address, kind, plate hash, hashes, its head row), node leases, lane commands, lane windows

Revision ID: 0040
Revises: 0006
"""
import sqlalchemy as sa
from alembic import op

import gateway.store.schema

revision = '0040'
down_revision = '0006'
branch_labels = None
depends_on = None

GENESIS = "0" * 64


def upgrade():
    with op.batch_alter_table('audit_log', schema=None) as batch_op:
        batch_op.add_column(sa.Column('address', sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column('kind', sa.String(length=8), server_default=sa.text("'CHANGE'"), nullable=False))
        batch_op.add_column(sa.Column('plate_hash', sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column('prev_hash', sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column('entry_hash', sa.String(length=64), nullable=True))
        batch_op.create_index(batch_op.f('ix_audit_log_at'), ['at'], unique=False)
        batch_op.create_index(batch_op.f('ix_audit_log_username'), ['username'], unique=False)
        batch_op.create_index(batch_op.f('ix_audit_log_plate_hash'), ['plate_hash'], unique=False)
    head = op.create_table(
        'audit_head',
        sa.Column('id', sa.Integer(), autoincrement=False, nullable=False),
        sa.Column('first_id', sa.Integer(), nullable=True),
        sa.Column('last_id', sa.Integer(), nullable=True),
        sa.Column('last_hash', sa.String(length=64), nullable=False),
        sa.PrimaryKeyConstraint('id'))
    # Entries recorded before this revision stay as they are, unchained; the chain starts after them.
    op.bulk_insert(head, [dict(id=1, first_id=None, last_id=None, last_hash=GENESIS)])
    op.create_table(
        'node_leases',
        sa.Column('name', sa.String(length=128), nullable=False),
        sa.Column('owner', sa.String(length=128), nullable=False),
        sa.Column('expires_at', gateway.store.schema.UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint('name'))
    op.create_table(
        'lane_commands',
        sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
        sa.Column('facility_id', sa.String(length=64), nullable=False),
        sa.Column('lane_number', sa.Integer(), nullable=False),
        sa.Column('command', sa.String(length=16), nullable=False),
        sa.Column('argument', sa.String(length=200), nullable=True),
        sa.Column('requested_at', gateway.store.schema.UTCDateTime(), nullable=False),
        sa.Column('state', sa.String(length=8), nullable=False),
        sa.Column('result', sa.Text(), nullable=True),
        sa.Column('answered_by', sa.String(length=128), nullable=True),
        sa.PrimaryKeyConstraint('id'))
    with op.batch_alter_table('lane_commands', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_lane_commands_state'), ['state'], unique=False)
    with op.batch_alter_table('sessions', schema=None) as batch_op:
        batch_op.create_index('ix_sessions_exit_time', ['exit_time'], unique=False)
    op.create_table(
        'lane_windows',
        sa.Column('facility_id', sa.String(length=64), nullable=False),
        sa.Column('camera_id', sa.String(length=64), nullable=False),
        sa.Column('direction', sa.String(length=5), nullable=False),
        sa.Column('event_id', sa.String(length=64), nullable=False),
        sa.Column('first_seen', gateway.store.schema.UTCDateTime(), nullable=False),
        sa.Column('readings', sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint('facility_id', 'camera_id', 'direction'))


def downgrade():
    op.drop_table('lane_windows')
    with op.batch_alter_table('sessions', schema=None) as batch_op:
        batch_op.drop_index('ix_sessions_exit_time')
    op.drop_table('lane_commands')
    op.drop_table('node_leases')
    op.drop_table('audit_head')
    with op.batch_alter_table('audit_log', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_audit_log_plate_hash'))
        batch_op.drop_index(batch_op.f('ix_audit_log_username'))
        batch_op.drop_index(batch_op.f('ix_audit_log_at'))
        batch_op.drop_column('entry_hash')
        batch_op.drop_column('prev_hash')
        batch_op.drop_column('plate_hash')
        batch_op.drop_column('kind')
        batch_op.drop_column('address')
