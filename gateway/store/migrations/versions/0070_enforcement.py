"""enforcement (issue 17): citations of a session (once per violation), plate clip evidence; hotlist categories, sources, expiry

Revision ID: 0070
Revises: 0080
"""
import sqlalchemy as sa
from alembic import op

import gateway.store.schema

revision = '0070'
down_revision = '0080'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('citations', schema=None) as batch_op:
        batch_op.add_column(sa.Column('session_id', sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column('plate_clip_url', sa.String(length=2048), nullable=True))
        batch_op.create_index('uq_citations_session_violation', ['session_id', 'violation'], unique=True,
                              sqlite_where=sa.text('session_id IS NOT NULL'),
                              postgresql_where=sa.text('session_id IS NOT NULL'))
    with op.batch_alter_table('hotlist', schema=None) as batch_op:
        # What was listed before categories were is held at the barrier, as it was: banned.
        batch_op.add_column(sa.Column('category', sa.String(length=8), server_default=sa.text("'banned'"),
                                      nullable=False))
        batch_op.add_column(sa.Column('source', sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column('expires_at', gateway.store.schema.UTCDateTime(), nullable=True))


def downgrade():
    with op.batch_alter_table('hotlist', schema=None) as batch_op:
        batch_op.drop_column('expires_at')
        batch_op.drop_column('source')
        batch_op.drop_column('category')
    with op.batch_alter_table('citations', schema=None) as batch_op:
        batch_op.drop_index('uq_citations_session_violation')
        batch_op.drop_column('plate_clip_url')
        batch_op.drop_column('session_id')
