"""The request threads (gateway.web.pool.RequestPool): what Twisted's ThreadPool did for the gateway."""

import threading

from twisted.internet import reactor
from twisted.internet.threads import blockingCallFromThread, deferToThreadPool
from twisted.logger import globalLogPublisher

from gateway.web.pool import RequestPool


def results(pool, calls):
    """Each call's (ok, result or the exception's type), in the order of the calls."""
    got, done = {}, threading.Semaphore(0)

    def on_result(n, ok, result):
        got[n] = (ok, result if ok else result.type)
        done.release()
    for n, (func, args) in enumerate(calls):
        pool.callInThreadWithCallback(lambda ok, result, n=n: on_result(n, ok, result), func, *args)
    for _ in calls:
        assert done.acquire(timeout=10)
    return [got[n] for n in range(len(calls))]


def test_a_call_returns_its_result_or_its_failure_and_the_thread_goes_on():
    pool = RequestPool(1, 1, "test")
    pool.start()
    try:
        assert results(pool, [(pow, (2, 10)), (int, ("x",)), (pow, (3, 2))]) == \
            [(True, 1024), (False, ValueError), (True, 9)]
        assert len(pool.threads) == 1 and pool.threads[0].name == "PoolThread-test-0"
    finally:
        pool.stop()
    assert not any(t.is_alive() for t in pool.threads)


def test_calls_run_at_once_up_to_maxthreads_and_wait_beyond():
    """A call that finds no idle thread gets a new one up to ``maxthreads``; beyond, it waits for one."""
    pool = RequestPool(0, 3, "test")
    pool.start()
    release, running, changed = threading.Event(), [], threading.Condition()

    def held(n):
        with changed:
            running.append(n)
            changed.notify_all()
        assert release.wait(10)
        return n
    try:
        got, done = [], threading.Semaphore(0)
        for n in range(5):
            pool.callInThreadWithCallback(lambda ok, r: (got.append(r), done.release()), held, n)
        with changed:
            assert changed.wait_for(lambda: len(running) == 3, timeout=10)
            assert sorted(running) == [0, 1, 2] and len(pool.threads) == 3   # 3 and 4 wait
        release.set()
        for _ in range(5):
            assert done.acquire(timeout=10)
        assert sorted(got) == [0, 1, 2, 3, 4] and len(pool.threads) == 3
    finally:
        release.set()
        pool.stop()


def test_calls_made_before_start_wait_for_it_and_stop_lets_calls_made_finish():
    pool = RequestPool(0, 2, "test")
    ran = []
    for n in range(4):
        pool.callInThread(ran.append, n)
    assert not pool.threads and not ran
    pool.start()
    pool.stop()
    assert sorted(ran) == [0, 1, 2, 3]
    pool.callInThread(ran.append, 9)   # after stop: nothing
    assert sorted(ran) == [0, 1, 2, 3]


def test_a_failure_nobody_is_told_of_or_a_failing_callback_is_logged(reactor_thread):
    logged = []

    def observer(event):
        if event.get("log_failure") is not None:
            logged.append(event["log_failure"].type)
    globalLogPublisher.addObserver(observer)
    pool = RequestPool(1, 1, "test")
    pool.start()
    try:
        pool.callInThread(int, "x")

        def failing_callback(ok, result):
            raise KeyError("callback")
        pool.callInThreadWithCallback(failing_callback, pow, 2, 2)
        assert results(pool, [(pow, (2, 3))]) == [(True, 8)]   # the thread went on
    finally:
        pool.stop()
        globalLogPublisher.removeObserver(observer)
    assert logged == [ValueError, KeyError]


def test_deferred_to_it_from_the_reactor(reactor_thread):
    pool = RequestPool(0, 2, "test")
    pool.start()
    try:
        assert blockingCallFromThread(reactor, deferToThreadPool, reactor, pool, pow, 2, 5) == 32
    finally:
        pool.stop()
