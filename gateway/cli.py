"""``parkgate``: serve, publish the WSDLs, manage users, the hotlist and the database."""

import argparse
import getpass
import logging
import secrets
import sys
from datetime import datetime, timezone

from recognition import PRECISIONS, READERS

from . import config as configuration

WSDL_DIR = configuration.REPO_ROOT / "wsdl"


def main(argv=None):
    parser = argparse.ArgumentParser(prog="parkgate", description="SOAP/XML integration gateway for parking.")
    parser.add_argument("--config", "-c", default=None,
                        help=f"TOML configuration (default: {configuration.DEFAULT_CONFIG.name} in the repository)")
    parser.add_argument("--database-url", help="override [database] url")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    serve = sub.add_parser("serve", help="run the gateway", description="Run the gateway until interrupted.")
    serve.add_argument("--listen", help="HOST:PORT to listen on (default from the configuration)")
    serve.add_argument("--public-url", help="base URL written into the WSDLs")
    serve.set_defaults(run=cmd_serve)

    relay = sub.add_parser("relay", help="run the relay workers (started by serve)",
                           description="Deliver the outbox to the configured destinations. `parkgate serve` "
                                       "runs this as its child process; it stops when its standard input closes.")
    relay.set_defaults(run=cmd_relay)

    recognize = sub.add_parser("recognize", help="read the plates in images",
                               description="Read the plate in each image file and print the reading.")
    recognize.add_argument("images", nargs="+", metavar="IMAGE")
    recognize.add_argument("--region", action="append", choices=("US", "EU", "UK", "BR"),
                           help="plate formats to admit (repeatable; default: all)")
    fmt = recognize.add_mutually_exclusive_group()
    fmt.add_argument("--json", action="store_true", help="one JSON object per image per line")
    fmt.add_argument("--xml", action="store_true", help="the LicensePlate element of a ParkingEvent")
    recognize.add_argument("--clips", metavar="DIR", help="write each plate's clip there as NAME.plate.jpg")
    recognize.add_argument("--precision", choices=PRECISIONS,
                           help="how the networks compute (default: recognition.precision in the config, f32)")
    recognize.add_argument("--reader", choices=READERS, default=READERS[0],
                           help="plate: the plate recogniser, calibrated (default); ppocr: the generic one")
    recognize.set_defaults(run=cmd_recognize)

    bench_alpr = sub.add_parser("bench-alpr", help="recognition accuracy and speed on labelled folders",
                                description="For each folder in the dataset format (NAME.jpg + NAME.txt: "
                                            "'NAME.jpg x y w h PLATE'): exact match, match within candidates, "
                                            "plate detection rate, precision and coverage at confidence "
                                            "thresholds, latency p50/p95.")
    bench_alpr.add_argument("folders", nargs="+", metavar="DIR")
    bench_alpr.add_argument("--reader", choices=READERS, action="append",
                            help="the reader (repeatable: side by side in one run; default plate)")
    bench_alpr.add_argument("--region", action="append", choices=("US", "EU", "UK", "BR"),
                            help="plate formats to admit (repeatable; default: all), as a facility would set")
    bench_alpr.add_argument("--precision", choices=PRECISIONS,
                            help="how the networks compute (default: recognition.precision in the config, f32)")
    bench_alpr.set_defaults(run=cmd_bench_alpr)

    sim = sub.add_parser("plc-sim", help="simulate barrier PLCs (Modbus TCP)",
                         description="Serve N simulated barrier PLCs (unit ids 1..N) over Modbus TCP. "
                                     "Type 'pass N', 'arrive N', 'leave N', 'fault N on|off' or 'status' "
                                     "on standard input to script vehicles.")
    sim.add_argument("--listen", default="127.0.0.1:5020", help="HOST:PORT (default 127.0.0.1:5020)")
    sim.add_argument("--lanes", type=int, help="how many barriers (default: the lanes with a PLC in the configuration)")
    sim.add_argument("--rise-ms", type=int, default=1500, help="arm travel time up")
    sim.add_argument("--fall-ms", type=int, default=1500, help="arm travel time down")
    sim.add_argument("--heartbeat-timeout-s", type=float, default=10.0,
                     help="fall back to local mode when the gateway's heartbeat stops this long (0: never)")
    sim.add_argument("--auto-pass-s", type=float, default=None,
                     help="after the arm is up, a simulated vehicle drives through after this many seconds")
    sim.set_defaults(run=cmd_plc_sim)

    wsdl = sub.add_parser("wsdl", help="print, write or check the WSDLs",
                          description="Build the WSDLs exactly as served (address from the configuration).")
    group = wsdl.add_mutually_exclusive_group()
    group.add_argument("--write", action="store_true", help=f"regenerate {WSDL_DIR.name}/")
    group.add_argument("--check", action="store_true", help=f"exit 1 if {WSDL_DIR.name}/ is out of date")
    wsdl.set_defaults(run=cmd_wsdl)

    user = sub.add_parser("user", help="manage users", description="Manage the users who may call the gateway.")
    user_sub = user.add_subparsers(dest="user_command", required=True, metavar="ACTION")
    add = user_sub.add_parser("add", help="add a user or reset one's password and role",
                              description="Add a user, or reset an existing one's password and role.")
    add.add_argument("username")
    add.add_argument("--role", required=True, choices=("admin", "operator", "integrator", "enforcement"))
    add.add_argument("--password", help="the password (default: prompt, or generate when not a terminal)")
    add.add_argument("--allow-digest", action="store_true",
                     help="allow WS-Security PasswordDigest (keeps the password itself, not only its hash)")
    add.set_defaults(run=cmd_user_add)

    hotlist = sub.add_parser("hotlist", help="plates to hold at the barrier",
                             description="Plates held at every barrier (or one facility's).")
    hot_sub = hotlist.add_subparsers(dest="hotlist_command", required=True, metavar="ACTION")
    hot_add = hot_sub.add_parser("add", help="hold a plate", description="Hold a plate at the barriers.")
    hot_add.add_argument("plate")
    hot_add.add_argument("--reason", required=True)
    hot_add.add_argument("--facility", help="only in this facility")
    hot_add.set_defaults(run=cmd_hotlist_add)
    hot_rm = hot_sub.add_parser("remove", help="release a plate", description="Remove a plate from the hotlist.")
    hot_rm.add_argument("plate")
    hot_rm.set_defaults(run=cmd_hotlist_remove)

    outbox = sub.add_parser("outbox", help="relay outbox: status, list, retry, purge",
                            description="What the relays owe their destinations.")
    out_sub = outbox.add_subparsers(dest="outbox_command", required=True, metavar="ACTION")
    out_sub.add_parser("status", help="per destination: pending, oldest, delivered, dead, last error",
                       description="Per destination: pending, oldest pending age, delivered, dead, last error."
                       ).set_defaults(run=cmd_outbox_status)
    out_list = out_sub.add_parser("list", help="messages, oldest first", description="List outbox messages.")
    out_list.add_argument("--destination")
    out_list.add_argument("--state", choices=("PENDING", "DELIVERED", "DEAD"))
    out_list.add_argument("--limit", type=int, default=50)
    out_list.set_defaults(run=cmd_outbox_list)
    out_retry = out_sub.add_parser("retry", help="dead messages back to pending",
                                   description="Make dead messages pending again (after fixing the cause).")
    out_retry.add_argument("--destination")
    out_retry.add_argument("ids", nargs="*", type=int)
    out_retry.set_defaults(run=cmd_outbox_retry)
    out_purge = out_sub.add_parser("purge", help="delete old delivered (and dead) messages",
                                   description="Delete delivered messages older than N days.")
    out_purge.add_argument("--older-than-days", type=float, required=True)
    out_purge.add_argument("--dead", action="store_true", help="dead messages too")
    out_purge.set_defaults(run=cmd_outbox_purge)

    db = sub.add_parser("db", help="database maintenance", description="Database maintenance.")
    db_sub = db.add_subparsers(dest="db_command", required=True, metavar="ACTION")
    upgrade = db_sub.add_parser("upgrade", help="apply schema migrations",
                                description="Create or upgrade the schema (Alembic), keeping data.")
    upgrade.set_defaults(run=cmd_db_upgrade)

    args = parser.parse_args(argv)
    try:
        cfg = configuration.load(args.config).override(database_url=args.database_url)
    except configuration.ConfigError as e:
        parser.exit(2, f"parkgate: configuration: {e}\n")
    return args.run(args, cfg) or 0


