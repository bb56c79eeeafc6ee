"""console dashboard: sessions by facility and entry or exit time, payments by time (its counts and takings per hour and day)

Revision ID: 0090
Revises: 0080
"""
from alembic import op

revision = '0090'
down_revision = '0080'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('sessions', schema=None) as batch_op:
        batch_op.create_index('ix_sessions_facility_entry', ['facility_id', 'entry_time'], unique=False)
        batch_op.create_index('ix_sessions_facility_exit', ['facility_id', 'exit_time'], unique=False)
    with op.batch_alter_table('payments', schema=None) as batch_op:
        batch_op.create_index('ix_payments_paid_at', ['paid_at'], unique=False)


def downgrade():
    with op.batch_alter_table('payments', schema=None) as batch_op:
        batch_op.drop_index('ix_payments_paid_at')
    with op.batch_alter_table('sessions', schema=None) as batch_op:
        batch_op.drop_index('ix_sessions_facility_exit')
        batch_op.drop_index('ix_sessions_facility_entry')
