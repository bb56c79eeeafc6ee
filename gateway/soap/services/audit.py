"""AuditService: the activity log filtered, exported (CSV) and verified; for admins."""

from spyne import Boolean, DateTime, Integer32, Integer64, ServiceBase

from .. import types as t
from .common import caller, operation, use_cases

FILTERS = (t.opt(DateTime), t.opt(DateTime), t.opt(t.ShortText), t.opt(t.AuditKind), t.opt(t.ShortText),
           t.opt(t.ShortText))


def _criteria(ctx, From, Until, User, Kind, Action, Plate, AfterID=None):
    return use_cases(ctx).audit.criteria(From, Until, User, None if Kind is None else str(Kind), Action, Plate,
                                         AfterID)


def audit_entry(e):
    return t.AuditEntry(EntryID=e.id, At=e.at, User=e.username, Address=e.address, Kind=e.kind, Action=e.action,
                        Subject=e.subject, Detail=e.detail, PlateHash=e.plate_hash, Hash=e.entry_hash)


class AuditService(ServiceBase):
    @operation(*FILTERS, t.opt(Integer64), t.opt(Integer32), roles=("admin",), returns=t.many(t.AuditEntry),
               names="Entry")
    def QueryAudit(ctx, From, Until, User, Kind, Action, Plate, AfterID, Limit):
        """Entries oldest first, at most Limit (100); the next page: AfterID = the last EntryID."""
        f = _criteria(ctx, From, Until, User, Kind, Action, Plate, AfterID)
        return [audit_entry(e) for e in use_cases(ctx).audit.query(f, caller(ctx), Limit or 100)]

    @operation(*FILTERS, roles=("admin",), returns=t.req(t.AuditExport), names="Export")
    def ExportAudit(ctx, From, Until, User, Kind, Action, Plate):
        """Every matching entry as CSV."""
        content = use_cases(ctx).audit.export_csv(_criteria(ctx, From, Until, User, Kind, Action, Plate),
                                                  caller(ctx))
        return t.AuditExport(FileName="audit.csv", MediaType="text/csv; charset=utf-8", Content=[content])

    @operation(t.opt(Boolean), roles=("admin",), returns=t.req(t.AuditVerification), names="Verification")
    def VerifyAudit(ctx, SinceLastCheck):
        """The chain from its first kept entry to its head (SinceLastCheck: only what was added since
        the last check that passed); where it breaks, if it does."""
        c = use_cases(ctx).audit.verify(incremental=bool(SinceLastCheck))
        return t.AuditVerification(Verified=c.verified, Entries=c.entries, Unchained=c.unchained,
                                   FirstEntryID=c.first_id, LastEntryID=c.last_id, HeadHash=c.head_hash,
                                   BrokenAt=c.broken_at, Problem=c.problem)
