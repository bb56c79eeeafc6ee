"""Counted rows in shards (issue 19): one row per database connection, not one per key.

A row counted by every lane event (an hour's occupancy, a quarter's traffic, a zone's hour) is
one lock every event of a facility waits on, turn by turn through each other's commits, when
lane events run side by side (PostgreSQL, several nodes). With the connection's shard in the
row's key, no two units of work ever write one row (a connection runs one at a time); readers
add the shards of a key together.
"""

from sqlalchemy import Connection, text

_SHARD = "parkgate_shard"   # kept in the pooled connection's info: asked once per connection


def shard_of(conn: Connection) -> int:
    """This connection's shard: its PostgreSQL backend's pid (unique among the connections open at
    once, every node's); 0 on SQLite (one writer at a time)."""
    if conn.dialect.name == "sqlite":
        return 0
    info = conn.connection.info
    shard = info.get(_SHARD)
    if shard is None:
        shard = info[_SHARD] = conn.execute(text("SELECT pg_backend_pid()")).scalar_one()
    return shard
