"""The report's rollups (issue 16): counted by each session's entry and exit and each journal
entry, in the unit of work that writes it, and read by reports instead of millions of rows.

One upsert per write, into the shard of the database connection it runs on
(:mod:`gateway.store.shards`): a quarter hour's row is made by its first entry (or payment) there
and added to by the rest; read, a group is its shards summed. Voids and refunds are journal
entries of their own (negative), so they net in the rollups exactly as in the journal.
:func:`rebuild` counts them afresh from the rows (the migration that brought rollups in, and the
scale bench's bulk seeding, which writes rows only), into shard 0.
"""

from datetime import datetime
from decimal import Decimal

from sqlalchemy import (
    BigInteger,
    Connection,
    Float,
    Integer,
    String,
    case,
    cast,
    delete,
    func,
    literal,
    literal_column,
    select,
)
from sqlalchemy.dialects import postgresql, sqlite

from ..domain.reports import STAY_BANDS, quarter_of, stay_band
from ..domain.vehicle_types import DEFAULT as DEFAULT_VEHICLE_TYPE
from .prepared import Prepared
from .schema import PaymentRecord, RevenueRollupRecord, SessionRecord, TrafficRollupRecord, table_of
from .shards import shard_of

_REVENUE, _TRAFFIC = table_of(RevenueRollupRecord), table_of(TrafficRollupRecord)
_P, _S = table_of(PaymentRecord), table_of(SessionRecord)
ENTRY, EXIT = "ENTRY", "EXIT"
NO_LANE = 0
E4 = Decimal("10000")


def _upsert(insert, table, adds: list[str]) -> Prepared:
    stmt = insert(table)
    keys = [c for c in table.primary_key.columns]
    return Prepared(stmt.on_conflict_do_update(index_elements=keys, set_={
        name: table.c[name] + stmt.excluded[name] for name in adds}), [c.key for c in table.columns])


_ADD_REVENUE = {"sqlite": _upsert(sqlite.insert, _REVENUE, ["count", "amount_e4"]),
                "postgresql": _upsert(postgresql.insert, _REVENUE, ["count", "amount_e4"])}
_ADD_TRAFFIC = {"sqlite": _upsert(sqlite.insert, _TRAFFIC, ["count"]),
                "postgresql": _upsert(postgresql.insert, _TRAFFIC, ["count"])}


def _e4(amount: Decimal) -> int:
    scaled = amount * E4
    if scaled != scaled.to_integral_value():
        raise ValueError("an amount finer than the journal keeps (four places)")
    return int(scaled)


def entered(conn: Connection, facility_id: str, when: datetime) -> None:
    _ADD_TRAFFIC[conn.dialect.name].run(conn, {"facility_id": facility_id, "quarter": quarter_of(when),
                                               "movement": ENTRY, "stay_band": 0, "shard": shard_of(conn),
                                               "count": 1})


def left(conn: Connection, facility_id: str, entry: datetime, leave: datetime) -> None:
    _ADD_TRAFFIC[conn.dialect.name].run(conn, {"facility_id": facility_id, "quarter": quarter_of(leave),
                                               "movement": EXIT, "stay_band": stay_band(entry, leave),
                                               "shard": shard_of(conn), "count": 1})


def paid(conn: Connection, facility_id: str | None, paid_at: datetime, method: str, kind: str,
         vehicle_type: str | None, lane_number: int | None, amount: Decimal) -> None:
    """A journal entry (a payment, a void or a refund) counted; one of no facility is in no report."""
    if facility_id is None:
        return
    _ADD_REVENUE[conn.dialect.name].run(conn, {
        "facility_id": facility_id, "quarter": quarter_of(paid_at), "method": method, "kind": kind,
        "vehicle_type": vehicle_type or DEFAULT_VEHICLE_TYPE,
        "lane_number": NO_LANE if lane_number is None else lane_number, "shard": shard_of(conn), "count": 1,
        "amount_e4": _e4(amount)})


# --- read by reports -------------------------------------------------------------------------

def revenue(conn: Connection, facility_id: str, start: datetime, end: datetime) -> list[tuple]:
    """(method, kind, vehicle type, lane or None, count, amount) per group of the period's journal."""
    R = _REVENUE
    query = select(R.c.method, R.c.kind, R.c.vehicle_type, R.c.lane_number, func.sum(R.c.count),
                   func.sum(R.c.amount_e4)) \
        .where(R.c.facility_id == facility_id, R.c.quarter >= start, R.c.quarter < end) \
        .group_by(R.c.method, R.c.kind, R.c.vehicle_type, R.c.lane_number)
    return [(m, k, v, None if lane == NO_LANE else lane, int(n), (Decimal(int(a)) / E4).quantize(Decimal("0.01")))
            for m, k, v, lane, n, a in conn.execute(query)]


