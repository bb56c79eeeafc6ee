"""A delivery worker per destination, and the service that runs them.

A worker takes the destination's due messages from the outbox (in a thread), checks each
against its kind's schema (xsd/, or the official DATEX II schemas for a DATEX II publication; a
document that fails is dead-lettered with the reason, never sent), hands them to the channel
(in a thread, with timeouts) and records the outcome: delivered; failed, retried with capped
back-off until the message is ``max_age`` old (an outage of hours loses nothing); or refused, as
the destination would refuse it again (dead-lettered at once, with the reason). It runs again
at once while there is work, sleeps until the head's retry time while backing off, and waits for
a wake-up (a commit that owes it something) or the poll interval when idle. A slow or dead
destination only ever occupies its own worker: lane decisions never wait for it.

Where several nodes share the database, every node runs a worker per destination, and only
the holder of the destination's lease delivers (:meth:`adapters.outbox.Outbox.claim`). The
holder renews it at half its length and starts a request only with half a lease left, so a
request ends before the lease can pass to another node; a node that stops gives its leases up.
"""

import logging
import os
import secrets
import socket
from datetime import timedelta

from twisted.application import service
from twisted.internet import defer, threads

from .channels import DeliveryFailed, DeliveryRefused, channel_for

log = logging.getLogger("parkgate.relay")


def node_name(port=None):
    """This node as a lease holder. With the gateway's listen port, host and port: unique on the
    host and the same after a restart, so that a gateway restarted after a crash takes its
    queues back at once instead of waiting for its old leases to expire. Without: host, process
    and a random part (unique even for two gateways in one process)."""
    host = socket.gethostname()[:64]
    return f"{host}:{port}" if port else f"{host}:{os.getpid()}:{secrets.token_hex(4)}"


