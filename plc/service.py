"""The barriers of a gateway: one LaneController per lane that has a PLC in the configuration."""

import logging

from twisted.application import service
from twisted.internet import defer, threads

from .driver import ModbusBarrierDriver
from .lane import LaneController

log = logging.getLogger("parkgate.plc")


class Barriers(service.Service):
    """Starts and stops the lane controllers; finds a lane's controller by camera or number.

    Incidents are written to the database in ``threadpool`` (never on the reactor thread)
    by ``record(facility_id, lane_number, kind, event_id, detail)``.
    """

    def __init__(self, config, reactor, threadpool, record, now, lease=None, lease_period=2.0):
        """``lease``: an :class:`~plc.interfaces.ILaneLease` when several nodes share the lanes."""
        self.reactor = reactor
        self.controllers = {}  # (facility id, lane number) -> LaneController
        self._by_camera = {}
        for fac in config.facilities.values():
            for lane in fac.lanes.values():
                if lane.plc is None:
                    continue
                driver = ModbusBarrierDriver(lane.plc.host, port=lane.plc.port, unit=lane.plc.unit,
                                             registers=lane.plc.registers, timeout=config.plc.timeout)
                controller = LaneController(
                    driver, clock=reactor, facility_id=fac.id, lane_number=lane.number, settings=config.plc,
                    now=now, record_incident=lambda *a: threads.deferToThreadPool(reactor, threadpool, record, *a),
                    lease=lease, lease_period=lease_period)
                self.controllers[(fac.id, lane.number)] = controller
                self._by_camera[(fac.id, lane.camera_id)] = controller

    def by_camera(self, facility_id, camera_id):
        return self._by_camera.get((facility_id, camera_id))

    def by_number(self, facility_id, lane_number):
        return self.controllers.get((facility_id, lane_number))

    def startService(self):
        super().startService()
        for controller in self.controllers.values():
            controller.start()

    def stopService(self):
        """Deferred: every lane's pulse coils reset (each within the Modbus timeout), connections closed."""
        super().stopService()
        stopped = [controller.stop() for controller in self.controllers.values()]
        return defer.DeferredList(stopped, consumeErrors=True).addCallback(lambda _: None)
