"""plates sealed at rest: plate columns encrypted (text), a blind index beside each, documents, readings and pictures sealed

Revision ID: 0080
Revises: 0040

The rows already there are sealed with the key ring the migration runs with (the store's).
"""
import sqlalchemy as sa
from alembic import op

from gateway.store.sealed import ring

revision = '0080'
down_revision = '0040'
branch_labels = None
depends_on = None

#: table -> (its primary key, plate columns, other sealed text columns, sealed bytes columns)
SEALED = {
    'lane_events': ('id', ['plate'], ['document', 'fingerprint'], []),
    'sessions': ('id', ['plate'], [], []),
    'permits': ('permit_number', ['plate'], [], []),
    'citations': ('id', ['plate'], [], []),
    'hotlist': ('id', ['plate'], [], []),
    'reviews': ('id', ['plate', 'resolved_plate'], [], ['image']),
    'outbox': ('id', [], ['document'], []),
    'lane_windows': (('facility_id', 'camera_id', 'direction'), [], ['readings'], []),
}
#: Indexes on the plate in clear, made again on its blind index.
OLD_INDEXES = {'permits': ['ix_permits_plate'], 'citations': ['ix_citations_plate'], 'hotlist': ['ix_hotlist_plate'],
               'sessions': ['uq_sessions_open_plate', 'ix_sessions_plate']}
OPEN = sa.text("status = 'OPEN'")


def upgrade():
    for table, names in OLD_INDEXES.items():
        for name in names:
            op.drop_index(name, table_name=table)
    for table, (_key, plates, _texts, _blobs) in SEALED.items():
        if not plates:
            continue
        with op.batch_alter_table(table) as batch:
            for column in plates:
                batch.alter_column(column, type_=sa.Text(), existing_type=sa.String(12))
                batch.add_column(sa.Column(f'{column}_index', sa.String(32), nullable=True))
            if table == 'lane_events':
                batch.alter_column('fingerprint', type_=sa.Text(), existing_type=sa.String(64))
    _seal_rows()
    for table, (_key, plates, _texts, _blobs) in SEALED.items():
        for column in plates:
            if table != 'sessions':
                op.create_index(f'ix_{table}_{column}_index', table, [f'{column}_index'])
    op.create_index('uq_sessions_open_plate', 'sessions', ['facility_id', 'plate_index'], unique=True,
                    sqlite_where=OPEN, postgresql_where=OPEN)
    op.create_index('ix_sessions_plate', 'sessions', ['plate_index', 'facility_id'])


def _seal_rows():
    bind = op.get_bind()
    for table, (key, plates, texts, blobs) in SEALED.items():
        keys = (key,) if isinstance(key, str) else key
        T = sa.table(table, *[sa.column(k) for k in keys], *[sa.column(c, sa.Text) for c in plates + texts],
                     *[sa.column(c, sa.LargeBinary) for c in blobs],
                     *[sa.column(f'{c}_index', sa.String) for c in plates])
        rows = bind.execute(sa.select(*[T.c[k] for k in keys], *[T.c[c] for c in plates + texts + blobs])).all()
        if not rows:
            continue
        keys_ring = ring(bind.dialect)
        where = sa.and_(*[T.c[k] == sa.bindparam(f'_k_{k}') for k in keys])
        updates = []
        for row in rows:
            values = {f'_k_{k}': row._mapping[k] for k in keys}
            for c in plates + texts:
                plain = row._mapping[c]
                values[c] = None if plain is None else keys_ring.seal_text(plain, f'{table}.{c}'.encode())
                if c in plates:
                    values[f'{c}_index'] = None if plain is None else keys_ring.blind(plain)
            for c in blobs:
                plain = row._mapping[c]
                values[c] = None if plain is None else keys_ring.seal(bytes(plain), f'{table}.{c}'.encode())
            updates.append(values)
        bind.execute(sa.update(T).where(where).values({c: sa.bindparam(c) for c in updates[0] if not c.startswith('_k_')}),
                     updates)


def downgrade():
    bind = op.get_bind()
    for table, (key, plates, texts, blobs) in SEALED.items():
        keys = (key,) if isinstance(key, str) else key
        T = sa.table(table, *[sa.column(k) for k in keys], *[sa.column(c, sa.Text) for c in plates + texts],
                     *[sa.column(c, sa.LargeBinary) for c in blobs])
        rows = bind.execute(sa.select(*[T.c[k] for k in keys], *[T.c[c] for c in plates + texts + blobs])).all()
        if rows:
            keys_ring = ring(bind.dialect)
            where = sa.and_(*[T.c[k] == sa.bindparam(f'_k_{k}') for k in keys])
            updates = [{**{f'_k_{k}': row._mapping[k] for k in keys},
                        **{c: None if row._mapping[c] is None else keys_ring.open_text(row._mapping[c], f'{table}.{c}'.encode())
                           for c in plates + texts},
                        **{c: None if row._mapping[c] is None else keys_ring.open(row._mapping[c], f'{table}.{c}'.encode())
                           for c in blobs}}
                       for row in rows]
            bind.execute(sa.update(T).where(where).values({c: sa.bindparam(c) for c in plates + texts + blobs}),
                         updates)
    op.drop_index('ix_sessions_plate', table_name='sessions')
    op.drop_index('uq_sessions_open_plate', table_name='sessions')
    for table, (_key, plates, _texts, _blobs) in SEALED.items():
        if not plates:
            continue
        for column in plates:
            if table != 'sessions':
                op.drop_index(f'ix_{table}_{column}_index', table_name=table)
        with op.batch_alter_table(table) as batch:
            for column in plates:
                batch.drop_column(f'{column}_index')
                batch.alter_column(column, type_=sa.String(12), existing_type=sa.Text())
            if table == 'lane_events':
                batch.alter_column('fingerprint', type_=sa.String(64), existing_type=sa.Text())
    for table, names in OLD_INDEXES.items():
        if table != 'sessions':
            op.create_index(names[0], table, ['plate'])
    op.create_index('uq_sessions_open_plate', 'sessions', ['facility_id', 'plate'], unique=True,
                    sqlite_where=OPEN, postgresql_where=OPEN)
    op.create_index('ix_sessions_plate', 'sessions', ['plate', 'facility_id'])