class DeliveryWorker:
    """``node``: the name this worker holds the destination's lease under. ``linger``: after a
    wake-up, wait this long so that one round takes what several commits owe (fewer, larger
    rounds: less bookkeeping competing with lane events for the database)."""

    #: Deliveries recorded together (one UPDATE); also the most a crash makes another node repeat.
    RECORD_EVERY = 10

    def __init__(self, destination, channel, outbox, contract, reactor, threadpool, node, poll_interval=1.0,
                 linger=0.2):
        self.destination = destination
        self.channel = channel
        self.outbox = outbox
        self.contract = contract
        self.reactor = reactor
        self.threadpool = threadpool
        self.node = node
        self.poll_interval = poll_interval
        self.linger = linger
        self.running = False
        self.stopping = False     # stop() was called: a round in progress ends after its request
        self._busy = False
        self._rerun = False
        self._timer = None
        self._idle = []           # Deferreds waiting for the step in progress to end
        self._held_until = None   # this node's lease on the destination, as far as it knows

    def start(self):
        self.running, self.stopping = True, False
        self._schedule(0)

    def stop(self):
        """Stop; the Deferred fires once the step in progress (if any) has ended."""
        self.running, self.stopping = False, True
        if self._timer is not None and self._timer.active():
            self._timer.cancel()
        if not self._busy:
            return defer.succeed(None)
        d = defer.Deferred()
        self._idle.append(d)
        return d

    def wake(self):
        """Something may be due: run now (or right after the step in progress)."""
        if not self.running:
            return
        if self._busy:
            self._rerun = True
        else:
            self._schedule(self.linger)

    def _schedule(self, delay):
        if self._timer is not None and self._timer.active():
            if self._timer.getTime() <= self.reactor.seconds() + delay:
                return
            self._timer.cancel()
        self._timer = self.reactor.callLater(max(delay, 0), self._run)

    def _run(self):
        self._timer = None
        if not self.running or self._busy:
            return
        self._busy, self._rerun = True, False
        d = threads.deferToThreadPool(self.reactor, self.threadpool, self.step)
        d.addCallbacks(self._done, self._crashed)

    def _done(self, wait):
        self._ended()
        if self.running:
            self._schedule(min(self.linger, wait) if self._rerun else wait)

    def _crashed(self, failure):
        self._ended()
        log.error("relay %s: worker step failed: %s", self.destination.name, failure.getErrorMessage())
        if self.running:
            self._schedule(self.poll_interval)

    def _ended(self):
        self._busy = False
        waiting, self._idle = self._idle, []
        for d in waiting:
            d.callback(None)

    def holds_lease(self):
        """Whether this node holds the destination's queue for at least half a lease more,
        renewing the lease when less is left (blocking: database)."""
        d = self.destination
        now = self.outbox.clock()
        if self._held_until is None or self._held_until - now < timedelta(seconds=d.lease / 2):
            self._held_until = self.outbox.claim(d.name, self.node, d.lease)
        return self._held_until is not None

    def step(self):
        """One round, blocking: returns how many seconds to wait before the next."""
        d = self.destination
        if not self.holds_lease():
            return self.poll_interval  # another node delivers this destination; it may die
        rows, next_due = self.outbox.take(d.name)
        now = self.outbox.clock()
        if not rows:
            # Wake again when the head is due, and at least every poll interval: an operator's
            # `parkgate outbox retry` (another process) makes messages due without waking us.
            wait = (next_due - now).total_seconds() if next_due else self.poll_interval
            return min(max(wait, 0), self.poll_interval)
        if d.batched and len(rows) < d.batch_max:
            window_ends = rows[0].created_at.timestamp() + d.batch_window
            if window_ends > now.timestamp():
                return window_ends - now.timestamp()
        sendable = []
        for row in rows:
            error = self.contract.schema_error(row.document, row.kind)
            if error:
                log.error("relay %s: message %d fails the schema, not sent", d.name, row.id)
                self.outbox.reject(row.id, f"schema: {error}")
            else:
                sendable.append(row)
        # A batched destination takes them as one document; any other one by one, in order,
        # stopping at the first failure (a refusal is dead-lettered, and the next one goes on).
        # What was delivered is recorded in one update per RECORD_EVERY messages: should this
        # node die, the node that takes over sends again (same keys) at most that many.
        groups = [sendable] if d.batched else [[row] for row in sendable]
        done, skipped = [], []
        try:
            for group in groups:
                if self.stopping or not self.holds_lease():
                    break  # stopping, or the lease was lost (this node stalled): the rest waits
                try:
                    left_out = set(self.channel.deliver(group))
                except DeliveryRefused as e:
                    log.error("relay %s: %d message(s) refused, dead-lettered: %s", d.name, len(group), e)
                    self.outbox.failed(d.name, group, str(e), refused=True)
                    continue
                except DeliveryFailed as e:
                    log.warning("relay %s: delivery of %d message(s) failed: %s", d.name, len(group), e)
                    self.outbox.failed(d.name, group, str(e))
                    break  # take() then says when the head is due again
                for row in group:
                    (skipped if row.id in left_out else done).append(row.id)
                if len(done) + len(skipped) >= self.RECORD_EVERY:
                    self.outbox.delivered(done, skipped)
                    done, skipped = [], []
        finally:
            if done or skipped:
                self.outbox.delivered(done, skipped)
        return 0


class Relays(service.Service):
    """One worker per configured destination, with a thread pool sized for them. ``contract``:
    the documents' namespace, parser and schema (:class:`adapters.contract.Contract`); ``node``:
    this node's name as a lease holder (the same across restarts of one gateway's relay process,
    so that a restarted process takes its queues back at once)."""

    def __init__(self, outbox, contract, reactor, threadpool, node=None, poll_interval=1.0, linger=0.2,
                 channel_factory=channel_for):
        self.outbox = outbox
        self.reactor = reactor
        self.threadpool = threadpool
        self.node = node or node_name()
        self.workers = {name: DeliveryWorker(dest, channel_factory(dest, contract), outbox, contract, reactor,
                                             threadpool, self.node, poll_interval, linger)
                        for name, dest in outbox.destinations.items()}

    def startService(self):
        super().startService()
        for worker in self.workers.values():
            worker.start()

    def stopService(self):
        """Stop the workers; once their steps have ended, give this node's leases up."""
        super().stopService()
        d = defer.gatherResults([worker.stop() for worker in self.workers.values()])
        if self.workers:
            d.addCallback(lambda _: threads.deferToThreadPool(self.reactor, self.threadpool, self.outbox.release,
                                                              self.node))
            d.addErrback(lambda f: log.warning("relay: leases not given up (they expire): %s", f.getErrorMessage()))
        return d

    def wake(self, names):
        for name in names:
            worker = self.workers.get(name)
            if worker is not None:
                worker.wake()
