"""``parkgate user``, ``hotlist`` and ``db``: the users, the plates held, the schema."""

import getpass
import secrets
import sys

from ..domain.errors import ParkgateError
from ..domain.users import ROLES


def register(sub):
    user = sub.add_parser("user", help="manage users", description="Manage the users who may call the gateway.")
    user_sub = user.add_subparsers(dest="user_command", required=True, metavar="ACTION")
    add = user_sub.add_parser("add", help="add a user or reset one's password and role",
                              description="Add a user, or reset an existing one's password and role.")
    add.add_argument("username")
    add.add_argument("--role", required=True, choices=ROLES)
    add.add_argument("--password", help="the password (default: prompt, or generate when not a terminal)")
    add.add_argument("--allow-digest", action="store_true",
                     help="allow WS-Security PasswordDigest (keeps the password itself, not only its hash)")
    add.set_defaults(run=cmd_user_add)
    users = user_sub.add_parser("list", help="the users and their roles",
                                description="The users, their roles and whether they may log in.")
    users.set_defaults(run=cmd_user_list)
    disable = user_sub.add_parser("disable", help="refuse a user from now on",
                                  description="Refuse a user's credentials from now on (`user add` enables again).")
    disable.add_argument("username")
    disable.set_defaults(run=cmd_user_disable)
    unlock = user_sub.add_parser("unlock", help="clear a user's failed logins and lock",
                                 description="Clear the failed logins in a row that locked a user's account.")
    unlock.add_argument("username")
    unlock.set_defaults(run=cmd_user_unlock)

    hotlist = sub.add_parser("hotlist", help="plates to hold at the barrier",
                             description="Plates held at every barrier (or one facility's).")
    hot_sub = hotlist.add_subparsers(dest="hotlist_command", required=True, metavar="ACTION")
    hot_add = hot_sub.add_parser("add", help="hold a plate", description="Hold a plate at the barriers.")
    hot_add.add_argument("plate")
    hot_add.add_argument("--reason", required=True)
    hot_add.add_argument("--facility", help="only in this facility")
    hot_add.add_argument("--category", default="banned", choices=("stolen", "wanted", "banned", "watch"),
                         help="stolen and banned are held; wanted and watch pass with a security event")
    hot_add.add_argument("--source", help="who listed it (a police feed, an operator)")
    hot_add.add_argument("--expires", type=_instant, help="until when (ISO 8601 with a zone; default: until removed)")
    hot_add.set_defaults(run=cmd_hotlist_add)
    hot_rm = hot_sub.add_parser("remove", help="release a plate", description="Remove a plate from the hotlist.")
    hot_rm.add_argument("plate")
    hot_rm.add_argument("--category", choices=("stolen", "wanted", "banned", "watch"), help="only this category")
    hot_rm.set_defaults(run=cmd_hotlist_remove)
    hot_list = hot_sub.add_parser("list", help="the plates held", description="The plates held, where and why.")
    hot_list.add_argument("--include-expired", action="store_true", help="also the entries past their expiry")
    hot_list.set_defaults(run=cmd_hotlist_list)
    hot_import = hot_sub.add_parser("import", help="import a hotlist feed (CSV or XML)",
                                    description="Import a feed (a file, or a URL within [hotlist_feed] "
                                                "allowed_sources): new plates are listed, the source's plates "
                                                "the feed no longer carries are removed, bad rows are reported.")
    hot_import.add_argument("location", metavar="FILE|URL")
    hot_import.add_argument("--source", help="the feed's name (default: [hotlist_feed] source)")
    hot_import.set_defaults(run=cmd_hotlist_import)

    db = sub.add_parser("db", help="database maintenance", description="Database maintenance.")
    db_sub = db.add_subparsers(dest="db_command", required=True, metavar="ACTION")
    upgrade = db_sub.add_parser("upgrade", help="apply schema migrations",
                                description="Create or upgrade the schema (Alembic), keeping data.")
    upgrade.set_defaults(run=cmd_db_upgrade)


def open_store(cfg, **options):
    """The configured database, upgraded to the latest schema (and the audit key installed)."""
    from ..store import audit
    from ..store.engine import Store
    from ..store.migrate import upgrade
    keys = cfg.ops.key_ring()
    upgrade(cfg.database_url, keys=keys)
    audit.use_keys(audit.load_key(cfg.ops.audit_key_file))
    return Store(cfg.database_url, keys=keys, **options)


def operator():
    """Who runs a command, as the activity log names them: ``cli:<login>``."""
    return f"cli:{getpass.getuser()}"


