"""The gateway as a Twisted service: storage, use cases, authentication and the HTTP site.

This is the composition root: it builds every part from the configuration and hands each
what it needs. Tests build one with their own configuration, database and clock, start it on
a free port and talk to it over HTTP like any platform would.
"""

import ipaddress
import logging
from datetime import timedelta

from twisted.application import service
from twisted.internet import task, threads
from twisted.python.threadpool import ThreadPool

from adapters.contract import Contract, Schema
from adapters.delivery import Relays, node_name
from adapters.outbox import Outbox, OutboxTables
from plc.service import Barriers
from printer.escpos import NetworkPrinter

from .app.audit import Audit
from .app.auth import Authenticator, Users
from .app.authorization import Authorizations
from .app.backups import Backups
from .app.citations import Citations
from .app.clock import utcnow
from .app.cluster import ClusterBarriers, DatabaseLaneLease, LaneBus
from .app.console_sessions import ConsoleSessions
from .app.dashboard import Dashboard
from .app.enforcement import Enforcement
from .app.events import LaneEvents
from .app.frames import FrameWindows
from .app.health import LaneView, Readiness
from .app.hotlist import Hotlist
from .app.hotlist_feed import HotlistFeeds
from .app.images import LaneImages
from .app.lanes import Incidents, Lanes
from .app.metrics import Metrics, gauge
from .app.occupancy import Occupancy
from .app.opendata import OpenData, StatusPush
from .app.payments import Payments
from .app.permit_passes import PermitPasses
from .app.permits import Permits
from .app.pictures import Pictures
from .app.printing import Printing
from .app.privacy import Erasure
from .app.recording import EventRecorder
from .app.relaying import Relaying
from .app.relays import relay_status
from .app.reports import Reports
from .app.retention import Retention
from .app.reviews import Reviews
from .app.sessions import Sessions
from .app.shifts import Shifts
from .app.tariffs import Tariffs
from .app.tickets import Tickets
from .app.usecases import UseCases
from .app.zones import Zones
from .contract import datex2
from .contract.documents import parse
from .contract.namespace import NS
from .contract.schema import CONTRACT_XSD, document_schema
from .domain.permit_tokens import PermitTokens
from .domain.tickets import TicketCodes
from .soap.application import publish
from .store import audit as audit_log
from .store.engine import Store
from .store.presence import Serving
from .store.schema import OutboxMessage, RelayLease
from .store.signing import load_permit_key
from .store.vault import ImageVault
from .web.console import console_resource, home_redirect
from .web.opendata import Signage, datex2_resource
from .web.ops import MetricsPage, Ready
from .web.pool import RequestPool
from .web.site import Health, build_root, build_site
from .web.tls import server_options

log = logging.getLogger("parkgate")


def relay_threads(config):
    """One thread per destination (each worker delivers one round at a time), and a spare."""
    return ThreadPool(minthreads=0, maxthreads=len(config.relays) + 1, name="parkgate-relay")


def relay_contract(config=None):
    """The document contract as the relays see it (adapters/ does not import gateway/): with the
    official DATEX II schemas, loaded once here, where a relay wants DATEX II publications."""
    standards = {}
    if config is not None and config.datex2.relayed:
        official = Schema(datex2.official_schema(config.datex2.schemas), config.datex2.schemas / datex2.PAYLOAD_XSD)
        standards = {kind: official for kind in datex2.KINDS}
    return Contract(namespace=NS, parse=parse, validator=document_schema(), xsd=CONTRACT_XSD, standards=standards)


def outbox(store, config, clock):
    """The relays' outbox on the gateway's tables (the gateway owns the schema and its migrations)."""
    return Outbox(store, OutboxTables(messages=OutboxMessage.__table__, leases=RelayLease.__table__), config.relays,
                  clock)


def receipt_printer(settings):
    """The booth's network receipt printer, if one is configured."""
    if settings.printer is None:
        return None
    host, port = settings.printer
    return NetworkPrinter(host=host, port=port, timeout=settings.printer_timeout_s, columns=settings.receipt_columns)


def is_loopback(host):
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return host == "localhost"


