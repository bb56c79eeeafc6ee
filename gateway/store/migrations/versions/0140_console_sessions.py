"""console sessions in the database: a restart logs nobody out, every node knows every session

Revision ID: 0140
Revises: 0090
"""
import sqlalchemy as sa
from alembic import op

import gateway.store.schema

revision = '0140'
down_revision = '0100'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('console_sessions',
    sa.Column('id_hash', sa.String(length=64), nullable=False),
    sa.Column('username', sa.String(length=64), nullable=True),
    sa.Column('role', sa.String(length=16), nullable=True),
    sa.Column('csrf', sa.String(length=64), nullable=False),
    sa.Column('language', sa.String(length=8), nullable=False),
    sa.Column('facility_id', sa.String(length=64), nullable=True),
    sa.Column('created', gateway.store.schema.UTCDateTime(), nullable=False),
    sa.Column('last_seen', gateway.store.schema.UTCDateTime(), nullable=False),
    sa.Column('flashes', sa.Text(), nullable=True),
    sa.Column('capture', sa.LargeBinary(), nullable=True),
    sa.PrimaryKeyConstraint('id_hash')
    )
    with op.batch_alter_table('console_sessions', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_console_sessions_username'), ['username'], unique=False)
        batch_op.create_index(batch_op.f('ix_console_sessions_last_seen'), ['last_seen'], unique=False)


def downgrade():
    op.drop_table('console_sessions')
