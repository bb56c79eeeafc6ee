"""console dashboard: sessions by facility and exit time (its exits per hour and day; entries and payments by time: 0065)

Revision ID: 0090
Revises: 0067
"""
from alembic import op

revision = '0090'
down_revision = '0067'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('sessions', schema=None) as batch_op:
        batch_op.create_index('ix_sessions_facility_exit', ['facility_id', 'exit_time'], unique=False)


def downgrade():
    with op.batch_alter_table('sessions', schema=None) as batch_op:
        batch_op.drop_index('ix_sessions_facility_exit')
