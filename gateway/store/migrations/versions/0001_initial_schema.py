"""initial schema

Revision ID: 0001
Revises: 
Create Date: 2026-11-21 11:38:03.578976
"""
import sqlalchemy as sa
from alembic import op

import gateway.store.schema

revision = '0001'
down_revision = None
branch_labels = None
depends_on = None


def upgrade():

    op.create_table('audit_log',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('at', gateway.store.schema.UTCDateTime(), nullable=False),
    sa.Column('username', sa.String(length=64), nullable=False),
    sa.Column('action', sa.String(length=64), nullable=False),
    sa.Column('subject', sa.String(length=128), nullable=False),
    sa.Column('detail', sa.String(length=1000), nullable=True),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_table('citations',
    sa.Column('id', sa.String(length=64), nullable=False),
    sa.Column('issued_at', gateway.store.schema.UTCDateTime(), nullable=False),
    sa.Column('facility_id', sa.String(length=64), nullable=False),
    sa.Column('violation', sa.String(length=40), nullable=False),
    sa.Column('plate', sa.String(length=12), nullable=False),
    sa.Column('jurisdiction', sa.String(length=64), nullable=True),
    sa.Column('location', sa.String(length=64), nullable=True),
    sa.Column('fine', gateway.store.schema.ExactDecimal(14, 4), nullable=False),
    sa.Column('currency', sa.String(length=3), nullable=False),
    sa.Column('due_date', sa.Date(), nullable=False),
    sa.Column('evidence_url', sa.String(length=2048), nullable=True),
    sa.Column('note', sa.String(length=1000), nullable=True),
    sa.Column('issued_by', sa.String(length=64), nullable=False),
    sa.Column('status', sa.String(length=8), nullable=False),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('citations', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_citations_plate'), ['plate'], unique=False)

    op.create_table('hotlist',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('plate', sa.String(length=12), nullable=False),
    sa.Column('facility_id', sa.String(length=64), nullable=True),
    sa.Column('reason', sa.String(length=200), nullable=False),
    sa.Column('added_at', gateway.store.schema.UTCDateTime(), nullable=False),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('hotlist', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_hotlist_plate'), ['plate'], unique=False)

    op.create_table('lane_events',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('event_id', sa.String(length=64), nullable=False),
    sa.Column('facility_id', sa.String(length=64), nullable=False),
    sa.Column('camera_id', sa.String(length=64), nullable=False),
    sa.Column('direction', sa.String(length=5), nullable=False),
    sa.Column('occurred_at', gateway.store.schema.UTCDateTime(), nullable=False),
    sa.Column('recorded_at', gateway.store.schema.UTCDateTime(), nullable=False),
    sa.Column('plate', sa.String(length=12), nullable=True),
    sa.Column('confidence', gateway.store.schema.ExactDecimal(5, 4), nullable=True),
    sa.Column('decision', sa.String(length=8), nullable=False),
    sa.Column('reason', sa.String(length=64), nullable=False),
    sa.Column('session_id', sa.String(length=64), nullable=True),
    sa.Column('document', sa.Text(), nullable=False),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('event_id')
    )
    op.create_table('permits',
    sa.Column('permit_number', sa.String(length=64), nullable=False),
    sa.Column('plate', sa.String(length=12), nullable=False),
    sa.Column('facility_id', sa.String(length=64), nullable=True),
    sa.Column('permit_type', sa.String(length=16), nullable=False),
    sa.Column('valid_from', sa.Date(), nullable=False),
    sa.Column('valid_until', sa.Date(), nullable=False),
    sa.Column('state', sa.String(length=8), nullable=False),
    sa.Column('issued_at', gateway.store.schema.UTCDateTime(), nullable=False),
    sa.Column('revoked_at', gateway.store.schema.UTCDateTime(), nullable=True),
    sa.Column('revocation_reason', sa.String(length=1000), nullable=True),
    sa.PrimaryKeyConstraint('permit_number')
    )
    with op.batch_alter_table('permits', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_permits_plate'), ['plate'], unique=False)

    op.create_table('sessions',
    sa.Column('id', sa.String(length=64), nullable=False),
    sa.Column('facility_id', sa.String(length=64), nullable=False),
    sa.Column('plate', sa.String(length=12), nullable=False),
    sa.Column('status', sa.String(length=8), nullable=False),
    sa.Column('entry_time', gateway.store.schema.UTCDateTime(), nullable=False),
    sa.Column('exit_time', gateway.store.schema.UTCDateTime(), nullable=True),
    sa.Column('entry_event_id', sa.String(length=64), nullable=False),
    sa.Column('exit_event_id', sa.String(length=64), nullable=True),
    sa.Column('lane_number', sa.Integer(), nullable=False),
    sa.Column('jurisdiction', sa.String(length=64), nullable=True),
    sa.Column('country', sa.String(length=64), nullable=True),
    sa.Column('space_assigned', sa.String(length=64), nullable=True),
    sa.Column('permit_number', sa.String(length=64), nullable=True),
    sa.Column('amount_charged', gateway.store.schema.ExactDecimal(14, 4), nullable=True),
    sa.Column('amount_paid', gateway.store.schema.ExactDecimal(14, 4), nullable=False),
    sa.Column('paid_at', gateway.store.schema.UTCDateTime(), nullable=True),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('sessions', schema=None) as batch_op:
        batch_op.create_index('ix_sessions_plate', ['plate', 'facility_id'], unique=False)
        batch_op.create_index('uq_sessions_open_plate', ['facility_id', 'plate'], unique=True, sqlite_where=sa.text("status = 'OPEN'"), postgresql_where=sa.text("status = 'OPEN'"))

    op.create_table('users',
    sa.Column('username', sa.String(length=64), nullable=False),
    sa.Column('role', sa.String(length=16), nullable=False),
    sa.Column('password_hash', sa.String(length=256), nullable=False),
    sa.Column('digest_secret', sa.String(length=256), nullable=True),
    sa.Column('created_at', gateway.store.schema.UTCDateTime(), nullable=False),
    sa.Column('disabled', sa.Boolean(), nullable=False),
    sa.Column('demo', sa.Boolean(), nullable=False),
    sa.PrimaryKeyConstraint('username')
    )
    op.create_table('ws_nonces',
    sa.Column('username', sa.String(length=64), nullable=False),
    sa.Column('nonce', sa.String(length=128), nullable=False),
    sa.Column('created', gateway.store.schema.UTCDateTime(), nullable=False),
    sa.PrimaryKeyConstraint('username', 'nonce')
    )
    with op.batch_alter_table('ws_nonces', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_ws_nonces_created'), ['created'], unique=False)

    op.create_table('payments',
    sa.Column('id', sa.String(length=64), nullable=False),
    sa.Column('session_id', sa.String(length=64), nullable=False),
    sa.Column('amount', gateway.store.schema.ExactDecimal(14, 4), nullable=False),
    sa.Column('currency', sa.String(length=3), nullable=False),
    sa.Column('method', sa.String(length=32), nullable=False),
    sa.Column('paid_at', gateway.store.schema.UTCDateTime(), nullable=False),
    sa.Column('recorded_by', sa.String(length=64), nullable=False),
    sa.ForeignKeyConstraint(['session_id'], ['sessions.id'], ),
    sa.PrimaryKeyConstraint('id')
    )



def downgrade():

    op.drop_table('payments')
    with op.batch_alter_table('ws_nonces', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_ws_nonces_created'))

    op.drop_table('ws_nonces')
    op.drop_table('users')
    with op.batch_alter_table('sessions', schema=None) as batch_op:
        batch_op.drop_index('uq_sessions_open_plate', sqlite_where=sa.text("status = 'OPEN'"), postgresql_where=sa.text("status = 'OPEN'"))
        batch_op.drop_index('ix_sessions_plate')

    op.drop_table('sessions')
    with op.batch_alter_table('permits', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_permits_plate'))

    op.drop_table('permits')
    op.drop_table('lane_events')
    with op.batch_alter_table('hotlist', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_hotlist_plate'))

    op.drop_table('hotlist')
    with op.batch_alter_table('citations', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_citations_plate'))

    op.drop_table('citations')
    op.drop_table('audit_log')

