"""HTTP: the Twisted site that carries the SOAP services, and ``/healthz``.

spyne runs as a WSGI application inside Twisted, in a thread pool of its own, so each SOAP
request (and the database work it does) runs off the reactor thread.
"""

from twisted.web import resource, server
from twisted.web.wsgi import WSGIResource

from . import memory
from .limits import request_factory


class SoapEndpoint(resource.Resource):
    """``/soap/<Service>`` (``/soap12/<Service>``): the WSDL on ``GET ?wsdl``, SOAP on POST (through
    spyne's WSGI app)."""

    isLeaf = True

    def __init__(self, published, wsgi_resource, reactor):
        super().__init__()
        self.wsdl = published.wsdl
        self.wsgi = wsgi_resource
        self.reactor = reactor

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
        return self.wsgi.render(request)


class Health(resource.Resource):
    """``/healthz`` for load balancers: no credentials, no database, just "serving"."""

    isLeaf = True

    def render_GET(self, request):
        request.setHeader(b"Content-Type", b"text/plain")
        return b"ok\n"


def build_root(published, reactor, threadpool, extra=None):
    """``extra``: more resources by path (``/readyz``, ``/metrics``)."""
    root = resource.Resource()
    root.putChild(b"healthz", Health())
    for path, child in (extra or {}).items():
        root.putChild(path, child)
    for service in published:
        prefix, name = service.path.strip("/").encode().split(b"/")
        if prefix not in root.children:
            root.putChild(prefix, resource.Resource())
        root.children[prefix].putChild(name, SoapEndpoint(service, WSGIResource(reactor, threadpool, service.wsgi),
                                                                reactor))
    return root


def build_site(root, max_body):
    # SOAP bodies are never HTML forms: Twisted's form parsing would read every POST's
    # Content-Type through the email package (12% of a SubmitEvent's CPU).
    site = server.Site(root, parsePOSTFormSubmission=False)
    site.requestFactory = request_factory(max_body)
    site.log = lambda request: None  # no access log: it costs per request and says little
    return site
