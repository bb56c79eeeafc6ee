"""Citations as issued."""

from dataclasses import asdict

from sqlalchemy import Connection, select

from ..domain.citations import Citation
from .schema import CitationRecord, table_of

_CITATIONS = table_of(CitationRecord)


def insert(conn: Connection, citation: Citation) -> None:
    conn.execute(_CITATIONS.insert(), asdict(citation))


def cited(conn: Connection, session_ids: list[str]) -> set[tuple[str, str]]:
    """Which (session, violation) pairs among these sessions are cited already."""
    if not session_ids:
        return set()
    C = _CITATIONS
    rows = conn.execute(select(C.c.session_id, C.c.violation).where(C.c.session_id.in_(session_ids)))
    return {(row.session_id, row.violation) for row in rows}
