"""The gateway as a Twisted service: storage, parking logic, authentication and the HTTP site.

This is the composition root. Tests build one with their own configuration, database and
clock, start it on a free port and talk to it over HTTP like any platform would.
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

from .auth import Authenticator
from .documents import parse
from .frames import FrameWindows
from .lanes import Lanes
from .readings import LaneImages
from .parking import Parking, utcnow
from .server import Health, build_root, build_site
from .soap.app import publish
from .soap.contract import CONTRACT_XSD, document_schema
from .soap.types import NS
from .store import OutboxMessage, RelayLease, Store

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
        self.store = store or Store(config.database_url, sqlite_synchronous=config.sqlite_synchronous)
        self.outbox = outbox(self.store, config, clock)
        self.relay_pool = relay_threads(config)
        self.relays = relays or Relays(self.outbox, relay_contract(), reactor, self.relay_pool)
        self.relays.setServiceParent(self)
        self.parking = Parking(config, self.store, clock, outbox=self.outbox,
                               notify=lambda names: reactor.callFromThread(self.relays.wake, names))
        self.authenticator = Authenticator(self.store, clock, allow_demo=is_loopback(config.host))
        self.threadpool = ThreadPool(minthreads=min(2, config.threads), maxthreads=config.threads, name="parkgate-soap")
        self.barriers = Barriers(config, reactor, self.threadpool, self.parking.record_incident, clock)
        self.barriers.setServiceParent(self)
        self.lanes = Lanes(self.parking, self.barriers, reactor)
        self.images = LaneImages(config.recognition)
        self.frames = FrameWindows(self.parking, config.frame_window)
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
        self.published = publish(self, self.base_url)
        site.resource = build_root(self.published, self.reactor, self.threadpool)
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
