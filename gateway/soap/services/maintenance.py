"""MaintenanceService: backups now and listed, the retention job now, erasure by plate; for admins
(the console's Backup page calls the same use cases)."""

from decimal import Decimal

from spyne import Boolean, ServiceBase

from .. import faults as f
from .. import types as t
from .common import caller, operation, use_cases


def backup_info(b):
    return t.BackupInfo(Name=b.name, CreatedAt=b.created_at, Database=b.database, SchemaRevision=b.revision,
                        SizeBytes=b.size, Images=b.images, Checksum=b.checksum, Verified=b.verified, Node=b.node)


class MaintenanceService(ServiceBase):
    @operation(roles=("admin",), returns=t.req(t.BackupInfo), names="Backup", throws=(f.ConflictFault,))
    def RunBackup(ctx):
        """A consistent copy now, while serving: the database, the images, a checksum."""
        return backup_info(use_cases(ctx).backups.run(caller(ctx)))

    @operation(roles=("admin",), returns=t.many(t.BackupInfo), names="Backup")
    def ListBackups(ctx):
        """The backups kept, newest first, each checked against its checksums."""
        return [backup_info(b) for b in use_cases(ctx).backups.listing()]

    @operation(t.opt(Boolean), roles=("admin",), returns=t.req(t.RetentionRun), names="Run")
    def RunRetention(ctx, Wait):
        """Start the retention job now (Wait: and answer once it has run)."""
        run = use_cases(ctx).retention.start(caller(ctx), wait=bool(Wait))
        if run is None:
            return t.RetentionRun(Started=False)
        return t.RetentionRun(
            Started=True, StartedAt=run.started_at,
            Seconds=None if run.seconds is None else Decimal(f"{run.seconds:.3f}"),
            Step=[t.RetentionStep(Step=name, Rows=rows) for name, rows in run.rows.items()], Error=run.error)

    @operation(t.req(t.ShortText), roles=("admin",), returns=t.req(t.Erasure), names="Erasure")
    def ErasePlate(ctx, Plate):
        """Every record of the plate removed or anonymised, but what a legal hold keeps (GDPR, CCPA)."""
        done = use_cases(ctx).erasure.erase(Plate, caller(ctx))
        return t.Erasure(Step=[t.ErasureStep(Table=name, Erased=n, Held=done.held.get(name, 0))
                               for name, n in done.erased.items()])
