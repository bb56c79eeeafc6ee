"""CitationService: issue citations by the facility's rules."""

from spyne import Boolean, ServiceBase

from ...contract import documents
from .. import faults as f
from .. import types as t
from .common import caller, operation, use_cases


class CitationService(ServiceBase):
    @operation(t.req(t.Identifier), t.req(t.ShortText), t.req(t.ViolationType), t.opt(t.ShortText),
               t.opt(t.URL), t.opt(t.LongText), t.opt(t.ShortText),
               roles=("admin", "operator", "enforcement"), returns=t.req(t.Citation), names="Citation",
               throws=(f.UnknownFacilityFault,))
    def IssueCitation(ctx, FacilityID, Plate, ViolationType, Location, EvidenceURL, Note, Jurisdiction):
        return use_cases(ctx).citations.issue(
            FacilityID, Plate, ViolationType, caller(ctx), location=Location, evidence_url=EvidenceURL,
            note=Note, jurisdiction=Jurisdiction)

    @operation(t.req(t.Identifier), t.opt(Boolean), roles=("admin", "operator", "enforcement"),
               returns=t.many(t.ViolationFound), names="Violation", throws=(f.UnknownFacilityFault,))
    def ScanViolations(ctx, FacilityID, DryRun):
        """The violation scan now: each violation of an open session, cited once (DryRun: only shown)."""
        return [t.ViolationFound(FacilityID=i.facility_id, SessionID=i.session_id, Plate=i.plate,
                                 ViolationType=i.violation, Reason=i.why, Outcome=i.outcome,
                                 Fine=documents.money("Fine", i.fine, i.currency), CitationID=i.citation_id)
                for i in use_cases(ctx).enforcement.scan(FacilityID, dry_run=bool(DryRun), username=caller(ctx))]