def cli_origin():
    """Entries a command records come from this host's command line."""
    import socket

    from ..app.audit import origin
    return origin(f"cli@{socket.gethostname()}"[:64])


def cmd_user_add(args, cfg):
    from ..app.auth import Users
    password = args.password
    if password is None:
        if sys.stdin.isatty():
            password = getpass.getpass(f"password for {args.username}: ")
        else:
            password = secrets.token_urlsafe(16)
            print(f"generated password: {password}")
    with cli_origin():
        try:
            Users(open_store(cfg), passwords=cfg.passwords).add(args.username, password, args.role,
                                                                allow_digest=args.allow_digest, by=operator())
        except ParkgateError as e:
            print(e.message, file=sys.stderr)
            return 2
    print(f"user {args.username} ({args.role}) saved")


def cmd_user_list(args, cfg):
    from ..app.auth import Users
    users = Users(open_store(cfg)).listing()
    for user in users:
        flags = ", ".join(flag for flag, on in (("disabled", user.disabled), ("demo", user.demo),
                                                  ("digest", user.digest_secret is not None)) if on)
        if user.locked_until is not None:  # until the next login that succeeds, or `user unlock`
            flags += f"{', ' if flags else ''}locked until {user.locked_until:%Y-%m-%d %H:%M} UTC"
        if user.failed_logins:
            flags += f"{', ' if flags else ''}{user.failed_logins} failed logins in a row"
        print(f"{user.username:<24} {user.role:<12} {flags}".rstrip())
    if not users:
        print("no users (add one: parkgate user add NAME --role ROLE)")


def cmd_user_disable(args, cfg):
    return _change_user(args, cfg, "disable", "disabled")


def cmd_user_unlock(args, cfg):
    return _change_user(args, cfg, "unlock", "unlocked")


def _change_user(args, cfg, change, done):
    """``Users.<change>`` of ``args.username`` by the person at the terminal, audited as theirs."""
    from ..app.auth import Users
    try:
        with cli_origin():
            getattr(Users(open_store(cfg)), change)(args.username, by=operator())
    except ParkgateError as e:
        print(e.message, file=sys.stderr)
        return 2
    print(f"user {args.username} {done}")


def _hotlist(cfg):
    from ..app.hotlist import Hotlist
    return Hotlist(cfg.facilities, open_store(cfg))


def _instant(text):
    import argparse
    from datetime import datetime
    try:
        when = datetime.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not an ISO 8601 time: {text!r}") from None
    if when.tzinfo is None:
        raise argparse.ArgumentTypeError("give the time with its zone (e.g. 2025-06-30T00:00Z)")
    return when


def cmd_hotlist_import(args, cfg):
    from ..app.clock import utcnow
    from ..app.hotlist_feed import HotlistFeeds
    feeds = HotlistFeeds(facilities=cfg.facilities, store=open_store(cfg), clock=utcnow, settings=cfg.hotlist_feed)
    try:
        with cli_origin():
            result = feeds.import_feed(args.location, args.source, username=operator())
    except ParkgateError as e:
        print(e.message, file=sys.stderr)
        return 2
    print(f"{result.source}: {result.added} added, {result.kept} kept, {result.removed} removed, "
          f"{result.expired} already expired, {len(result.rejected)} rejected")
    for why in result.rejected:
        print(f"  rejected {why}")
    return 1 if result.rejected else 0


def cmd_hotlist_add(args, cfg):
    try:
        with cli_origin():
            _hotlist(cfg).add(args.plate, args.reason, args.facility, args.category, args.source, args.expires,
                              username=operator())
    except ParkgateError as e:
        print(e.message, file=sys.stderr)
        return 2
    print("plate added to the hotlist")


def cmd_hotlist_remove(args, cfg):
    with cli_origin():
        n = _hotlist(cfg).remove(args.plate, args.category, username=operator())
    print(f"{n} hotlist entr{'y' if n == 1 else 'ies'} removed")


def cmd_hotlist_list(args, cfg):
    with cli_origin():
        entries = _hotlist(cfg).listing(include_expired=args.include_expired, username=operator())
    for entry in entries:
        until = f"until {entry.expires_at:%Y-%m-%d %H:%M}Z" if entry.expires_at else "until removed"
        print(f"{entry.plate:<12} {entry.category:<7} {entry.facility_id or 'every facility':<20} "
              f"{entry.added_at:%Y-%m-%d} {until:<24} {entry.reason}")
    if not entries:
        print("the hotlist is empty")


def cmd_db_upgrade(args, cfg):
    from ..store.migrate import upgrade
    upgrade(cfg.database_url, keys=cfg.ops.key_ring())
    print("database is at the latest schema")
