"""The gateway as a Twisted service: storage, use cases, authentication and the HTTP site.

This is the composition root: it builds every part from the configuration and hands each
what it needs. Tests build one with their own configuration, database and clock, start it on
a free port and talk to it over HTTP like any platform would.
"""

import ipaddress
import logging

from twisted.application import service
from twisted.internet import threads
from twisted.python.threadpool import ThreadPool

from adapters.contract import Contract
from adapters.delivery import Relays
from adapters.outbox import Outbox, OutboxTables
from plc.service import Barriers

from .app.audit import Audit
from .app.auth import Authenticator
from .app.citations import Citations
from .app.clock import utcnow
from .app.events import LaneEvents
from .app.frames import FrameWindows
from .app.images import LaneImages
from .app.lanes import Incidents, Lanes
from .app.occupancy import Occupancy
from .app.permits import Permits
from .app.recording import EventRecorder
from .app.relaying import Relaying
from .app.relays import relay_status
from .app.reviews import Reviews
from .app.sessions import Sessions
from .app.usecases import UseCases
from .contract.documents import parse
from .contract.namespace import NS
from .contract.schema import CONTRACT_XSD, document_schema
from .soap.application import publish
from .store.engine import Store
from .store.schema import OutboxMessage, RelayLease
from .web.site import Health, build_root, build_site

log = logging.getLogger("parkgate")


def relay_threads(config):
    """One thread per destination (each worker delivers one round at a time), and a spare."""
    return ThreadPool(minthreads=0, maxthreads=len(config.relays) + 1, name="parkgate-relay")


def relay_contract():
    """The document contract as the relays see it (adapters/ does not import gateway/)."""
    return Contract(namespace=NS, parse=parse, validator=document_schema(), xsd=CONTRACT_XSD)


def outbox(store, config, clock):
    """The relays' outbox on the gateway's tables (the gateway owns the schema and its migrations)."""
    return Outbox(store, OutboxTables(messages=OutboxMessage.__table__, leases=RelayLease.__table__), config.relays,
                  clock)


def is_loopback(host):
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return host == "localhost"


class GatewayService(service.MultiService):
    def __init__(self, config, clock=utcnow, reactor=None, store=None, relays=None):
        """``relays``: where the delivery workers run; by default here, in this process
        (``parkgate serve`` passes an :class:`adapters.process.RelayProcess`)."""
        super().__init__()
        if reactor is None:
            from twisted.internet import reactor
        self.reactor = reactor
        self.config = config
        facilities, rules = config.facilities, config.decision_rules
        self.store = store or Store(config.database_url, sqlite_synchronous=config.sqlite_synchronous)
        self.outbox = outbox(self.store, config, clock)
        self.relay_pool = relay_threads(config)
        self.relays = relays or Relays(self.outbox, relay_contract(), reactor, self.relay_pool)
        self.relays.setServiceParent(self)
        relaying = Relaying(self.outbox, lambda names: reactor.callFromThread(self.relays.wake, names), clock)
        self.authenticator = Authenticator(self.store, clock, allow_demo=is_loopback(config.host))
        self.threadpool = ThreadPool(minthreads=min(2, config.threads), maxthreads=config.threads, name="parkgate-soap")
        self.barriers = Barriers(config, reactor, self.threadpool, Incidents(self.store, clock).record, clock)
        self.barriers.setServiceParent(self)
        lanes = Lanes(facilities, self.barriers, Audit(self.store, clock), reactor)
        recorder = EventRecorder(facilities, rules, self.store, relaying, clock)
        reviews = Reviews(recorder, facilities, self.store, lanes, clock)
        self.images = LaneImages(config.recognition, config.threads)
        self.use_cases = UseCases(
            clock=clock, authenticator=self.authenticator,
            events=LaneEvents(facilities, self.images, FrameWindows(recorder, reviews, self.store, rules), lanes),
            reviews=reviews, sessions=Sessions(facilities, self.store, clock),
            occupancy=Occupancy(facilities, self.store, clock),
            permits=Permits(facilities, self.store, relaying, clock),
            citations=Citations(facilities, self.store, relaying, clock), lanes=lanes,
            relay_status=lambda: relay_status(self.outbox))
        self.port = None
        self.published = []

    @property
    def base_url(self):
        if self.config.public_url or self.port is None:
            return self.config.base_url
        return f"http://{self.config.host}:{self.port.getHost().port}"

    def startService(self):
        self.threadpool.start()
        self.relay_pool.start()
        super().startService()
        # Listen first, then build the WSDLs: with port 0 their address is the real one.
        site = build_site(Health(), self.config.max_body_bytes)
        self.port = self.reactor.listenTCP(self.config.port, site, interface=self.config.host)
        self.published = publish(self.use_cases, self.base_url)
        site.resource = build_root(self.published, self.reactor, self.threadpool)
        if self.config.recognition.warm_at_start:
            threads.deferToThread(self.images.warm).addErrback(
                lambda failure: log.error("recognition: the workers did not start: %s", failure.getErrorMessage()))
        log.info("parkgate listening on %s", self.base_url)
        for p in self.published:
            log.info("  %s WSDL: %s%s?wsdl", p.name, self.base_url, p.path)

    def stopService(self):
        d = super().stopService()
        if self.port is not None:
            port, self.port = self.port, None
            d.addCallback(lambda _: port.stopListening())
        d.addCallback(lambda _: self.threadpool.stop())
        d.addCallback(lambda _: threads.deferToThread(self.images.close))
        d.addCallback(lambda _: self.relay_pool.stop())
        d.addCallback(lambda _: self.store.dispose())
        return d
