"""A delivery worker per destination, and the service that runs them.

A worker takes the destination's due messages from the outbox (in a thread), checks each
against xsd/ (a document that fails is dead-lettered with the reason, never sent), hands
them to the channel (in a thread, with timeouts) and records the outcome: delivered; failed,
retried with capped back-off until the message is ``max_age`` old (an outage of hours loses
nothing); or refused, as the destination would refuse it again (dead-lettered at once, with
the reason). It runs again at once while there is work, sleeps until the head's retry time
while backing off, and waits for a wake-up (a commit that owes it something) or the poll
interval when idle. A slow or dead destination only ever occupies its own worker: lane
decisions never wait for it.
"""

import logging

from twisted.application import service
from twisted.internet import threads

from .channels import DeliveryFailed, DeliveryRefused, channel_for

log = logging.getLogger("parkgate.relay")


class DeliveryWorker:
    """``linger``: after a wake-up, wait this long so that one round takes what several commits
    owe (fewer, larger rounds: less bookkeeping competing with lane events for the database)."""

    def __init__(self, destination, channel, outbox, contract, reactor, threadpool, poll_interval=1.0, linger=0.2):
        self.destination = destination
        self.channel = channel
        self.outbox = outbox
        self.contract = contract
        self.reactor = reactor
        self.threadpool = threadpool
        self.poll_interval = poll_interval
        self.linger = linger
        self.running = False
        self._busy = False
        self._rerun = False
        self._timer = None

    def start(self):
        self.running = True
        self._schedule(0)

    def stop(self):
        self.running = False
        if self._timer is not None and self._timer.active():
            self._timer.cancel()

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
        self._busy = False
        if self.running:
            self._schedule(min(self.linger, wait) if self._rerun else wait)

    def _crashed(self, failure):
        self._busy = False
        log.error("relay %s: worker step failed: %s", self.destination.name, failure.getErrorMessage())
        if self.running:
            self._schedule(self.poll_interval)

    def step(self):
        """One round, blocking: returns how many seconds to wait before the next."""
        d = self.destination
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
            error = self.contract.schema_error(row.document)
            if error:
                log.error("relay %s: message %d fails the schema, not sent", d.name, row.id)
                self.outbox.reject(row.id, f"schema: {error}")
            else:
                sendable.append(row)
        # A batched destination takes them as one document; any other one by one, in order,
        # stopping at the first failure (a refusal is dead-lettered, and the next one goes on).
        # The bookkeeping of what was delivered is one update for the whole round.
        groups = [sendable] if d.batched else [[row] for row in sendable]
        done = []
        try:
            for group in groups:
                try:
                    self.channel.deliver(group)
                except DeliveryRefused as e:
                    log.error("relay %s: %d message(s) refused, dead-lettered: %s", d.name, len(group), e)
                    self.outbox.failed(d.name, group, str(e), refused=True)
                    continue
                except DeliveryFailed as e:
                    log.warning("relay %s: delivery of %d message(s) failed: %s", d.name, len(group), e)
                    self.outbox.failed(d.name, group, str(e))
                    break  # take() then says when the head is due again
                done.extend(row.id for row in group)
        finally:
            if done:
                self.outbox.delivered(done)
        return 0


class Relays(service.Service):
    """One worker per configured destination, with a thread pool sized for them. ``contract``:
    the documents' namespace, parser and schema (:class:`adapters.contract.Contract`)."""

    def __init__(self, outbox, contract, reactor, threadpool, poll_interval=1.0, linger=0.2,
                 channel_factory=channel_for):
        self.outbox = outbox
        self.workers = {name: DeliveryWorker(dest, channel_factory(dest, contract), outbox, contract, reactor,
                                             threadpool, poll_interval, linger)
                        for name, dest in outbox.destinations.items()}

    def startService(self):
        super().startService()
        for worker in self.workers.values():
            worker.start()

    def stopService(self):
        for worker in self.workers.values():
            worker.stop()
        return super().stopService()

    def wake(self, names):
        for name in names:
            worker = self.workers.get(name)
            if worker is not None:
                worker.wake()
