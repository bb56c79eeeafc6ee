"""audit_plates.sealed_plate: a tombstone's plate hash, sealed under the audit key, so verify opens it
instead of trying every erased plate; the erasures' entries indexed (audit verify reads their plates)

Tombstones left before stay without one (the migration has no audit key): verify tries each erased
plate on those, as it did. No entry's chained hash covers the new column: the chain is unchanged.

Revision ID: 0143
Revises: 0142
"""
import sqlalchemy as sa
from alembic import op

revision = '0143'
down_revision = '0142'
branch_labels = None
depends_on = None

ERASURES = sa.text("action = 'ErasePlate'")


def upgrade():
    with op.batch_alter_table('audit_plates', schema=None) as batch_op:
        batch_op.add_column(sa.Column('sealed_plate', sa.String(length=64), nullable=True))
    op.create_index('ix_audit_log_erasures', 'audit_log', ['plate_hash'], unique=False,
                    sqlite_where=ERASURES, postgresql_where=ERASURES)


def downgrade():
    op.drop_index('ix_audit_log_erasures', table_name='audit_log', sqlite_where=ERASURES, postgresql_where=ERASURES)
    with op.batch_alter_table('audit_plates', schema=None) as batch_op:
        batch_op.drop_column('sealed_plate')
