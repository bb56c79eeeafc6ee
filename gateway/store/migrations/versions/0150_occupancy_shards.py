"""occupancy hours in shards: one row per database connection, so lane events never wait on one row's lock

Revision ID: 0150
Revises: 0090
"""
import sqlalchemy as sa
from alembic import op

import gateway.store.schema

revision = '0150'
down_revision = '0110'
branch_labels = None
depends_on = None

COUNTS = ('entries', 'exits', 'stays', 'stay_seconds', 'peak', 'occupied_end')


def _table(name, sharded):
    columns = [sa.Column('facility_id', sa.String(length=64), nullable=False),
               sa.Column('hour', gateway.store.schema.UTCDateTime(), nullable=False)]
    if sharded:
        columns.append(sa.Column('shard', sa.Integer(), server_default='0', nullable=False))
    columns += [sa.Column(c, sa.Integer(), nullable=False) for c in COUNTS]
    if sharded:
        columns.append(sa.Column('last_at', gateway.store.schema.UTCDateTime(), nullable=True))
    keys = ['facility_id', 'hour', 'shard'] if sharded else ['facility_id', 'hour']
    op.create_table(name, *columns, sa.PrimaryKeyConstraint(*keys, name=f'{name}_pkey'))


def _replace(sharded, select_sql):
    """The table made anew (its primary key changes), its rows copied by ``select_sql``."""
    _table('occupancy_hours_new', sharded)
    names = ['facility_id', 'hour', *(['shard'] if sharded else []), *COUNTS, *(['last_at'] if sharded else [])]
    op.execute(f"INSERT INTO occupancy_hours_new ({', '.join(names)}) {select_sql}")
    op.drop_table('occupancy_hours')
    op.rename_table('occupancy_hours_new', 'occupancy_hours')
    if op.get_bind().dialect.name == 'postgresql':
        op.execute('ALTER TABLE occupancy_hours RENAME CONSTRAINT occupancy_hours_new_pkey TO occupancy_hours_pkey')


def upgrade():
    _replace(True, f"SELECT facility_id, hour, 0, {', '.join(COUNTS)}, NULL FROM occupancy_hours")


def downgrade():
    # The shards of an hour as one row: summed, the highest peak, the occupancy of the latest shard.
    latest = ("(SELECT l.occupied_end FROM occupancy_hours l WHERE l.facility_id = o.facility_id AND l.hour = o.hour "
              "ORDER BY l.last_at IS NULL, l.last_at DESC LIMIT 1)")
    _replace(False, "SELECT facility_id, hour, sum(entries), sum(exits), sum(stays), sum(stay_seconds), max(peak), "
                    f"{latest} FROM occupancy_hours o GROUP BY facility_id, hour")
