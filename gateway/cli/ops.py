"""``parkgate audit``, ``backup``, ``restore`` and ``retention``: the activity log, copies, purges."""

import sys
from datetime import datetime, timezone
from pathlib import Path

from ..domain.errors import ParkgateError


def _when(text):
    """A date or an ISO time; without a zone, UTC."""
    value = datetime.fromisoformat(text.replace("Z", "+00:00"))
    return value if value.tzinfo else value.replace(tzinfo=timezone.utc)


def register(sub):
    audit = sub.add_parser("audit", help="the activity log: list, export, verify",
                           description="Who did what, when, from where: filter, export (CSV), verify the chain.")
    audit_sub = audit.add_subparsers(dest="audit_command", required=True, metavar="ACTION")
    for name, helptext in (("list", "entries, oldest first"), ("export", "entries as CSV")):
        p = audit_sub.add_parser(name, help=helptext, description=f"The activity log's {helptext}.")
        p.add_argument("--from", dest="since", type=_when, help="from this date or time (UTC unless given)")
        p.add_argument("--until", type=_when, help="before this date or time")
        p.add_argument("--user")
        p.add_argument("--kind", choices=("QUERY", "CHANGE", "SYSTEM"))
        p.add_argument("--action", help="e.g. LookupPermit, IssuePermit, BarrierOpen")
        p.add_argument("--plate", help="entries about this plate (matched by its keyed hash)")
        if name == "list":
            p.add_argument("--after", type=int, help="entries after this id (the next page)")
            p.add_argument("--limit", type=int, default=100)
            p.set_defaults(run=cmd_audit_list)
        else:
            p.add_argument("--output", "-o", help="file to write (default: standard output)")
            p.set_defaults(run=cmd_audit_export)
    verify = audit_sub.add_parser("verify", help="check the chain; say where it breaks",
                                  description="Check every entry's hash and its link to the one before; exit 1 "
                                              "and name the first entry that does not verify.")
    verify.set_defaults(run=cmd_audit_verify)

    backup = sub.add_parser("backup", help="a consistent copy now (while serving), or the list",
                            description="Copy the database (SQLite's online backup; pg_dump on PostgreSQL) and "
                                        "the images, with checksums, into [backup] directory; keep [backup] keep.")
    backup.add_argument("--list", action="store_true", help="list the backups kept, verified")
    backup.set_defaults(run=cmd_backup)

    restore = sub.add_parser("restore", help="put a backup back (no gateway may be serving)",
                             description="Verify a backup, refuse while a gateway serves the target database, "
                                         "copy it there (--database-url, default the configured one) with its "
                                         "images, and migrate it to the current schema.")
    restore.add_argument("backup", help="a backup's name (in [backup] directory) or its folder")
    restore.add_argument("--images-dir", help="where its images go (default [storage] images_dir)")
    restore.add_argument("--force", action="store_true", help="replace a target database that has data")
    restore.set_defaults(run=cmd_restore)

    retention = sub.add_parser("retention", help="purge what is past its retention now",
                               description="Run the retention job once: images, plates, records and the "
                                           "activity log per [retention], then SQLite's maintenance.")
    retention_sub = retention.add_subparsers(dest="retention_command", required=True, metavar="ACTION")
    retention_sub.add_parser("run", help="one run now", description="One run of every purge step now."
                             ).set_defaults(run=cmd_retention_run)


def _audit(cfg):
    from ..app.audit import Audit
    from ..app.clock import utcnow
    from .admin import open_store
    return Audit(open_store(cfg), utcnow)


def _criteria(log, args):
    return log.criteria(args.since, args.until, args.user, args.kind, args.action, args.plate,
                        getattr(args, "after", None))


