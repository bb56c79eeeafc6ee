"""lost tickets by session: every plate exit reads its session's lost-ticket charge

Revision ID: 0067
Revises: 0060
"""
from alembic import op

revision = '0067'
down_revision = '0060'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('lost_tickets', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_lost_tickets_session_id'), ['session_id'], unique=False)


def downgrade():
    with op.batch_alter_table('lost_tickets', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_lost_tickets_session_id'))
