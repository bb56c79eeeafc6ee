"""HTTP: the Twisted site that carries the SOAP services, and ``/healthz``.

spyne runs as a WSGI application inside Twisted, in a thread pool of its own, so each SOAP
request (and the database work it does) runs off the reactor thread: one hand-off to the thread,
one back with the whole answer.
"""

import logging
import sys
from functools import partial

from twisted.python.failure import Failure
from twisted.web import pages, resource, server

from . import memory
from .limits import LimitedChannel, request_factory

log = logging.getLogger("parkgate")


class SoapEndpoint(resource.Resource):
    """``/soap/<Service>`` (``/soap12/<Service>``): the WSDL on ``GET ?wsdl``, SOAP on POST (through
    spyne's WSGI app)."""

    isLeaf = True

    def __init__(self, published, reactor, threadpool):
        super().__init__()
        self.wsdl = published.wsdl
        self.app = published.wsgi
        self.shortcut = published.shortcut
        self.reactor = reactor
        self.threadpool = threadpool

    def render_GET(self, request):
        query = request.uri.partition(b"?")[2].lower().split(b"&")
        if any(q.split(b"=")[0] == b"wsdl" for q in query):
            request.setHeader(b"Content-Type", b"text/xml; charset=utf-8")
            return self.wsdl
        request.setResponseCode(405)
        request.setHeader(b"Allow", b"POST")
        request.setHeader(b"Content-Type", b"text/plain")
        return b"POST SOAP messages here; GET ?wsdl for the description.\n"

    def render_POST(self, request):
        # A chunked body has no Content-Length, and WSGI applications (spyne) read as many bytes as
        # it says: none. Twisted has the whole body by now (within the size limit), so its length
        # is known.
        request.content.seek(0, 2)
        size = request.content.tell()
        request.content.seek(0)
        if request.getHeader(b"content-length") is None:
            request.requestHeaders.setRawHeaders(b"content-length", [str(size).encode()])
        if size >= memory.LARGE:
            request.notifyFinish().addBoth(lambda _: self.reactor.callInThread(memory.give_back))
        request.defaultContentType = None   # the application's headers say what it is
        gone = []   # the caller hung up: nobody to answer
        request.notifyFinish().addErrback(gone.append)
        # Straight back to the reactor with how it went (no Deferred to build and fire per request).
        self.threadpool.callInThreadWithCallback(partial(self.reactor.callFromThread, _reply, request, gone),
                                                 _answer, self.app, _environ(request), self.shortcut)
        return server.NOT_DONE_YET


def _answer(app, environ, shortcut=None):
    """Run spyne's WSGI application to the end, in a request thread: (status, headers, body).
    ``shortcut``: what answers some requests without spyne (None: it leaves this one to spyne).

    Twisted's WSGI bridge waits in the thread for the reactor to write each chunk and then hands
    it the finish as well (three or more hand-offs a request, each a wake-up of the other thread);
    a SOAP answer is a whole document anyway, so it goes to the reactor once, whole."""
    if shortcut is not None:
        answered = shortcut(environ, environ["wsgi.input"].read())
        if answered is not None:
            return answered
        environ["wsgi.input"].seek(0)
    started, written = [], []

    def start_response(status, headers, exc_info=None):
        started.append((status, headers))
        return written.append

    chunks = app(environ, start_response)
    try:
        rest = list(chunks)   # what start_response's write() took came first
        body = b"".join(written + rest)
    finally:
        close = getattr(chunks, "close", None)
        if close is not None:
            close()
    status, headers = started[-1]
    return status, headers, body


def _reply(request, gone, ok, answer):
    """On the reactor: the thread's answer sent (``ok``), or its failure (a Failure) answered."""
    if gone:
        return
    if ok:
        try:
            return _send(request, *answer)
        except Exception:   # noqa: BLE001 - answered as the thread's own failure is
            answer = Failure()
    _failed(request, answer)