def traffic(conn: Connection, facility_id: str, start: datetime, end: datetime
            ) -> list[tuple[datetime, str, int, int]]:
    """(quarter, ENTRY or EXIT, stay band, count) of the period, its shards summed."""
    T = _TRAFFIC
    query = select(T.c.quarter, T.c.movement, T.c.stay_band, func.sum(T.c.count)).where(
        T.c.facility_id == facility_id, T.c.quarter >= start, T.c.quarter < end) \
        .group_by(T.c.quarter, T.c.movement, T.c.stay_band)
    return [(q, m, b, int(n)) for q, m, b, n in conn.execute(query)]


def moved_since(conn: Connection, facility_id: str, at: datetime) -> tuple[int, int]:
    """(entries, exits) from ``at`` (a quarter hour) on."""
    T = _TRAFFIC
    rows = conn.execute(select(T.c.movement, func.sum(T.c.count)).where(
        T.c.facility_id == facility_id, T.c.quarter >= at).group_by(T.c.movement))
    found = {movement: int(n) for movement, n in rows}
    return found.get(ENTRY, 0), found.get(EXIT, 0)


# --- counted afresh from the rows --------------------------------------------------------------

def _quarter_sql(conn: Connection, column):
    """The quarter hour of ``column`` as the store keeps such times (SQLite: SQLAlchemy's text,
    ``YYYY-MM-DD HH:MM:SS.ffffff``, which compares as the times do)."""
    if conn.dialect.name == "sqlite":
        minute = cast(func.substr(column, 15, 2), Integer)
        return func.substr(column, 1, 14, type_=String).concat(func.printf("%02d", minute - minute % 15)) \
            .concat(":00.000000")
    minute = cast(func.extract("minute", column), Integer)
    return func.date_trunc(literal_column("'hour'"), column) + func.make_interval(
        literal_column("0"), literal_column("0"), literal_column("0"), literal_column("0"), literal_column("0"),
        minute - minute % literal_column("15"))


def _micros_sql(conn: Connection, a, b):
    """Microseconds from ``a`` to ``b``, exactly (SQLite: whole seconds and the text's fraction)."""
    if conn.dialect.name == "sqlite":
        def micros(t):
            return cast(func.strftime("%s", t), Integer) * 1_000_000 + cast(func.substr(t, 21, 6), Integer)
        return micros(b) - micros(a)
    return func.extract("epoch", b - a) * 1_000_000


def rebuild(conn: Connection) -> None:
    """Every rollup counted afresh from the sessions and the journal (one pass over each), into shard 0."""
    conn.execute(delete(_REVENUE))
    conn.execute(delete(_TRAFFIC))
    e4 = cast(func.round(cast(_P.c.amount, Float) * 10000), BigInteger) if conn.dialect.name == "sqlite" \
        else cast(_P.c.amount * 10000, BigInteger)
    journal = select(_P.c.facility_id, _quarter_sql(conn, _P.c.paid_at).label("quarter"), _P.c.method, _P.c.kind,
                     func.coalesce(_P.c.vehicle_type, DEFAULT_VEHICLE_TYPE).label("vehicle_type"),
                     func.coalesce(_P.c.lane_number, NO_LANE).label("lane_number"), e4.label("amount_e4")) \
        .where(_P.c.facility_id.is_not(None)).subquery()
    keys = [journal.c.facility_id, journal.c.quarter, journal.c.method, journal.c.kind, journal.c.vehicle_type,
            journal.c.lane_number]
    conn.execute(_REVENUE.insert().from_select(
        [*(k.key for k in keys), "shard", "count", "amount_e4"],
        select(*keys, literal(0), func.count(), func.sum(journal.c.amount_e4)).group_by(*keys)))
    micros = _micros_sql(conn, _S.c.entry_time, _S.c.exit_time)
    band = case(*[(micros < literal_column(str(upper * 3_600_000_000)), i)
                  for i, (_, upper) in enumerate(STAY_BANDS) if upper is not None], else_=len(STAY_BANDS) - 1)
    moves = select(_S.c.facility_id, _quarter_sql(conn, _S.c.entry_time).label("quarter"),
                   literal(ENTRY).label("movement"), literal(0).label("stay_band")).union_all(
        select(_S.c.facility_id, _quarter_sql(conn, _S.c.exit_time), literal(EXIT), band)
        .where(_S.c.exit_time.is_not(None))).subquery()
    keys = [moves.c.facility_id, moves.c.quarter, moves.c.movement, moves.c.stay_band]
    conn.execute(_TRAFFIC.insert().from_select([*(k.key for k in keys), "shard", "count"],
                                               select(*keys, literal(0), func.count()).group_by(*keys)))
