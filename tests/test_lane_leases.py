"""A lane controller with a lease (several gateway nodes): it drives the PLC only while it holds the
lane's lease, stands by otherwise, takes the lane over when the lease comes free, and stops driving
when a lease it could not renew expires. On an injected clock, with the in-memory PLC."""

from datetime import UTC, datetime

from twisted.internet import defer, task
from zope.interface import implementer
from zope.interface.verify import verifyObject

from plc.interfaces import ILaneLease
from plc.lane import COMMANDED, OFFLINE, LaneController
from test_plc import Incidents, MemoryDriver


@implementer(ILaneLease)
class ScriptedLease:
    """Grants the lease while ``free``; fails (the database is down) while ``down``."""

    def __init__(self, seconds=3.0):
        self.seconds, self.free, self.down = seconds, True, False
        self.claims, self.released = 0, 0

    def claim(self, facility_id, lane_number):
        self.claims += 1
        if self.down:
            return defer.fail(ConnectionError("database unreachable"))
        return defer.succeed(self.seconds if self.free else None)

    def release(self, facility_id, lane_number):
        self.released += 1
        return defer.succeed(None)


def leased_lane(lease):
    clock, driver = task.Clock(), MemoryDriver()
    lane = LaneController(driver, clock=clock, facility_id="LOT-TEST", lane_number=1, record_incident=Incidents(),
                          now=lambda: datetime(2025, 1, 22, tzinfo=UTC), lease=lease, lease_period=1.0)
    lane.start()
    return clock, driver, lane


def test_the_scripted_lease_is_a_lane_lease():
    assert verifyObject(ILaneLease, ScriptedLease())


def test_a_lane_is_driven_only_while_its_lease_is_held():
    lease = ScriptedLease()
    lease.free = False                      # another node drives it
    clock, driver, lane = leased_lane(lease)
    assert not lane.driving and driver.connects == 0
    assert lane.open("E1").result == (OFFLINE, "another gateway node drives this lane")
    clock.advance(1.0)
    assert lease.claims == 2 and driver.connects == 0

    lease.free = True                       # that node died: its lease expired
    clock.advance(1.0)
    assert lane.driving and lane.online and driver.connects == 1
    assert lane.open("E2").result == (COMMANDED, "open pulse sent")

    lease.free = False                      # another node holds it now (this one stalled)
    clock.advance(1.0)
    assert not lane.driving and not lane.online and not driver.connected
    writes = len(driver.writes)
    clock.advance(5.0)
    assert len(driver.writes) == writes     # it leaves the PLC to the other node


def test_an_unrenewed_lease_stops_the_driving_when_it_expires():
    lease = ScriptedLease(seconds=3.0)
    clock, driver, lane = leased_lane(lease)
    assert lane.driving
    lease.down = True
    clock.advance(1.0)
    clock.advance(1.0)
    assert lane.driving                     # still within the lease it holds
    clock.advance(1.0)
    assert not lane.driving and not driver.connected
    lease.down = False
    clock.advance(1.0)
    assert lane.driving and lane.online


def test_stopping_gives_the_lease_up():
    lease = ScriptedLease()
    clock, driver, lane = leased_lane(lease)
    lane.stop()
    assert lease.released == 1
    claims = lease.claims
    clock.advance(5.0)
    assert lease.claims == claims
