"""CitationService: issue citations by the facility's rules."""

from spyne import ServiceBase

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
