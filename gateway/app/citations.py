"""Citations: fine and due date from the facility's rules; each is owed to the relays."""

from collections.abc import Mapping, Sequence
from typing import Any

from sqlalchemy import Connection

from ..contract import documents
from ..domain.citations import ISSUED, Citation, terms
from ..domain.facility import Facility, find_facility
from ..domain.plates import normalise_plate
from ..store import audit, citations
from ..store.engine import Store
from .clock import Clock, new_id
from .relaying import Relaying


class Citations:
    def __init__(self, facilities: Mapping[str, Facility], store: Store, relaying: Relaying, clock: Clock) -> None:
        self.facilities = facilities
        self.store = store
        self.relaying = relaying
        self.clock = clock

    def issue(self, facility_id: str, plate: str, violation: str, username: str, location: str | None = None,
              evidence_url: str | None = None, note: str | None = None, jurisdiction: str | None = None) -> Any:
        """The Citation document of the citation issued."""
        fac = find_facility(self.facilities, facility_id)
        plate = normalise_plate(plate, "Plate")
        now = self.clock()
        fine, due = terms(fac, violation, now)
        citation = Citation(id=new_id("CIT", now), issued_at=now, facility_id=fac.id, violation=violation, plate=plate,
                            jurisdiction=jurisdiction, location=location, fine=fine, currency=fac.currency,
                            due_date=due, evidence_url=evidence_url, note=note, issued_by=username, status=ISSUED)
        with self.store.connection() as conn:
            document, owed = self.write(conn, citation)
        self.relaying.wake(owed)
        return document

    def write(self, conn: Connection, citation: Citation) -> tuple[Any, Sequence[str]]:
        """Record ``citation`` on ``conn``, audited and owed to the relays: (its document, the relays owed).
        A second citation of one session for one violation fails here (``IntegrityError``)."""
        document = documents.citation(citation)
        citations.insert(conn, citation)
        audit.record(conn, citation.issued_at, citation.issued_by, "IssueCitation", citation.id, citation.violation,
                     plate=citation.plate)
        owed = self.relaying.owe(conn, "Citation", citation.id, citation.facility_id, documents.serialize(document))
        return document, owed
