"""outbox kinds as long as DATEX II's publications (ParkingStatusPublication: 24 characters)

Revision ID: 0120
Revises: 0090
"""
import sqlalchemy as sa
from alembic import op

revision = '0120'
down_revision = '0090'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('outbox', schema=None) as batch:
        batch.alter_column('kind', type_=sa.String(32), existing_type=sa.String(16), existing_nullable=False)


def downgrade():
    with op.batch_alter_table('outbox', schema=None) as batch:
        batch.alter_column('kind', type_=sa.String(16), existing_type=sa.String(32), existing_nullable=False)