def setup_logging():
    from twisted.logger import STDLibLogObserver, globalLogBeginner
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    quiet_libraries()
    globalLogBeginner.beginLoggingTo([STDLibLogObserver()], redirectStandardIO=False)


def quiet_libraries():
    """spyne logs whole request bodies on errors and tracebacks for client faults: not in our logs."""
    logging.getLogger("spyne").setLevel(logging.CRITICAL)
    logging.getLogger("spyne.application.server").setLevel(logging.ERROR)


def install_reactor():
    """Twisted on asyncio: pymodbus's coroutines then run on the reactor's own loop."""
    from twisted.internet import asyncioreactor
    asyncioreactor.install()


def cmd_serve(args, cfg):
    from .migrate import upgrade
    if args.listen:
        host, port = configuration.parse_listen(args.listen)
        cfg = cfg.override(host=host, port=port)
    cfg = cfg.override(public_url=args.public_url)
    setup_logging()
    upgrade(cfg.database_url)

    install_reactor()
    from twisted.internet import reactor
    from . import demo
    from .parking import utcnow
    from .service import GatewayService

    relays = None
    if cfg.relays:
        from adapters.process import RelayProcess
        argv = [sys.executable, "-m", "gateway", "--database-url", cfg.database_url]
        argv += ["--config", str(cfg.source)] if cfg.source else []
        relays = RelayProcess(argv + ["relay"], reactor)
    gateway = GatewayService(cfg, clock=utcnow, reactor=reactor, relays=relays)
    if cfg.demo_users:
        lines = demo.seed(cfg, gateway.store, utcnow)
        if lines:
            note = "" if gateway.authenticator.allow_demo else "  (REFUSED: the gateway is not on loopback)"
            print(f"Demo users{note} (username, password, role):", *("  " + ln for ln in lines), sep="\n")
            print(f"Demo permit: plate {demo.DEMO_PLATE}, {demo.DEMO_PERMIT}")
    reactor.callWhenRunning(gateway.startService)
    reactor.callWhenRunning(lambda: print("WSDLs:", *(f"  {gateway.base_url}{p.path}?wsdl" for p in gateway.published),
                                          sep="\n", flush=True))
    reactor.addSystemEventTrigger("before", "shutdown", gateway.stopService)
    import gc
    gc.freeze()  # what start-up built lives as long as the process: keep it out of every collection
    reactor.run()


