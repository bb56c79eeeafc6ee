"""Citations as issued."""

from dataclasses import asdict

from sqlalchemy import Connection

from ..domain.citations import Citation
from .schema import CitationRecord

_CITATIONS = CitationRecord.__table__


def insert(conn: Connection, citation: Citation) -> None:
    conn.execute(_CITATIONS.insert(), asdict(citation))
