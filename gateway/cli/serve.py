"""``parkgate serve``, ``relay`` and ``plc-sim``: the processes that run until stopped."""

import logging
import sys

from .. import config as configuration


def register(sub):
    serve = sub.add_parser("serve", help="run the gateway", description="Run the gateway until interrupted.")
    serve.add_argument("--listen", help="HOST:PORT to listen on (default from the configuration)")
    serve.add_argument("--public-url", help="base URL written into the WSDLs")
    serve.set_defaults(run=cmd_serve)

    relay = sub.add_parser("relay", help="run the relay workers (started by serve)",
                           description="Deliver the outbox to the configured destinations. `parkgate serve` "
                                       "runs this as its child process; it stops when its standard input closes.")
    relay.add_argument("--node", help="the name this node holds relay leases under (default: host, process id "
                                      "and a random part; `serve` passes HOST:PORT, the same across restarts)")
    relay.set_defaults(run=cmd_relay)

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


def setup_logging():
    from twisted.logger import STDLibLogObserver, globalLogBeginner
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    quiet_libraries()
    globalLogBeginner.beginLoggingTo([STDLibLogObserver()], redirectStandardIO=False)


def quiet_libraries():
    """spyne logs whole request bodies on errors and tracebacks for client faults; zeep (the relays'
    SOAP client) logs whole envelopes at DEBUG; SQLAlchemy's engine logs statements' values: plates,
    none of it in our logs, whatever the root level."""
    logging.getLogger("spyne").setLevel(logging.CRITICAL)
    logging.getLogger("spyne.application.server").setLevel(logging.ERROR)
    logging.getLogger("zeep").setLevel(logging.WARNING)
    logging.getLogger("sqlalchemy.engine").setLevel(logging.WARNING)


def install_reactor():
    """Twisted on asyncio: pymodbus's coroutines then run on the reactor's own loop."""
    from ..web import reactor
    reactor.install()


def cmd_serve(args, cfg):
    from ..store.migrate import upgrade
    if args.listen:
        host, port = configuration.parse_listen(args.listen)
        cfg = cfg.override(host=host, port=port)
    cfg = cfg.override(public_url=args.public_url)
    setup_logging()
    upgrade(cfg.database_url, keys=cfg.ops.key_ring())

    install_reactor()
    from twisted.internet import reactor

    from .. import demo
    from ..app.clock import utcnow
    from ..service import GatewayService

    relays = None
    if cfg.relays:
        from adapters.delivery import node_name
        from adapters.process import RelayProcess
        argv = [sys.executable, "-m", "gateway", "--database-url", cfg.database_url]
        argv += ["--config", str(cfg.source)] if cfg.source else []
        relays = RelayProcess(argv + ["relay", "--node", node_name(cfg.port)], reactor)
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
    from adapters.process import WakeReader

    from ..app.clock import utcnow
    from ..service import outbox as relay_outbox
    from ..service import relay_contract, relay_threads
    from .admin import open_store

    # Losing a "delivered" mark in a power cut means sending that message again, with the same
    # idempotency key: never a loss. So the relay's commits skip the sync that lane events pay
    # for, and hold the SQLite write lock for microseconds instead of a disk flush.
    outbox = relay_outbox(open_store(cfg, sqlite_synchronous="NORMAL"), cfg, utcnow)
    pool = relay_threads(cfg)
    relays = Relays(outbox, relay_contract(cfg), reactor, pool, node=args.node)

    def start():
        pool.start()
        relays.startService()
        io = stdio.StandardIO(WakeReader(relays, lambda: reactor.stop() if reactor.running else None))
        # Through the transport: a gateway that died before reading it must not stop the child
        # from noticing its end of input.
        io.write(f"relay node {relays.node}: {len(relays.workers)} destination(s)\n".encode())
    reactor.callWhenRunning(start)
    reactor.addSystemEventTrigger("before", "shutdown", relays.stopService)
    reactor.addSystemEventTrigger("after", "shutdown", pool.stop)
    reactor.run()


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
        if sys.stdin is not None:  # a terminal, a pipe or a file
            stdio.StandardIO(SimConsole(sim))

    def failed(failure):
        print(f"plc-sim: cannot listen on {args.listen}: {failure.getErrorMessage()}", file=sys.stderr)
        reactor.stop()
    reactor.callWhenRunning(lambda: sim.start().addCallbacks(started, failed))
    reactor.addSystemEventTrigger("before", "shutdown", sim.stop)
    reactor.run()
