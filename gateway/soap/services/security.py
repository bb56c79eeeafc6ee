"""SecurityService: the hotlist, managed and listed (issue 17). Reads of listed plates raise
SecurityEvent documents, relayed to the destinations that ask for them (a VMS)."""

from spyne import Boolean, DateTime, Integer32, ServiceBase

from .. import faults as f
from .. import types as t
from .common import caller, operation, use_cases


def _entry(e):
    return t.HotlistEntry(EntryID=e.id, Plate=e.plate, Category=e.category, FacilityID=e.facility_id,
                          Reason=e.reason, Source=e.source, AddedAt=e.added_at, ExpiresAt=e.expires_at)


class SecurityService(ServiceBase):
    @operation(t.req(t.HotlistAction), t.req(t.ShortText), t.opt(t.HotlistCategory), t.opt(t.LongText),
               t.opt(t.Identifier), t.opt(t.ShortText), t.opt(DateTime), roles=("admin", "operator"),
               returns=(t.opt(t.HotlistEntry), t.req(Integer32)), names=("Entry", "Removed"),
               throws=(f.UnknownFacilityFault, f.InvalidTimeFault))
    def ManageHotlist(ctx, Action, Plate, Category, Reason, FacilityID, Source, ExpiresAt):
        """ADD an entry (Reason required; Category default banned), or REMOVE the plate's entries
        (of Category, or all)."""
        hotlist = use_cases(ctx).hotlist
        category = None if Category is None else str(Category)
        if str(Action) == "REMOVE":
            return None, hotlist.remove(Plate, category, username=caller(ctx))
        if not Reason:
            raise f.InvalidInputFault("ADD needs a Reason", "Reason")
        entry = hotlist.add(Plate, Reason, FacilityID, category or "banned", Source, ExpiresAt, username=caller(ctx))
        return _entry(entry), 0

    @operation(t.opt(t.Identifier), t.opt(t.HotlistCategory), t.opt(Boolean),
               roles=("admin", "operator", "enforcement"), returns=t.many(t.HotlistEntry), names="Entry",
               throws=(f.UnknownFacilityFault,))
    def ListHotlist(ctx, FacilityID, Category, IncludeExpired):
        return [_entry(e) for e in use_cases(ctx).hotlist.listing(
            FacilityID, None if Category is None else str(Category), bool(IncludeExpired), username=caller(ctx))]
