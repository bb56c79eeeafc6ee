"""The delivery workers in a child process of their own (`parkgate relay`).

Delivering is CPU work in Python (HTTP clients, XML, bookkeeping); in the gateway's process it
would compete with lane decisions for the interpreter lock. In a child process it does not.
The gateway wakes the child through its standard input when a commit owes a destination
something (the child also polls), restarts it when it dies, and stops it on shutdown. The
child stops when its standard input closes, so it never outlives the gateway.
"""

import logging
import os

from twisted.application import service
from twisted.internet import defer, protocol
from twisted.protocols.basic import LineReceiver

log = logging.getLogger("parkgate.relay")


class _Child(protocol.ProcessProtocol):
    def __init__(self, owner):
        self.owner = owner
        self.ended = defer.Deferred()

    def processEnded(self, reason):
        self.ended.callback(None)
        self.owner._ended(self, reason)


class RelayProcess(service.Service):
    def __init__(self, argv, reactor, restart_delay=1.0):
        self.argv = argv
        self.reactor = reactor
        self.restart_delay = restart_delay
        self.child = None
        self.restarts = 0

    def startService(self):
        super().startService()
        self._spawn()

    def _spawn(self):
        if not self.running:
            return
        self.child = _Child(self)
        self.reactor.spawnProcess(self.child, self.argv[0], self.argv, env=dict(os.environ),
                                  childFDs={0: "w", 1: 1, 2: 2})

    def _ended(self, child, reason):
        if child is self.child:
            self.child = None
        if self.running:
            self.restarts += 1
            log.error("relay process ended (%s); restarting", reason.getErrorMessage())
            self.reactor.callLater(self.restart_delay, self._spawn)

    def wake(self, names):
        child = self.child
        if child is not None and child.transport is not None:
            child.transport.write(("wake " + " ".join(names) + "\n").encode())

    def stopService(self):
        super().stopService()
        child, self.child = self.child, None
        if child is None or child.transport is None:
            return defer.succeed(None)
        child.transport.closeStdin()  # the child stops by itself when its input closes
        kill = self.reactor.callLater(10, lambda: child.transport.signalProcess("KILL"))
        return child.ended.addBoth(lambda _: kill.active() and kill.cancel())


class WakeReader(LineReceiver):
    """The child's side: ``wake NAME ...`` lines from the gateway; end of input ends the child."""

    delimiter = b"\n"

    def __init__(self, relays, on_close):
        self.relays = relays
        self.on_close = on_close

    def lineReceived(self, line):
        words = line.decode(errors="replace").split()
        if words and words[0] == "wake":
            self.relays.wake(words[1:])

    def connectionLost(self, reason):
        self.on_close()