def _send(request, status, headers, body):
    """The answer, once all of it is known to be sendable: what fails to encode fails before the
    request is touched, so that :func:`_failed` can still answer."""
    code, _, message = status.partition(" ")
    code, message = int(code), message.encode("latin-1")
    raw = [(name.encode("latin-1"), value.encode("latin-1")) for name, value in headers
           if name.lower() not in ("server", "date")]
    request.setResponseCode(code, message)
    for name, value in raw:
        request.responseHeaders.addRawHeader(name, value)
    request.write(body)
    request.finish()


def _failed(request, failure):
    """spyne answers every error as a SOAP fault; this is a bug in the bridge itself."""
    log.error("SOAP request failed outside spyne: %s", failure.type.__name__)   # its message may quote the request
    request.setResponseCode(500)
    request.setHeader(b"Content-Type", b"text/plain")
    request.write(b"internal error\n")
    request.finish()


def _environ(request):
    """The WSGI environment Twisted's own bridge builds (PEP 3333: headers as latin-1 text)."""
    peer = request.getClientAddress()
    query = request.uri.partition(b"?")[2]
    environ = {
        "REQUEST_METHOD": request.method.decode("latin-1"),
        "REMOTE_ADDR": getattr(peer, "host", "") or "",
        "REMOTE_PORT": str(getattr(peer, "port", "")),
        "SCRIPT_NAME": ("/" + "/".join(p.decode("latin-1") for p in request.prepath)) if request.prepath else "",
        "PATH_INFO": ("/" + "/".join(p.decode("latin-1") for p in request.postpath)) if request.postpath else "",
        "QUERY_STRING": query.decode("latin-1"),
        "CONTENT_TYPE": (request.getHeader(b"content-type") or b"").decode("latin-1"),
        "CONTENT_LENGTH": (request.getHeader(b"content-length") or b"").decode("latin-1"),
        "SERVER_NAME": request.getRequestHostname().decode("latin-1"),
        "SERVER_PORT": str(request.host.port),   # the address Request.__init__ asked the socket for
        "SERVER_PROTOCOL": request.clientproto.decode("latin-1"),
        "wsgi.version": (1, 0),
        "wsgi.url_scheme": "https" if request.isSecure() else "http",
        "wsgi.run_once": False,
        "wsgi.multithread": True,
        "wsgi.multiprocess": False,
        "wsgi.input": request.content,
        "wsgi.errors": sys.stderr,
    }
    for name, values in request.requestHeaders.getAllRawHeaders():
        environ["HTTP_" + name.decode("latin-1").upper().replace("-", "_")] = \
            ",".join(v.decode("latin-1") for v in values).replace("\n", " ")
    return environ


class Health(resource.Resource):
    """``/healthz`` for load balancers: no credentials, no database, just "serving"."""

    isLeaf = True

    def render_GET(self, request):
        request.setHeader(b"Content-Type", b"text/plain")
        return b"ok\n"


class Branch(resource.Resource):
    """A resource that only holds children: any other path below it is a plain 404 (Twisted's
    default for a missing child is a deprecated page that does not escape the path)."""

    def getChild(self, path, request):
        return pages.notFound("No Such Resource", "No such child resource.")


def build_root(published, reactor, threadpool, extra=None):
    """``extra``: more resources by path (``/readyz``, ``/metrics``)."""
    root = Branch()
    root.putChild(b"healthz", Health())
    for path, child in (extra or {}).items():
        root.putChild(path, child)
    for service in published:
        prefix, name = service.path.strip("/").encode().split(b"/")
        if prefix not in root.children:
            root.putChild(prefix, Branch())
        root.children[prefix].putChild(name, SoapEndpoint(service, reactor, threadpool))
    return root


def build_site(root, max_body):
    # SOAP bodies are never HTML forms: Twisted's form parsing would read every POST's
    # Content-Type through the email package (12% of a SubmitEvent's CPU).
    site = server.Site(root, parsePOSTFormSubmission=False)
    site.requestFactory = request_factory(max_body)
    site.protocol = LimitedChannel  # answers what Twisted cannot read (HTTP/1.1, as the default was here)
    site.log = lambda request: None  # no access log: it costs per request and says little
    return site
