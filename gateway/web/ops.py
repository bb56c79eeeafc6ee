"""``/readyz`` and ``/metrics``: readiness for load balancers, Prometheus's scrape.

Both do blocking work (database, the relay queues), so they run it in the gateway's thread pool
and answer when it is done, within a deadline; the reactor never waits on them.
"""

import json

from twisted.internet import threads
from twisted.web import resource, server


class _Deferred(resource.Resource):
    isLeaf = True
    deadline = 5.0

    def __init__(self, reactor, threadpool):
        super().__init__()
        self.reactor = reactor
        self.threadpool = threadpool

    # A subclass gives ``work(request)``, the blocking part run in the pool (it may read the request's
    # arguments, nothing else of it), and ``answer(request, result)``, on the reactor.

    def render_GET(self, request):
        d = threads.deferToThreadPool(self.reactor, self.threadpool, self.work, request)
        d.addTimeout(self.deadline, self.reactor)
        d.addCallbacks(lambda result: self.answer(request, result), lambda failure: self.failed(request, failure))
        d.addErrback(lambda _: None)  # the client went away
        return server.NOT_DONE_YET

    def failed(self, request, failure):
        request.setResponseCode(503)
        request.setHeader(b"Content-Type", b"text/plain")
        request.write(f"unavailable: {failure.type.__name__}\n".encode())
        request.finish()


class Ready(_Deferred):
    """200 when every check passes, else 503; the checks as JSON either way."""

    deadline = 3.0

    def __init__(self, readiness, reactor, threadpool):
        super().__init__(reactor, threadpool)
        self.readiness = readiness

    def work(self, request):
        return self.readiness.checks()

    def answer(self, request, checks):
        ready = all(c.ok for c in checks)
        request.setResponseCode(200 if ready else 503)
        request.setHeader(b"Content-Type", b"application/json")
        request.write(json.dumps({"ready": ready, "checks": {c.name: {"ok": c.ok, "detail": c.detail}
                                                            for c in checks}}).encode() + b"\n")
        request.finish()


class MetricsPage(_Deferred):
    """Prometheus's text format."""

    def __init__(self, metrics, reactor, threadpool):
        super().__init__(reactor, threadpool)
        self.metrics = metrics

    def work(self, request):
        return self.metrics.exposition()

    def answer(self, request, body):
        request.setHeader(b"Content-Type", b"text/plain; version=0.0.4; charset=utf-8")
        request.write(body)
        request.finish()