def cmd_relay(args, cfg):
    import os
    os.nice(10)  # background work: lane decisions in the gateway process get the CPU first
    setup_logging()
    install_reactor()
    from twisted.internet import reactor, stdio
    from adapters.delivery import Relays
    from adapters.outbox import Outbox
    from adapters.process import WakeReader
    from .parking import utcnow
    from .service import relay_threads

    # Losing a "delivered" mark in a power cut means sending that message again, with the same
    # idempotency key: never a loss. So the relay's commits skip the sync that lane events pay
    # for, and hold the SQLite write lock for microseconds instead of a disk flush.
    outbox = Outbox(_store(cfg, sqlite_synchronous="NORMAL"), cfg.relays, utcnow)
    pool = relay_threads(cfg)
    relays = Relays(outbox, reactor, pool)

    def start():
        pool.start()
        relays.startService()
        stdio.StandardIO(WakeReader(relays, lambda: reactor.stop() if reactor.running else None))
    reactor.callWhenRunning(start)
    reactor.addSystemEventTrigger("before", "shutdown", relays.stopService)
    reactor.addSystemEventTrigger("after", "shutdown", pool.stop)
    reactor.run()


def cmd_recognize(args, cfg):
    import json
    from recognition.images import ImageRejected, decode
    from recognition.pipeline import recognizer as make_recognizer
    recognizer = make_recognizer(args.reader, args.precision or cfg.recognition.precision, args.region)
    status = 0
    for name in args.images:
        try:
            with open(name, "rb") as f:
                reading = recognizer.recognize(decode(f.read()), clip=bool(args.clips))
        except (OSError, ImageRejected) as e:
            status = 1
            print(json.dumps({"image": name, "error": str(e)}) if args.json else f"{name}: {e}")
            continue
        if args.clips and reading.clip:
            from pathlib import Path
            clip = Path(args.clips) / f"{Path(name).stem}.plate.jpg"
            clip.parent.mkdir(parents=True, exist_ok=True)
            clip.write_bytes(reading.clip)
        if args.json:
            print(json.dumps({"image": name, **reading.as_dict()}))
        elif args.xml:
            from lxml import etree
            from .documents import element, leaf
            plate = element("LicensePlate", leaf("Number", reading.plate or None),
                            leaf("Jurisdiction", reading.jurisdiction), leaf("Country", reading.country),
                            leaf("Confidence", f"{reading.confidence:.4f}"))
            print(etree.tostring(plate, pretty_print=True).decode(), end="")
        else:
            others = ", ".join(f"{t} {c:.2f}" for t, c in reading.candidates[1:])
            print(f"{name}: {reading.plate or '-'} ({reading.confidence:.2f})"
                  f"{' ' + reading.jurisdiction if reading.jurisdiction else ''}"
                  f"{f' {reading.colour.lower()} body ({reading.colour_confidence:.2f})' if reading.colour else ''}"
                  f"{' [' + others + ']' if others else ''} {reading.timings['total']:.0f} ms")
    return status


