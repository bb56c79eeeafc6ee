"""The SOAP applications: which services are published where, their WSDLs, their authentication.

One spyne ``Application`` per published service and SOAP version (SOAP 1.1 at
``/soap/<Service>``, SOAP 1.2 at ``/soap12/<Service>``), all in the contract's namespace. Each
WSDL is built once at start-up with the public URL, then the contract from ``xsd/`` is merged
in (:func:`gateway.soap.wsdl.merge_contract`). Each application carries the gateway's use cases
(``ctx.app.use_cases``), which the services call.
"""

import logging
import math
import time
import traceback
from collections.abc import Callable
from dataclasses import dataclass

import spyne.const
from lxml import etree
from spyne import Application
from spyne.model.fault import Fault
from spyne.server.wsgi import WsgiApplication

from ..app.audit import enter_origin, leave_origin
from ..app.auth import require_role
from ..app.callers import caller_address
from ..contract.namespace import NS
from ..contract.schema import secure_parser
from ..domain.errors import ParkgateError
from .authorize_plate import AuthorizePlateShortcut
from .faults import fault_for
from .protocol import ContractSoap11, ContractSoap12
from .services.audit import AuditService
from .services.citations import CitationService
from .services.common import Health
from .services.events import EventService
from .services.lanes import LaneService
from .services.maintenance import MaintenanceService
from .services.payments import PaymentService
from .services.permits import PermitService
from .services.relays import RelayService
from .services.reports import ReportService
from .services.security import SecurityService
from .services.shifts import ShiftService
from .services.tariffs import TariffService
from .services.tickets import TicketService
from .services.zones import ZoneService
from .wsdl import merge_contract, message_schema
from .wsse import username_token

# spyne runs a full gc.collect() after a request at most once a second, so that uploaded files
# are closed promptly. The gateway takes no file attachments, and a full collection of its heap
# holds the GIL for tens of milliseconds: every request thread stalls (measured: 13% of the
# server's busy time under SubmitEvent load, and the p99 tail). Python's own collector remains.
spyne.const.MIN_GC_INTERVAL = math.inf

log = logging.getLogger("parkgate")

#: Published service name -> the spyne services it is made of.
SERVICES = {
    "EventService": [Health, EventService],
    "PermitService": [Health, PermitService],
    "CitationService": [Health, CitationService],
    "LaneService": [Health, LaneService],
    "RelayService": [Health, RelayService],
    "AuditService": [Health, AuditService],
    "MaintenanceService": [Health, MaintenanceService],
    "SecurityService": [Health, SecurityService],
    # the operator's day (issue 16, part B)
    "TicketService": [Health, TicketService],
    "PaymentService": [Health, PaymentService],
    "ShiftService": [Health, ShiftService],
    "ReportService": [Health, ReportService],
    "TariffService": [Health, TariffService],   # issue 16, part A
    "ZoneService": [Health, ZoneService],       # issue 16: zones, spaces
}


@dataclass
class Caller:
    username: str
    role: str


class GatewayApplication(Application):
    """A spyne Application that knows the use cases it serves (``ctx.app.use_cases``). Each call
    is timed and counted (``/metrics``), and runs with its caller's address as the audit origin."""

    def __init__(self, services, name, use_cases, protocol=ContractSoap11, trusted_proxies=()):
        super().__init__(services, tns=NS, name=name, in_protocol=protocol(), out_protocol=protocol())
        self.use_cases = use_cases
        self.trusted_proxies = trusted_proxies
        self.event_manager.add_listener("method_call", _authenticate)

    def call_wrapper(self, ctx):
        return self.call(ctx.descriptor.name, ctx.transport.req, lambda: Application.call_wrapper(self, ctx))

    def call(self, operation, environ, body):
        """``body()`` as the operation ``operation`` of this service, called from the WSGI request
        ``environ``: timed and counted, with its caller's address as the audit origin; a domain
        error is its typed fault, any other error Server "Internal Error"."""
        started, outcome = time.perf_counter(), "ok"
        token = enter_origin(caller_address(environ, self.trusted_proxies))
        try:
            return _translated(operation, body)
        except Fault as f:
            outcome = f.faultcode
            raise
        finally:
            leave_origin(token)
            self.use_cases.metrics.request(self.name, operation, outcome, time.perf_counter() - started)

    def caller(self, header_elements, environ, roles):
        """The caller of a request (its SOAP header's children, its WSGI ``environ``), verified by its
        WS-Security UsernameToken and admitted by ``roles``; else the typed fault."""
        def verified():
            username, role = self.use_cases.authenticator.authenticate(
                username_token(header_elements), caller_address(environ, self.trusted_proxies))
            require_role(role, roles)
            return Caller(username, role)
        return _translated("authentication", verified)


def _translated(operation, body):
    try:
        return body()
    except ParkgateError as e:
        raise fault_for(e) from None
    except Fault:
        raise
    except Exception as e:
        # A bug or a failing database. The error's message may quote what it was working on
        # (a driver's error quotes the row: plates), so the log says which operation failed,
        # with what kind of error, where; the caller learns only that it failed.
        log.error("%s failed: %s\n%s", operation, type(e).__name__,
                  "".join(traceback.format_tb(e.__traceback__)).rstrip())
        raise Fault("Server", "Internal Error") from None


def _authenticate(ctx):
    """WS-Security UsernameToken, then the operation's roles; before any method body runs."""
    ctx.udc = ctx.app.caller(ctx.in_header_doc, ctx.transport.req, ctx.descriptor.udd["roles"])


#: SOAP version -> (its protocol, the path its services are published under, its WSDL files' suffix).
SOAP_VERSIONS = {"1.1": (ContractSoap11, "/soap", ""), "1.2": (ContractSoap12, "/soap12", ".soap12")}


@dataclass
class PublishedService:
    name: str
    soap_version: str
    path: str
    wsgi: WsgiApplication
    wsdl: bytes
    #: ``(environ, body) -> (status, headers, body) | None``: requests it answers without spyne
    shortcut: Callable[[dict, bytes], tuple | None] | None = None

    @property
    def file_name(self):
        """Its WSDL's name in ``wsdl/``."""
        return f"{self.name}{SOAP_VERSIONS[self.soap_version][2]}.wsdl"


def build_wsdl(app, url):
    wsgi = WsgiApplication(app)
    wsdl11 = wsgi.doc.wsdl11
    wsdl11.event_manager.add_listener("wsdl_document_built", lambda doc: merge_contract(doc.root_elt))
    wsdl11.build_interface_document(url)
    root = etree.fromstring(wsdl11.get_interface_document(), secure_parser(remove_blank_text=True))
    return wsgi, etree.tostring(root, pretty_print=True, xml_declaration=True, encoding="UTF-8")


def publish(use_cases, base_url, trusted_proxies=()):
    """Build every published service; validation of requests uses each WSDL's own schema."""
    published = []
    for version, (protocol, prefix, _) in SOAP_VERSIONS.items():
        for name, services in SERVICES.items():
            app = GatewayApplication(services, name, use_cases, protocol, trusted_proxies)
            path = f"{prefix}/{name}"
            wsgi, wsdl = build_wsdl(app, base_url + path)
            app.in_protocol.message_schema = message_schema(wsdl)
            shortcut = AuthorizePlateShortcut(app) if name == "PermitService" else None
            published.append(PublishedService(name, version, path, wsgi, wsdl, shortcut))
    return published
