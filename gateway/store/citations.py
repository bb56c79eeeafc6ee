"""Citations as issued."""

from dataclasses import asdict

from sqlalchemy import Connection

from ..domain.citations import Citation
from .schema import CitationRecord, table_of

_CITATIONS = table_of(CitationRecord)


def insert(conn: Connection, citation: Citation) -> None:
    conn.execute(_CITATIONS.insert(), asdict(citation))
