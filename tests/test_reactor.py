"""The gateway's reactor (gateway.web.reactor): calls from threads, as every SOAP answer comes back."""

import threading

from twisted.internet import reactor
from twisted.internet.threads import blockingCallFromThread
from twisted.logger import globalLogPublisher

from gateway.web.reactor import GatewayReactor


def test_the_gateway_runs_on_its_reactor(reactor_thread):
    assert isinstance(reactor, GatewayReactor)


def test_calls_from_threads_run_on_the_reactor_in_order_and_a_failing_one_is_logged(reactor_thread):
    """Each thread's calls run on the reactor's thread in the order it made them, with their arguments;
    one that raises is logged as Twisted logs it, and the calls after it still run."""
    ran, done, logged = [], threading.Event(), []
    reactors = blockingCallFromThread(reactor, threading.get_ident)

    def observer(event):
        if event.get("log_failure") is not None:
            logged.append((event["log_failure"].type, event.get("log_format")))
    globalLogPublisher.addObserver(observer)
    try:
        def call(thread, n, keyword=None):
            ran.append((thread, n, keyword, threading.get_ident() == reactors))

        def fail():
            raise ValueError("a failing call")

        def thread(name):
            for n in range(50):
                reactor.callFromThread(call, name, n, keyword=n * 2)
                if n == 25:
                    reactor.callFromThread(fail)
        workers = [threading.Thread(target=thread, args=(name,)) for name in "ab"]
        for w in workers:
            w.start()
        for w in workers:
            w.join()
        reactor.callFromThread(done.set)
        assert done.wait(10)
    finally:
        globalLogPublisher.removeObserver(observer)
    for name in "ab":
        assert [(n, k) for t, n, k, _ in ran if t == name] == [(n, n * 2) for n in range(50)]
    assert all(on_reactor for *_, on_reactor in ran)
    assert logged == [(ValueError, "while calling from thread")] * 2

