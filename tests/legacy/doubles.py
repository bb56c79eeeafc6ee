"""Receivers that run on the test reactor: an HTTP endpoint and two legacy SOAP services (spyne),
each behind a switch that injects the failures real peers have.

Modes: ``ok``; ``http500``; ``status`` (answers HTTP ``status``, e.g. 400, 408, 429, 503);
``fault`` (SOAP services answer a Server fault); ``client-fault`` (a Client fault: the peer
refuses the request as it is); ``malformed`` (200 with a body that is not XML); ``slow`` (the
request is taken, the answer comes after ``slow_s``: the sender times out although the
receiver has the document); ``down`` (the port is closed: connection refused) via
:meth:`Double.go_down` / :meth:`Double.come_back`.
"""

import threading

from spyne import Application, ComplexModel, Date, DateTime, Decimal, Fault, ServiceBase, Unicode, rpc
from spyne.protocol.soap import Soap11
from spyne.server.wsgi import WsgiApplication
from twisted.internet import reactor
from twisted.protocols.policies import WrappingFactory
from twisted.python.threadpool import ThreadPool
from twisted.web import resource, server
from twisted.web.wsgi import WSGIResource


class Received:
    """One request as the double saw it."""

    def __init__(self, headers, body, payload=None, accepted=True, wsse_username=None):
        self.headers, self.body, self.payload = headers, body, payload
        self.accepted = accepted  # False: the double refused it (500, garbage answer)
        self.wsse_username = wsse_username

    @property
    def key(self):
        return self.headers.get("idempotency-key")


class Switch(resource.Resource):
    """Wraps the real endpoint; records every request body; misbehaves as told."""

    isLeaf = True

    def __init__(self, inner, double):
        super().__init__()
        self.inner, self.double = inner, double

    def render(self, request):
        double = self.double
        body = request.content.read()
        request.content.seek(0)
        headers = {k.decode().lower(): v[0].decode() for k, v in request.requestHeaders.getAllRawHeaders()}
        mode = double.mode
        if mode in ("http500", "status"):
            double.record(Received(headers, body, accepted=False))
            request.setResponseCode(500 if mode == "http500" else double.status)
            return b"refused\n"
        if mode == "malformed":
            double.record(Received(headers, body, accepted=False))
            request.setHeader(b"Content-Type", b"text/xml")
            return b"<soap:Envelope this is not xml"
        if mode == "slow":
            double.record(Received(headers, body))
            double.held.append((reactor.callLater(double.slow_s, _finish, request, b"late\n"), request))
            return server.NOT_DONE_YET
        if self.inner is None:
            double.record(Received(headers, body))
            return b"ok\n"
        return self.inner.render(request)


def _finish(request, body):
    if not request.finished and not request._disconnected:
        request.write(body)
        request.finish()


class Double:
    def __init__(self, inner=None):
        self.mode = "ok"
        self.status = 400
        self.slow_s = 3.0
        self.received = []
        self.held = []  # (answer's delayed call, request) of the requests ``slow`` holds
        self.port = None
        self._portnum = 0
        self._lock = threading.Lock()
        self.site = server.Site(Switch(inner, self))

    def record(self, received):
        with self._lock:
            self.received.append(received)

    def waiting(self):
        """The requests held by ``slow`` whose sender still waits for the answer."""
        return [request for _, request in self.held if not request.finished and not request._disconnected]

    def release(self):
        """Answer the held requests now."""
        held, self.held = self.held, []
        for call, request in held:
            if call.active():
                call.cancel()
                _finish(request, b"late\n")

    @property
    def keys(self):
        """The idempotency keys of the requests taken, in arrival order (repeats included)."""
        with self._lock:
            return [r.key for r in self.received if r.accepted]

    def start(self):
        self._factory = WrappingFactory(self.site)  # keeps the open connections, to cut them
        self.port = reactor.listenTCP(self._portnum, self._factory, interface="127.0.0.1")
        self._portnum = self.port.getHost().port

    def go_down(self):
        """Like a crashed host: no more connections, and the kept-alive ones are cut."""
        d = self.port.stopListening()
        for protocol in list(self._factory.protocols):
            protocol.transport.abortConnection()
        return d

    def come_back(self):
        self.start()

    @property
    def url(self):
        return f"http://127.0.0.1:{self._portnum}/"

    def stop(self):
        return self.port.stopListening()


