"""operator: tickets, shifts, lost tickets, the payments journal

Revision ID: 0065
Revises: 0070
"""
import sqlalchemy as sa
from alembic import op

import gateway.store.schema

revision = '0065'
down_revision = '0070'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('shifts',
    sa.Column('id', sa.String(length=64), nullable=False),
    sa.Column('officer', sa.String(length=64), nullable=False),
    sa.Column('facility_id', sa.String(length=64), nullable=False),
    sa.Column('lane_number', sa.Integer(), nullable=True),
    sa.Column('booth', sa.String(length=64), nullable=True),
    sa.Column('currency', sa.String(length=3), nullable=False),
    sa.Column('opening_float', gateway.store.schema.ExactDecimal(), nullable=False),
    sa.Column('opened_at', gateway.store.schema.UTCDateTime(), nullable=False),
    sa.Column('state', sa.String(length=8), nullable=False),
    sa.Column('closed_at', gateway.store.schema.UTCDateTime(), nullable=True),
    sa.Column('declared', sa.Text(), nullable=True),
    sa.Column('signed_by', sa.String(length=64), nullable=True),
    sa.Column('signed_at', gateway.store.schema.UTCDateTime(), nullable=True),
    sa.Column('note', sa.String(length=1000), nullable=True),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('shifts', schema=None) as batch_op:
        batch_op.create_index('uq_shifts_open_officer', ['officer'], unique=True, sqlite_where=sa.text("state = 'OPEN'"), postgresql_where=sa.text("state = 'OPEN'"))

    op.create_table('lost_tickets',
    sa.Column('id', sa.String(length=64), nullable=False),
    sa.Column('facility_id', sa.String(length=64), nullable=False),
    sa.Column('session_id', sa.String(length=64), nullable=False),
    sa.Column('ticket_number', sa.String(length=20), nullable=True),
    sa.Column('at', gateway.store.schema.UTCDateTime(), nullable=False),
    sa.Column('recorded_by', sa.String(length=64), nullable=False),
    sa.Column('reason', sa.String(length=1000), nullable=False),
    sa.Column('policy', sa.String(length=24), nullable=False),
    sa.Column('charge', gateway.store.schema.ExactDecimal(), nullable=False),
    sa.Column('currency', sa.String(length=3), nullable=False),
    sa.Column('shift_id', sa.String(length=64), nullable=True),
    sa.ForeignKeyConstraint(['session_id'], ['sessions.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('lost_tickets', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_lost_tickets_at'), ['at'], unique=False)

    op.create_table('tickets',
    sa.Column('facility_id', sa.String(length=64), nullable=False),
    sa.Column('number', sa.String(length=20), nullable=False),
    sa.Column('session_id', sa.String(length=64), nullable=False),
    sa.Column('issued_at', gateway.store.schema.UTCDateTime(), nullable=False),
    sa.Column('lane_number', sa.Integer(), nullable=False),
    sa.Column('vehicle_type', sa.String(length=16), nullable=False),
    sa.Column('state', sa.String(length=8), nullable=False),
    sa.Column('closed_at', gateway.store.schema.UTCDateTime(), nullable=True),
    sa.ForeignKeyConstraint(['session_id'], ['sessions.id'], ),
    sa.PrimaryKeyConstraint('facility_id', 'number'),
    sa.UniqueConstraint('session_id')
    )
    with op.batch_alter_table('payments', schema=None) as batch_op:
        batch_op.add_column(sa.Column('facility_id', sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column('kind', sa.String(length=8), server_default=sa.text("'PAYMENT'"), nullable=False))
        batch_op.add_column(sa.Column('vehicle_type', sa.String(length=16), nullable=True))
        batch_op.add_column(sa.Column('lane_number', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('shift_id', sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column('channel', sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column('tendered', gateway.store.schema.ExactDecimal(), nullable=True))
        batch_op.add_column(sa.Column('change', gateway.store.schema.ExactDecimal(), nullable=True))
        batch_op.add_column(sa.Column('reference', sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column('card_last_four', sa.String(length=4), nullable=True))
        batch_op.add_column(sa.Column('partial', sa.Boolean(), server_default=sa.text('false'), nullable=False))
        batch_op.add_column(sa.Column('original_id', sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column('reason', sa.String(length=1000), nullable=True))
        batch_op.add_column(sa.Column('authorised_by', sa.String(length=64), nullable=True))
        batch_op.create_index(batch_op.f('ix_payments_original_id'), ['original_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_payments_paid_at'), ['paid_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_payments_shift_id'), ['shift_id'], unique=False)

    with op.batch_alter_table('sessions', schema=None) as batch_op:
        batch_op.create_index('ix_sessions_facility_entry', ['facility_id', 'entry_time'], unique=False)


def downgrade():
    with op.batch_alter_table('sessions', schema=None) as batch_op:
        batch_op.drop_index('ix_sessions_facility_entry')

    with op.batch_alter_table('payments', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_payments_shift_id'))
        batch_op.drop_index(batch_op.f('ix_payments_paid_at'))
        batch_op.drop_index(batch_op.f('ix_payments_original_id'))
        batch_op.drop_column('authorised_by')
        batch_op.drop_column('reason')
        batch_op.drop_column('original_id')
        batch_op.drop_column('partial')
        batch_op.drop_column('card_last_four')
        batch_op.drop_column('reference')
        batch_op.drop_column('change')
        batch_op.drop_column('tendered')
        batch_op.drop_column('channel')
        batch_op.drop_column('shift_id')
        batch_op.drop_column('lane_number')
        batch_op.drop_column('vehicle_type')
        batch_op.drop_column('kind')
        batch_op.drop_column('facility_id')

    op.drop_table('tickets')
    with op.batch_alter_table('lost_tickets', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_lost_tickets_at'))

    op.drop_table('lost_tickets')
    with op.batch_alter_table('shifts', schema=None) as batch_op:
        batch_op.drop_index('uq_shifts_open_officer', sqlite_where=sa.text("state = 'OPEN'"), postgresql_where=sa.text("state = 'OPEN'"))

    op.drop_table('shifts')
