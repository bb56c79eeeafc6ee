"""The violation scan: each facility's open sessions checked on a schedule, violations cited once.

Once per session and violation, whatever runs the scan (the schedule, `parkgate enforce scan`,
ScanViolations) and however many nodes share the database: the citations table keeps the pair
unique, so a second finding of it is refused at its insert and counted as ALREADY_CITED. The
schedule also takes a lease per facility, so that one node does the work while it lives.
"""

import logging
from collections.abc import Mapping
from dataclasses import dataclass, replace
from decimal import Decimal

from sqlalchemy.exc import IntegrityError

from ..contract import documents
from ..domain.citations import ISSUED, Citation, terms
from ..domain.enforcement import Finding, findings
from ..domain.facility import Facility, find_facility
from ..domain.permits import judge
from ..store import audit, citations, events, leases, permits, sessions
from ..store.engine import Store
from .citations import Citations
from .clock import Clock, new_id
from .fees import schedule_of
from .tariffs import Tariffs

log = logging.getLogger("parkgate")

CITED, WOULD_CITE, ALREADY_CITED, NO_RULE = "CITED", "WOULD_CITE", "ALREADY_CITED", "NO_RULE"
#: Who the scan's citations say issued them.
SCANNER = "enforcement-scan"


@dataclass(frozen=True, slots=True)
class ScanItem:
    """One violation found, and what the scan did about it."""
    facility_id: str
    session_id: str
    plate: str
    violation: str
    why: str
    outcome: str                     # CITED, WOULD_CITE (a dry run), ALREADY_CITED, NO_RULE (no fine configured)
    fine: Decimal | None = None
    currency: str | None = None
    citation_id: str | None = None


class Enforcement:
    def __init__(self, facilities: Mapping[str, Facility], store: Store, citations_: Citations, clock: Clock,
                 node: str = "local", tariffs: Tariffs | None = None) -> None:
        """``tariffs``: the versions set since start (None: as configured), which price an unpaid stay."""
        self.facilities = facilities
        self.tariffs = tariffs
        self.store = store
        self.citations = citations_
        self.clock = clock
        self.node = node

    def scan(self, facility_id: str, dry_run: bool = False, username: str = SCANNER) -> list[ScanItem]:
        """Check the facility's open sessions now; cite what is found (unless ``dry_run``)."""
        fac = find_facility(self.facilities, facility_id)
        now = self.clock()
        with self.store.connection() as conn:
            open_now = sessions.open_in(conn, fac.id)
            schedule = schedule_of(self.tariffs, fac, conn)
            found = [f for s in open_now
                     for f in findings(s, judge(permits.of_plate_here(conn, s.plate, fac.id), fac.timezone, now),
                                       fac, fac.enforcement, now, schedule)]
            done = citations.cited(conn, [f.session.id for f in found])
            audit.record(conn, now, username, "EnforcementScan", fac.id,
                         f"{'dry run, ' if dry_run else ''}{len(open_now)} open, {len(found)} violations",
                         kind="QUERY" if dry_run else "SYSTEM" if username == SCANNER else "CHANGE",
                         plates=[f.session.plate for f in found])
        items = []
        for finding in found:
            items.append(self._handle(fac, finding, (finding.session.id, finding.violation) in done, dry_run))
        return items

    def _handle(self, fac: Facility, f: Finding, done: bool, dry_run: bool) -> ScanItem:
        item = ScanItem(fac.id, f.session.id, f.session.plate, f.violation, f.why, NO_RULE)
        rule = fac.citation_rules.get(f.violation)
        if rule is None:
            return item
        item = replace(item, outcome=ALREADY_CITED, fine=rule.fine, currency=fac.currency)
        if done:
            return item
        if dry_run:
            return replace(item, outcome=WOULD_CITE)
        now = self.clock()
        fine, due = terms(fac, f.violation, now)
        try:
            with self.store.connection() as conn:
                entry = events.by_id(conn, f.session.entry_event_id)
                original, clip = documents.images(documents.parse(entry.document)) if entry else (None, None)
                citation = Citation(
                    id=new_id("CIT", now), issued_at=now, facility_id=fac.id, violation=f.violation,
                    plate=f.session.plate, jurisdiction=f.session.jurisdiction, location=f.session.space_assigned,
                    fine=fine, currency=fac.currency, due_date=due, evidence_url=original, note=f.why,
                    issued_by=SCANNER, status=ISSUED, session_id=f.session.id, plate_clip_url=clip)
                _document, owed = self.citations.write(conn, citation)
        except IntegrityError:  # cited meanwhile, by another scan or another node
            return item
        self.citations.relaying.wake(owed)
        return replace(item, outcome=CITED, citation_id=citation.id)

    def scheduled(self, facility_id: str) -> list[ScanItem] | None:
        """The schedule's scan: on the node holding the facility's scan lease (None elsewhere)."""
        fac = find_facility(self.facilities, facility_id)
        hold = (fac.enforcement.interval * 1.5).total_seconds()
        if leases.claim(self.store, f"enforcement:{fac.id}", self.node, self.clock(), hold) is None:
            return None
        items = self.scan(fac.id)
        cited = sum(item.outcome == CITED for item in items)
        if cited:
            log.info("enforcement: %d citation(s) issued in %s", cited, fac.id)
        return items