class HttpReceiver(Double):
    """Takes any POST (XML, JSON, webhook) and answers 200."""


# --- the legacy SOAP services -------------------------------------------------------------

GATE_NS = "urn:example:gate-system:v2"
ENFORCEMENT_NS = "urn:example:enforcement:v1"


class Transit(ComplexModel):
    __namespace__ = GATE_NS
    _type_info = [("TransactionID", Unicode(min_occurs=1)), ("LicensePlate", Unicode(min_occurs=1)),
                  ("Facility", Unicode), ("Lane", Unicode), ("Direction", Unicode(values=["IN", "OUT"])),
                  ("OccurredAt", DateTime(min_occurs=1)), ("Amount", Decimal), ("Currency", Unicode),
                  ("Outcome", Unicode)]


class Ticket(ComplexModel):
    __namespace__ = ENFORCEMENT_NS
    _type_info = [("Reference", Unicode(min_occurs=1)), ("Plate", Unicode(min_occurs=1)),
                  ("Violation", Unicode), ("Fine", Decimal), ("Currency", Unicode), ("IssuedAt", DateTime),
                  ("DueDate", Date), ("Location", Unicode)]


def _soap_double(service_class, tns, name):
    double = Double()
    app = Application([service_class], tns=tns, name=name, in_protocol=Soap11(validator="lxml"),
                      out_protocol=Soap11())

    def remember(ctx):
        if double.mode == "fault":
            raise Fault("Server.Unavailable", "the back office is closed for maintenance")
        if double.mode == "client-fault":
            raise Fault("Client.Rejected", "this transaction is not acceptable")
        headers = {k[5:].lower().replace("_", "-"): v for k, v in ctx.transport.req_env.items()
                   if k.startswith("HTTP_")}
        double.record(Received(headers, b"", ctx.in_object, wsse_username=_wsse_username(ctx.in_header_doc)))
    app.event_manager.add_listener("method_call", remember)
    pool = ThreadPool(minthreads=1, maxthreads=4, name=f"double-{name}")
    pool.start()
    double.pool = pool
    double.site = server.Site(Switch(WSGIResource(reactor, pool, WsgiApplication(app)), double))
    return double


def _wsse_username(header_elements):
    for elt in header_elements or ():
        found = elt.findtext(".//{http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-secext-1.0.xsd}"
                             "Username")
        if found:
            return found
    return None


class GateSystemService(ServiceBase):
    @rpc(Transit, _returns=Unicode, _out_variable_name="Reference")
    def RecordTransit(ctx, Transaction):
        return f"GS-{Transaction.TransactionID}"


class EnforcementService(ServiceBase):
    @rpc(Ticket, _returns=Unicode, _out_variable_name="CaseNumber")
    def SubmitCitation(ctx, Citation):
        return f"CASE-{Citation.Reference}"


def kept_transits(double):
    """What a gate system that drops repeated TransactionIDs keeps: the first transit of each."""
    kept = {}
    for r in list(double.received):
        if r.payload:
            kept.setdefault(r.payload[0].TransactionID, r.payload[0])
    return kept


def gate_system():
    """A gate/ticket management system that takes entry and exit transactions."""
    return _soap_double(GateSystemService, GATE_NS, "GateTransactions")


def enforcement_office():
    """An enforcement back office that takes citations."""
    return _soap_double(EnforcementService, ENFORCEMENT_NS, "CitationIntake")
