"""``parkgate outbox``: what the relays owe their destinations; retry and purge."""

from datetime import timedelta


def register(sub):
    outbox = sub.add_parser("outbox", help="relay outbox: status, list, retry, purge",
                            description="What the relays owe their destinations.")
    out_sub = outbox.add_subparsers(dest="outbox_command", required=True, metavar="ACTION")
    out_sub.add_parser("status", help="per destination: pending, oldest, delivered, skipped, dead, node, error",
                       description="Per destination: pending, oldest pending age, delivered, skipped (left out "
                                   "by its profile), dead, the node delivering it now (the holder of its lease), "
                                   "last error."
                       ).set_defaults(run=cmd_outbox_status)
    out_list = out_sub.add_parser("list", help="messages, oldest first", description="List outbox messages.")
    out_list.add_argument("--destination")
    out_list.add_argument("--state", choices=("PENDING", "DELIVERED", "SKIPPED", "DEAD"))
    out_list.add_argument("--limit", type=int, default=50)
    out_list.set_defaults(run=cmd_outbox_list)
    out_retry = out_sub.add_parser("retry", help="dead messages back to pending",
                                   description="Make dead messages pending again (after fixing the cause).")
    out_retry.add_argument("--destination")
    out_retry.add_argument("ids", nargs="*", type=int)
    out_retry.set_defaults(run=cmd_outbox_retry)
    out_purge = out_sub.add_parser("purge", help="delete old delivered (and dead) messages",
                                   description="Delete delivered and skipped messages older than N days.")
    out_purge.add_argument("--older-than-days", type=float, required=True)
    out_purge.add_argument("--dead", action="store_true", help="dead messages too")
    out_purge.set_defaults(run=cmd_outbox_purge)


def _outbox(cfg):
    from ..app.clock import utcnow
    from ..service import outbox
    from .admin import open_store
    return outbox(open_store(cfg), cfg, utcnow)


def cmd_outbox_status(args, cfg):
    report = _outbox(cfg).status()
    print(f"{'destination':<20} {'kind':<8} {'pending':>8} {'oldest':>10} {'delivered':>10} {'skipped':>8} "
          f"{'dead':>6}  {'node':<24} last error")
    for name, s in report.items():
        oldest = f"{int(s['oldest_pending_age'].total_seconds())}s" if s["oldest_pending_age"] is not None else "-"
        print(f"{name:<20} {s['destination'].kind:<8} {s['pending']:>8} {oldest:>10} {s['delivered']:>10} "
              f"{s['skipped']:>8} {s['dead']:>6}  {s['node'] or '-':<24} {s['last_error'] or ''}")
    if not report:
        print("no relays configured")


def cmd_outbox_list(args, cfg):
    for row in _outbox(cfg).list(args.destination, args.state, args.limit):
        print(f"{row.id:>8} {row.destination:<16} {row.kind:<12} {row.state:<9} attempts={row.attempts:<3} "
              f"created={row.created_at:%Y-%m-%dT%H:%M:%SZ} key={row.key} {row.last_error or ''}")


def cmd_outbox_retry(args, cfg):
    print(f"{_outbox(cfg).retry(args.destination, args.ids)} message(s) pending again")


def cmd_outbox_purge(args, cfg):
    print(f"{_outbox(cfg).purge(timedelta(days=args.older_than_days), dead=args.dead)} message(s) deleted")
