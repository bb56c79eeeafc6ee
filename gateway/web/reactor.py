"""The gateway's reactor: Twisted on asyncio (pymodbus's coroutines run on the reactor's own loop).

Every SOAP answer comes back from its request thread by ``callFromThread``. Twisted's asyncio
reactor makes each such call a timed call due now: a handle on the loop that then schedules a
``DelayedCall`` (a heap push, the loop's timer taken back and set again), run by the next timer
tick. Here the call goes on the loop's queue as it is and runs from there, in order with the
other calls from threads, its failure logged as Twisted logs one.
"""

from twisted.internet.asyncioreactor import AsyncioSelectorReactor
from twisted.internet.main import installReactor
from twisted.logger import Logger

_calledFromThread = Logger().failureHandler("while calling from thread")


class GatewayReactor(AsyncioSelectorReactor):
    def callFromThread(self, f, *args, **kwargs):
        self._asyncioEventloop.call_soon_threadsafe(_run, f, args, kwargs)


def _run(f, args, kwargs):
    with _calledFromThread:
        f(*args, **kwargs)


def install(eventloop=None) -> GatewayReactor:
    """Install it as Twisted's reactor (``eventloop``: the asyncio loop it runs on; default the global one)."""
    reactor = GatewayReactor(eventloop)
    installReactor(reactor)
    return reactor