class GatewayService(service.MultiService):
    def __init__(self, config, clock=utcnow, reactor=None, store=None, relays=None, job_clock=None):
        """``relays``: where the delivery workers run; by default here, in this process
        (``parkgate serve`` passes an :class:`adapters.process.RelayProcess`). ``job_clock``: what
        schedules the retention, backup and audit jobs (default ``reactor``; tests pass a
        ``task.Clock``)."""
        super().__init__()
        if reactor is None:
            from twisted.internet import reactor
        self.reactor = reactor
        self.job_clock = job_clock or reactor
        self.config = config
        facilities, rules = config.facilities, config.decision_rules
        ops = config.ops
        self.node = ops.node or node_name(config.port or None)
        audit_log.use_keys(audit_log.load_key(ops.audit_key_file))
        self.metrics = Metrics(enabled=ops.metrics)
        self.store = store or Store(config.database_url, sqlite_synchronous=config.sqlite_synchronous,
                                    keys=ops.key_ring())
        self.serving = Serving(config.database_url)
        self.audit = Audit(self.store, clock, self.metrics)
        self.outbox = outbox(self.store, config, clock)
        self.relay_pool = relay_threads(config)
        self.relays = relays or Relays(self.outbox, relay_contract(config), reactor, self.relay_pool)
        self.relays.setServiceParent(self)
        relaying = Relaying(self.outbox, lambda names: reactor.callFromThread(self.relays.wake, names), clock)
        self.authenticator = Authenticator(self.store, clock, allow_demo=is_loopback(config.host),
                                           passwords=config.passwords, lockout=config.lockout)
        self.threadpool = RequestPool(minthreads=min(2, config.threads), maxthreads=config.threads,
                                      name="parkgate-soap")
        # Several nodes share a PostgreSQL database: each lane's PLC is driven by the holder of its lease,
        # and commands for lanes driven elsewhere go there (gateway.app.cluster). SQLite: one node.
        shared = self.store.dialect != "sqlite"
        lease = DatabaseLaneLease(self.store, self.node, ops.lane_lease_s, clock, reactor,
                                  self.threadpool) if shared else None
        self.barriers = Barriers(config, reactor, self.threadpool, Incidents(self.store, clock).record, clock,
                                 lease=lease, lease_period=ops.lane_lease_s / 3)
        self.barriers.setServiceParent(self)
        self.lane_bus = LaneBus(self.store, self.node, self.barriers, reactor, clock) \
            if shared and self.barriers.controllers else None
        lanes = Lanes(facilities, ClusterBarriers(self.barriers, self.lane_bus) if self.lane_bus else self.barriers,
                      self.audit, reactor, metrics=self.metrics)
        codes = TicketCodes(audit_log.keys().tickets)
        tariffs = Tariffs(facilities=facilities, store=self.store, clock=clock)
        zones = Zones(facilities=facilities, store=self.store, clock=clock, relaying=relaying)   # issue 16
        zones.load_all()
        recorder = EventRecorder(facilities, rules, self.store, relaying, clock, ticket_codes=codes, tariffs=tariffs,
                                 zones=zones)
        self.pictures = Pictures(vault=ImageVault(directory=ops.images_dir, keys=self.store.keys), store=self.store,
                                 threshold=rules.image_match_threshold, deadline_s=config.recognition.time_limit)
        reviews = Reviews(recorder, facilities, self.store, lanes, clock, self.pictures)
        self.images = LaneImages(config.recognition, config.threads, metrics=self.metrics)
        self.jobs_pool = ThreadPool(minthreads=0, maxthreads=2, name="parkgate-jobs")
        self.retention = Retention(self.store, ops.retention, clock, ops.images_dir, self.metrics, self.node)
        self.backups = Backups(self.store, config.database_url, ops.backup, ops.images_dir, clock, self.metrics,
                               self.node)
        self.readiness = Readiness(self.store, clock, self.lane_views, self.images, self.oldest_pending,
                                   timedelta(seconds=ops.ready_max_relay_lag_s), ops.ready_requires_plcs)
        self._register_scraped()
        citations = Citations(facilities, self.store, relaying, clock)
        passes = PermitPasses(facilities=facilities, store=self.store, clock=clock,
                              tokens=PermitTokens.signing(load_permit_key(ops.permit_key_file)))
        self.enforcement = Enforcement(facilities, self.store, citations, clock, self.node, tariffs)
        occupancy = Occupancy(facilities, self.store, clock, zones)
        open_data = OpenData(facilities=facilities, occupancy=occupancy, publisher=config.open_data, clock=clock,
                             zones=zones)
        self.status_push = StatusPush(open_data=open_data, store=self.store, relaying=relaying, node=self.node,
                                      period=config.datex2.status_push_s)
        self.hotlist_feeds = HotlistFeeds(facilities=facilities, store=self.store, clock=clock,
                                          settings=config.hotlist_feed)
        self.use_cases = UseCases(
            clock=clock, authenticator=self.authenticator,
            events=LaneEvents(facilities, self.images, FrameWindows(recorder, reviews, self.store, rules, shared),
                              lanes, passes, self.pictures),
            reviews=reviews, sessions=Sessions(facilities, self.store, clock, tariffs),
            occupancy=occupancy,
            permits=Permits(facilities, self.store, relaying, clock),
            citations=citations, lanes=lanes,
            relay_status=lambda: relay_status(self.outbox),
            audit=self.audit, backups=self.backups, retention=self.retention, metrics=self.metrics,
            authorizations=Authorizations(facilities, rules, self.store, clock, zones, self.audit),
            enforcement=self.enforcement,
            hotlist=Hotlist(facilities, self.store, clock),
            open_data=open_data,
            permit_passes=passes,
            erasure=Erasure(self.store, clock, vault=self.pictures.vault),
            tickets=Tickets(facilities=facilities, store=self.store, codes=codes, recorder=recorder, lanes=lanes,
                            clock=clock, tariffs=tariffs),
            payments=Payments(facilities=facilities, store=self.store, codes=codes, clock=clock, tariffs=tariffs),
            shifts=Shifts(facilities=facilities, store=self.store, clock=clock, tariffs=tariffs),
            reports=Reports(facilities=facilities, store=self.store, clock=clock),
            tariffs=tariffs,
            zones=zones,
            users=Users(self.store, clock, config.passwords),
            dashboard=Dashboard(facilities=facilities, store=self.store, lanes=lanes, clock=clock, zones=zones),
            printing=Printing(printer=receipt_printer(config.console), audit=self.audit),
            console_sessions=ConsoleSessions(store=self.store, clock=clock,
                                             idle=timedelta(seconds=config.console.idle_timeout_s),
                                             form_key=audit_log.keys().console_forms))
        self.console_pool = ThreadPool(minthreads=0, maxthreads=config.console.threads, name="parkgate-console")
        self.port = None
        self.published = []
        self._loops = []
        self.job_runs = {}   # job name -> the Deferred of its latest run (fires once it ended): what tests wait on

    # --- operations (issue 19, part A) ----------------------------------------------

    def lane_views(self):
        """Every lane with a PLC, as this node sees it (for readiness and metrics)."""
        return [LaneView(fac_id, number, driven_here=getattr(c, "driving", True), online=c.online,
                         holder=getattr(c, "holder", None))
                for (fac_id, number), c in self.barriers.controllers.items()]

    def oldest_pending(self):
        return {name: oldest for name, (_count, oldest) in self.outbox.backlog().items()}

    def _register_scraped(self):
        def relays():
            backlog = self.outbox.backlog() if self.outbox.destinations else {}
            now = self.readiness.clock()
            yield gauge("parkgate_relay_backlog", "Relay messages pending, per destination", ["destination"],
                        [([name], count) for name, (count, _) in backlog.items()])
            yield gauge("parkgate_relay_oldest_pending_seconds", "Age of the oldest pending relay message, per "
                        "destination (0: none pending)", ["destination"],
                        [([name], (now - oldest).total_seconds() if oldest else 0.0)
                         for name, (_, oldest) in backlog.items()])

        def lanes():
            views = self.lane_views()
            yield gauge("parkgate_plc_online", "1 when the lane's PLC answers (lanes this node drives)",
                        ["facility", "lane"], [([v.facility_id, str(v.lane_number)], float(v.online))
                                               for v in views if v.driven_here])
            yield gauge("parkgate_lane_driven_here", "1 when this node drives the lane's PLC (holds its lease)",
                        ["facility", "lane"], [([v.facility_id, str(v.lane_number)], float(v.driven_here))
                                               for v in views])

        def recognition():
            yield gauge("parkgate_recognition_queue_depth", "Pictures in the recognition pool now (read or "
                        "waiting)", [], [([], float(self.images.queue_depth()))])
        for source in (relays, lanes, recognition):
            self.metrics.at_scrape(source)

    def _schedule(self, seconds, job, name):
        """Run ``job`` in the jobs' thread every ``seconds`` (on the job clock), never two at once."""
        if seconds <= 0:
            return
        running = []

        def tick():
            if running:
                return
            running.append(True)
            d = threads.deferToThreadPool(self.reactor, self.jobs_pool, job)
            d.addErrback(lambda f: log.error("%s job failed: %s", name, f.getErrorMessage()))
            d.addBoth(lambda _: running.clear())
            self.job_runs[name] = d
        loop = task.LoopingCall(tick)
        loop.clock = self.job_clock
        loop.start(seconds, now=False)
        self._loops.append(loop)

    def _watch_keys(self, seconds):
        """Re-read the key file when it changes (``parkgate keys rotate`` adds a key, then retires the
        old ones): on the reactor's clock, in a thread (a stat, and a small read when it changed)."""
        keys = self.store.keys
        if seconds <= 0 or not keys.from_file:
            return

        def reloaded(changed):
            if changed:
                log.info("keys: the key file changed; sealing with key %s now", keys.current)
        loop = task.LoopingCall(lambda: threads.deferToThread(keys.reload).addCallbacks(
            reloaded, lambda f: log.error("keys: the key file could not be read: %s", f.getErrorMessage())))
        loop.clock = self.reactor
        loop.start(seconds, now=False)
        self._loops.append(loop)

    @property
    def base_url(self):
        if self.config.public_url or self.port is None:
            return self.config.base_url
        return f"{self.config.scheme}://{self.config.host}:{self.port.getHost().port}"

    def startService(self):
        self.serving.hold()
        self.threadpool.start()
        self.relay_pool.start()
        self.jobs_pool.start()
        self.console_pool.start()
        super().startService()
        # Listen first, then build the WSDLs: with port 0 their address is the real one.
        site = build_site(Health(), self.config.max_body_bytes)
        ops = self.config.ops
        if ops.tls_cert:
            self.port = self.reactor.listenSSL(self.config.port, site, server_options(ops.tls_cert, ops.tls_key),
                                               interface=self.config.host)
        else:
            self.port = self.reactor.listenTCP(self.config.port, site, interface=self.config.host)
        self.published = publish(self.use_cases, self.base_url, ops.trusted_proxies)
        extra = {b"readyz": Ready(self.readiness, self.reactor, self.jobs_pool)}
        if ops.metrics:
            extra[b"metrics"] = MetricsPage(self.metrics, self.reactor, self.jobs_pool)
        extra[b"datex2"] = datex2_resource(self.use_cases.open_data, self.reactor, self.threadpool)
        extra[b"signage"] = Signage(self.use_cases.open_data, self.reactor, self.threadpool)
        if self.config.console.enabled:
            extra[b"console"] = console_resource(
                self.use_cases, facilities=self.config.facilities, settings=self.config.console,
                secure=self.config.scheme == "https", backup_interval_h=ops.backup.interval_h,
                trusted_proxies=ops.trusted_proxies, reactor=self.reactor, threadpool=self.console_pool)
            extra[b""] = home_redirect()
        site.resource = build_root(self.published, self.reactor, self.threadpool, extra)
        if self.lane_bus is not None:
            self.lane_bus.start()
        self._schedule(ops.retention.interval_s, self.retention.scheduled, "retention")
        self._schedule(ops.backup.interval_h * 3600, self.backups.scheduled, "backup")
        self._schedule(ops.audit_verify_interval_s, lambda: self.audit.verify(incremental=True), "audit")
        for fac in self.config.facilities.values():  # the violation scan (issue 17), per facility
            self._schedule(fac.enforcement.interval.total_seconds(),
                           lambda fac_id=fac.id: self.enforcement.scheduled(fac_id), f"enforcement {fac.id}")
        if self.config.hotlist_feed.location:  # issue 17: the hotlist feed, imported on a schedule
            self._schedule(self.config.hotlist_feed.interval_minutes * 60, self.hotlist_feeds.scheduled, "hotlist feed")
        if self.config.datex2.relayed:  # issue 17: DATEX II publications pushed to the relays that want them
            self._schedule(self.config.datex2.status_push_s, self.status_push.scheduled, "datex2 status")
        self._watch_keys(ops.key_reload_s)
        if self.config.recognition.warm_at_start:
            threads.deferToThread(self.images.warm).addErrback(
                lambda failure: log.error("recognition: the workers did not start: %s", failure.getErrorMessage()))
        log.info("parkgate listening on %s", self.base_url)
        if self.config.console.enabled:
            log.info("  operator console: %s/console/", self.base_url)
        for p in self.published:
            log.info("  %s WSDL: %s%s?wsdl", p.name, self.base_url, p.path)

    def stopService(self):
        for loop in self._loops:
            if loop.running:
                loop.stop()
        self._loops = []
        d = super().stopService()
        if self.lane_bus is not None:
            d.addCallback(lambda _: threads.deferToThread(self.lane_bus.stop))
        if self.port is not None:
            port, self.port = self.port, None
            d.addCallback(lambda _: port.stopListening())
        d.addCallback(lambda _: self.threadpool.stop())
        d.addCallback(lambda _: threads.deferToThread(self.images.close))
        d.addCallback(lambda _: self.pictures.close())
        d.addCallback(lambda _: self.relay_pool.stop())
        d.addCallback(lambda _: self.jobs_pool.stop())
        d.addCallback(lambda _: self.console_pool.stop())
        d.addCallback(lambda _: self.store.dispose())
        d.addBoth(self._not_serving)
        return d

    def _not_serving(self, result):
        self.serving.drop()
        return result