def cmd_audit_list(args, cfg):
    from .admin import cli_origin, operator
    log = _audit(cfg)
    try:
        with cli_origin():
            entries = log.query(_criteria(log, args), operator(), args.limit)
    except ParkgateError as e:
        print(e.message, file=sys.stderr)
        return 2
    for e in entries:
        print(f"{e.id:>8} {e.at:%Y-%m-%dT%H:%M:%SZ} {e.username:<16} {e.address or '-':<16} {e.kind:<6} "
              f"{e.action:<16} {e.subject} {e.detail or ''}".rstrip())
    if not entries:
        print("no entries")


def cmd_audit_export(args, cfg):
    from .admin import cli_origin, operator
    log = _audit(cfg)
    try:
        with cli_origin():
            data = log.export_csv(_criteria(log, args), operator())
    except ParkgateError as e:
        print(e.message, file=sys.stderr)
        return 2
    if args.output:
        Path(args.output).write_bytes(data)
        lines = data.count(b"\n") - 1
        print(f"{lines} entries written to {args.output}", file=sys.stderr)
    else:
        sys.stdout.buffer.write(data)


def cmd_audit_verify(args, cfg):
    check = _audit(cfg).verify()
    if check.verified:
        print(f"audit chain verified: {check.entries} entries (ids {check.first_id}..{check.last_id}), "
              f"{check.unchained} from before the chain began; head {check.head_hash}")
        return 0
    print(f"audit chain BROKEN at entry {check.broken_at}: {check.problem} ({check.entries} entries verified "
          f"before it)")
    return 1


def _backups(cfg):
    from ..app.backups import Backups
    from ..app.clock import utcnow
    from .admin import open_store
    return Backups(open_store(cfg), cfg.database_url, cfg.ops.backup, cfg.ops.images_dir, utcnow,
                   node=cfg.ops.node or None)


def cmd_backup(args, cfg):
    from .admin import cli_origin, operator
    backups = _backups(cfg)
    if args.list:
        for b in backups.listing():
            state = "ok" if b.verified else f"BROKEN: {b.problem}"
            print(f"{b.name:<36} {b.created_at:%Y-%m-%dT%H:%M:%SZ} {b.database:<10} {b.revision:<6} "
                  f"{b.size:>12} bytes {b.images:>6} images  {state}")
        return 0
    try:
        with cli_origin():
            made = backups.run(operator())
    except Exception as e:  # noqa: BLE001 - said plainly, exit 1
        print(f"backup failed: {e}", file=sys.stderr)
        return 1
    print(f"backup {made.name}: {made.database} at {made.revision}, {made.size} bytes, {made.images} image(s), "
          f"checksum {made.checksum}\n  {made.path}")


def cmd_restore(args, cfg):
    from ..app.backups import RestoreRefused, restore
    from ..store.backup import BackupFailed
    try:
        path = _find_backup(cfg, args.backup)
        made = restore(path, cfg.database_url, Path(args.images_dir) if args.images_dir else cfg.ops.images_dir,
                       force=args.force, keys=cfg.ops.key_ring())
    except (RestoreRefused, BackupFailed, ParkgateError) as e:
        print(f"restore refused: {getattr(e, 'message', e)}", file=sys.stderr)
        return 2
    print(f"restored {made.name} ({made.database}, made at {made.revision}) and migrated to the current schema")


def _find_backup(cfg, name):
    path = Path(name)
    if (path / "manifest.json").exists():
        return path
    path = Path(cfg.ops.backup.directory) / name
    if (path / "manifest.json").exists():
        return path
    from ..domain.errors import NotFound
    raise NotFound(f"no backup {name}", "backup")


def cmd_retention_run(args, cfg):
    from ..app.clock import utcnow
    from ..app.retention import Retention
    from .admin import cli_origin, open_store, operator
    with cli_origin():
        run = Retention(open_store(cfg), cfg.ops.retention, utcnow, cfg.ops.images_dir).run(operator())
    for name, rows in run.rows.items():
        print(f"{name:<24} {rows:>10}")
    print(f"retention run in {run.seconds:.1f} s" + (f"; failed: {run.error}" if run.error else ""))
    return 1 if run.error else 0
