"""Open data over HTTP, read-only and without credentials (issue 17).

- ``/datex2/table`` and ``/datex2/status`` (``?facility=ID``: one facility): the DATEX II v3
  ParkingTablePublication and ParkingStatusPublication, each a whole ``d2:payload`` document;
- ``/signage`` (``?facility=ID``, ``?format=json``; default XML): free spaces for signs.

The occupancy is read in the SOAP requests' thread pool (:class:`gateway.web.ops._Deferred`); an unknown
facility is a 404 that says so, never an empty answer.
"""

from ..domain.errors import UnknownFacility
from .ops import _Deferred
from .site import Branch


class _Feed(_Deferred):
    """A GET whose ``?facility=`` picks one facility (default: all)."""

    content_type = b"application/xml; charset=utf-8"

    @staticmethod
    def facility(request):
        return request.args.get(b"facility", [b""])[0].decode("utf-8", "replace") or None

    def type_for(self, request):
        return self.content_type

    def answer(self, request, body):
        request.setHeader(b"Content-Type", self.type_for(request))
        request.setHeader(b"Cache-Control", b"no-cache")
        request.write(body)
        request.finish()

    def failed(self, request, failure):
        if failure.check(UnknownFacility):
            request.setResponseCode(404)
            request.setHeader(b"Content-Type", b"text/plain; charset=utf-8")
            request.write(f"{failure.value.message}\n".encode())
            request.finish()
            return
        super().failed(request, failure)


class Datex2(_Feed):
    """``kind``: ``table`` or ``status``."""

    def __init__(self, open_data, kind, reactor, threadpool):
        super().__init__(reactor, threadpool)
        self.publish = {"table": open_data.table, "status": open_data.status}[kind]

    def work(self, request):
        return self.publish(self.facility(request))


class Signage(_Feed):
    def __init__(self, open_data, reactor, threadpool):
        super().__init__(reactor, threadpool)
        self.open_data = open_data

    @staticmethod
    def _json(request):
        return request.args.get(b"format", [b"xml"])[0].lower() == b"json"

    def type_for(self, request):
        return b"application/json" if self._json(request) else self.content_type

    def work(self, request):
        return self.open_data.signage(self.facility(request), as_json=self._json(request))


def datex2_resource(open_data, reactor, threadpool):
    root = Branch()
    for kind in ("table", "status"):
        root.putChild(kind.encode(), Datex2(open_data, kind, reactor, threadpool))
    return root