def cmd_bench_alpr(args, cfg):
    import os
    from recognition import bench
    from recognition.pipeline import recognizer
    precision = args.precision or cfg.recognition.precision
    readers = list(dict.fromkeys(args.reader or READERS[:1]))
    recognizers = {f"{name} ({precision})" if name != "tesseract" else name: recognizer(name, precision, args.region)
                   for name in readers}
    print(f"parkgate bench-alpr: {os.cpu_count()} cores; one image at a time on one core (as a pool worker), "
          f"readers {', '.join(recognizers)}, formats {', '.join(args.region or ['all'])}")
    for folder in args.folders:
        bench.run(recognizers, folder)


def cmd_plc_sim(args, cfg):
    setup_logging()
    install_reactor()
    from twisted.internet import reactor, stdio
    from plc.simulator import PlcSimulator, SimConsole

    lanes = args.lanes or sum(1 for f in cfg.facilities.values() for lane in f.lanes.values() if lane.plc) or 2
    host, port = configuration.parse_listen(args.listen)
    sim = PlcSimulator(lanes, reactor, host=host, port=port, rise_time=args.rise_ms / 1000,
                       fall_time=args.fall_ms / 1000, heartbeat_timeout=args.heartbeat_timeout_s or None,
                       auto_pass=args.auto_pass_s,
                       report=lambda unit, text: print(f"plc-sim lane {unit}: {text}", flush=True))

    def started(_):
        print(f"plc-sim: {lanes} barrier PLC(s) on {host}:{sim.port}, unit ids 1..{lanes}", flush=True)
        if sys.stdin is not None and sys.stdin.isatty():
            stdio.StandardIO(SimConsole(sim))

    def failed(failure):
        print(f"plc-sim: cannot listen on {args.listen}: {failure.getErrorMessage()}", file=sys.stderr)
        reactor.stop()
    reactor.callWhenRunning(lambda: sim.start().addCallbacks(started, failed))
    reactor.addSystemEventTrigger("before", "shutdown", sim.stop)
    reactor.run()


