"""PermitService: look up, issue, revoke and list permits."""

from spyne import Date, DateTime, Integer32, ServiceBase

from ...contract import documents
from .. import faults as f
from .. import types as t
from .common import ALL_ROLES, caller, operation, use_cases


class PermitService(ServiceBase):
    @operation(t.req(t.ShortText), t.req(t.Identifier), t.opt(DateTime), roles=ALL_ROLES,
               returns=(t.req(t.AuthorizationStatus), t.opt(t.Permit)), names=("Status", "Permit"),
               throws=(f.UnknownFacilityFault, f.InvalidTimeFault))
    def LookupPermit(ctx, Plate, FacilityID, At):
        standing = use_cases(ctx).permits.lookup(Plate, FacilityID, At, username=caller(ctx))
        return standing.status, documents.permit(standing.permit) if standing.permit else None

    @operation(t.req(t.ShortText), t.req(t.PermitType), t.req(Date), t.req(Date), t.opt(t.Identifier),
               t.opt(t.Identifier), roles=("admin", "operator"), returns=t.req(t.Permit), names="Permit",
               throws=(f.UnknownFacilityFault, f.InvalidTimeFault, f.ConflictFault))
    def IssuePermit(ctx, Plate, PermitType, ValidFrom, ValidUntil, FacilityID, PermitNumber):
        return use_cases(ctx).permits.issue(Plate, str(PermitType), ValidFrom, ValidUntil, caller(ctx),
                                            facility_id=FacilityID, permit_number=PermitNumber)

    @operation(t.req(t.Identifier), roles=("admin", "operator"), returns=t.req(t.PermitPass), names="PermitPass",
               throws=(f.NotFoundFault, f.ConflictFault))
    def GetPermitPass(ctx, PermitNumber):
        """The pass of an issued permit: a signed token (checked offline with `parkgate permit verify`,
        or scanned at a lane) and its QR code."""
        p = use_cases(ctx).permit_passes.pass_of(PermitNumber, caller(ctx))
        return t.PermitPass(PermitNumber=p.permit.permit_number, Token=p.token, MediaType="image/png",
                            QRCode=[p.qr_png])

    @operation(t.req(t.Identifier), t.req(t.LongText), roles=("admin", "operator"), returns=t.req(t.Permit),
               names="Permit", throws=(f.NotFoundFault, f.ConflictFault))
    def RevokePermit(ctx, PermitNumber, Reason):
        return use_cases(ctx).permits.revoke(PermitNumber, Reason, caller(ctx))

    @operation(t.opt(t.ShortText), t.opt(t.Identifier), roles=ALL_ROLES, returns=t.many(t.Permit),
               names="Permit", throws=(f.UnknownFacilityFault,))
    def ListPermits(ctx, Plate, FacilityID):
        return [documents.permit(p) for p in use_cases(ctx).permits.listing(Plate, FacilityID, username=caller(ctx))]

    @operation(t.req(t.Identifier), t.req(Integer32), t.req(t.ShortText), t.opt(t.Direction), t.opt(DateTime),
               roles=("admin", "operator", "integrator"),
               returns=(t.req(t.AccessDecision), t.req(t.ShortText), t.req(t.AuthorizationStatus), t.opt(t.Permit)),
               names=("Decision", "Reason", "Status", "Permit"),
               throws=(f.UnknownFacilityFault, f.UnknownLaneFault, f.InvalidTimeFault))
    def AuthorizePlate(ctx, FacilityID, LaneNumber, Plate, Direction, At):
        """May the plate pass the lane now? GRANTED or DECLINED with the reason; no session is opened
        (a PARCS driving its own barriers asks this)."""
        answer = use_cases(ctx).authorizations.authorize(FacilityID, LaneNumber, Plate, caller(ctx),
                                                         None if Direction is None else str(Direction), At)
        permit = answer.standing.permit
        return answer.decision, answer.reason, answer.standing.status, documents.permit(permit) if permit else None
