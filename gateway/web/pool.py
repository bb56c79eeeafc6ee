"""The request threads: what Twisted's ThreadPool does for the gateway, at a quarter of its cost a call.

Every SOAP request (and every database call the reactor hands off) is one call into this pool.
Twisted's ThreadPool runs each through a coordinator (a lock-guarded worker of its own), a
per-thread Condition queue and its context tracking: about 80,000 instructions a call measured
(callgrind), where a C queue that idle threads wait on costs about 25,000. The interface is the
part of ThreadPool that the gateway and Twisted's ``deferToThreadPool`` use: ``start``, ``stop``,
``callInThread``, ``callInThreadWithCallback``.
"""

import threading
from queue import SimpleQueue

from twisted.logger import Logger
from twisted.python.failure import Failure

_log = Logger()
_STOP = None


class RequestPool:
    """Up to ``maxthreads`` threads named ``name``-N (``minthreads`` made at start, more as calls
    find none idle); a call made before ``start`` waits for it; ``stop`` lets the calls already
    made finish, then joins the threads."""

    def __init__(self, minthreads: int = 0, maxthreads: int = 16, name: str = "pool") -> None:
        self.min, self.max, self.name = minthreads, maxthreads, name
        self.threads: list[threading.Thread] = []
        self.started = self.joined = False
        self._calls: SimpleQueue = SimpleQueue()
        self._idle = 0              # threads waiting for a call
        self._lock = threading.Lock()

    def start(self) -> None:
        with self._lock:
            self.started = True
            while len(self.threads) < min(self.max, max(self.min, self._calls.qsize())):
                self._grow()

    def callInThread(self, func, *args, **kwargs) -> None:
        self.callInThreadWithCallback(None, func, *args, **kwargs)

    def callInThreadWithCallback(self, onResult, func, *args, **kwargs) -> None:
        """``func(*args, **kwargs)`` in a thread, then (in that thread) ``onResult(True, result)``, or
        ``onResult(False, Failure)`` when it raised (None: a failure is logged)."""
        if self.joined:
            return
        self._calls.put((onResult, func, args, kwargs))
        with self._lock:
            if self.started and self._calls.qsize() > self._idle and len(self.threads) < self.max:
                self._grow()

    def stop(self) -> None:
        self.joined, self.started = True, False
        with self._lock:
            threads = list(self.threads)
        for _ in threads:
            self._calls.put(_STOP)
        for thread in threads:
            thread.join()

    def _grow(self) -> None:
        thread = threading.Thread(target=self._work, name=f"PoolThread-{self.name}-{len(self.threads)}")
        self.threads.append(thread)
        thread.start()

    def _work(self) -> None:
        lock, calls = self._lock, self._calls
        while True:
            with lock:
                self._idle += 1
            call = calls.get()
            with lock:
                self._idle -= 1
            if call is _STOP:
                return
            onResult, func, args, kwargs = call
            del call   # nothing of a call outlives it in an idle thread
            try:
                result, ok = func(*args, **kwargs), True
            except BaseException:
                result, ok = Failure(), False
            del func, args, kwargs
            if onResult is None:
                if not ok:
                    _log.failure("in a thread of {name}", result, name=self.name)
            else:
                try:
                    onResult(ok, result)
                except BaseException:   # as Twisted's pool: logged, and the thread goes on
                    _log.failure("in a thread of {name}", name=self.name)
            del onResult, result