def cmd_wsdl(args, cfg):
    from .soap.app import publish
    published = publish(None, cfg.base_url)
    if not (args.write or args.check):
        for p in published:
            sys.stdout.write(p.wsdl.decode())
        return 0
    stale = []
    for p in published:
        path = WSDL_DIR / p.file_name
        if args.write:
            WSDL_DIR.mkdir(exist_ok=True)
            path.write_bytes(p.wsdl)
            print(f"wrote {path}")
        elif not path.exists() or path.read_bytes() != p.wsdl:
            stale.append(path.name)
    if stale:
        print(f"out of date: {', '.join(stale)} (run: parkgate wsdl --write)", file=sys.stderr)
        return 1
    return 0


def _store(cfg, **options):
    from .migrate import upgrade
    from .store import Store
    upgrade(cfg.database_url)
    return Store(cfg.database_url, **options)


def cmd_user_add(args, cfg):
    from .auth import add_user
    password = args.password
    if password is None:
        if sys.stdin.isatty():
            password = getpass.getpass(f"password for {args.username}: ")
        else:
            password = secrets.token_urlsafe(16)
            print(f"generated password: {password}")
    add_user(_store(cfg), args.username, password, args.role, allow_digest=args.allow_digest)
    print(f"user {args.username} ({args.role}) saved")


def cmd_hotlist_add(args, cfg):
    from .plates import normalise_plate
    from .store import HotlistEntry
    plate = normalise_plate(args.plate)
    if args.facility and args.facility not in cfg.facilities:
        print(f"unknown facility {args.facility}", file=sys.stderr)
        return 2
    with _store(cfg).transaction() as db:
        db.add(HotlistEntry(plate=plate, facility_id=args.facility, reason=args.reason,
                            added_at=datetime.now(timezone.utc)))
    print("plate added to the hotlist")


def cmd_hotlist_remove(args, cfg):
    from sqlalchemy import delete
    from .plates import normalise_plate
    from .store import HotlistEntry
    with _store(cfg).transaction() as db:
        n = db.execute(delete(HotlistEntry).where(HotlistEntry.plate == normalise_plate(args.plate))).rowcount
    print(f"{n} hotlist entr{'y' if n == 1 else 'ies'} removed")


def _outbox(cfg):
    from adapters.outbox import Outbox
    from .parking import utcnow
    return Outbox(_store(cfg), cfg.relays, utcnow)


def cmd_outbox_status(args, cfg):
    report = _outbox(cfg).status()
    print(f"{'destination':<20} {'kind':<8} {'pending':>8} {'oldest':>10} {'delivered':>10} {'dead':>6}  last error")
    for name, s in report.items():
        oldest = f"{int(s['oldest_pending_age'].total_seconds())}s" if s["oldest_pending_age"] is not None else "-"
        print(f"{name:<20} {s['destination'].kind:<8} {s['pending']:>8} {oldest:>10} {s['delivered']:>10} "
              f"{s['dead']:>6}  {s['last_error'] or ''}")
    if not report:
        print("no relays configured")


def cmd_outbox_list(args, cfg):
    for row in _outbox(cfg).list(args.destination, args.state, args.limit):
        print(f"{row.id:>8} {row.destination:<16} {row.kind:<12} {row.state:<9} attempts={row.attempts:<3} "
              f"created={row.created_at:%Y-%m-%dT%H:%M:%SZ} key={row.key} {row.last_error or ''}")


def cmd_outbox_retry(args, cfg):
    print(f"{_outbox(cfg).retry(args.destination, args.ids)} message(s) pending again")


def cmd_outbox_purge(args, cfg):
    from datetime import timedelta
    print(f"{_outbox(cfg).purge(timedelta(days=args.older_than_days), dead=args.dead)} message(s) deleted")


def cmd_db_upgrade(args, cfg):
    from .migrate import upgrade
    upgrade(cfg.database_url)
    print("database is at the latest schema")


if __name__ == "__main__":
    sys.exit(main())

