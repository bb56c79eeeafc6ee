"""logins: failed logins in a row and the lock they lead to, per user

Revision ID: 0050
Revises: 0065
"""
import sqlalchemy as sa
from alembic import op

import gateway.store.schema

revision = '0050'
down_revision = '0065'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.add_column(sa.Column('failed_logins', sa.Integer(), server_default=sa.text('0'), nullable=False))
        batch_op.add_column(sa.Column('locked_until', gateway.store.schema.UTCDateTime(), nullable=True))


def downgrade():
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.drop_column('locked_until')
        batch_op.drop_column('failed_logins')
