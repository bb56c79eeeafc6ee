"""Tariffs per facility and vehicle type: the configured defaults, and the versions set since.

A version set (SetTariff, ``parkgate tariff set``) is appended, in force from its effective time
(now or later: never earlier, so that no stay already under way, or charged, is re-priced
backwards). What a stay costs is the domain's :func:`gateway.domain.tariffs.fee` over them.

Each facility's versions are read once and kept; a version set here is seen at once, one set
on another node within ``refresh_s``.
"""

import time
from collections.abc import Callable, Mapping
from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import Connection

from ..domain import times
from ..domain.errors import InvalidInput, InvalidTime
from ..domain.facility import Facility, find_facility
from ..domain.tariff_settings import version_from_settings
from ..domain.tariffs import Schedule, TariffVersion, chain, configured
from ..domain.vehicle_types import VEHICLE_TYPES, vehicle_type
from ..store import audit
from ..store import tariffs as stored
from ..store.engine import Store
from .clock import Clock
from .refreshed import PerFacility


class Tariffs:
    def __init__(self, *, facilities: Mapping[str, Facility], store: Store, clock: Clock, refresh_s: float = 5.0,
                 monotonic: Callable[[], float] = time.monotonic) -> None:
        self.facilities = facilities
        self.store = store
        self.clock = clock
        self._schedules = PerFacility(store=store, load=self._load, refresh_s=refresh_s, monotonic=monotonic)

    def schedule(self, facility_id: str, conn: Connection | None = None) -> Schedule:
        """The facility's versions (every vehicle type): the configured ones, then those set since.
        ``conn``: the unit of work the caller is in (read on it: a second one would wait for it)."""
        return self._schedules.get(find_facility(self.facilities, facility_id).id, conn)

    def _load(self, conn: Connection, facility_id: str) -> Schedule:
        fac = self.facilities[facility_id]
        base = configured(fac)
        return Schedule(base.versions + tuple(stored.of_facility(conn, fac.id)), base.zone)

    def listing(self, facility_id: str, vehicle_type_: str | None = None,
                at: datetime | None = None) -> list[TariffVersion]:
        """Every version (the history, oldest first), or with ``at`` those in force then; of one
        vehicle type or of all."""
        sched = self.schedule(facility_id)
        kinds = [vehicle_type(vehicle_type_)] if vehicle_type_ else list(VEHICLE_TYPES)
        if at is not None:
            when = times.aware(at, "At")
            return [sched.in_force(k, when) for k in kinds]
        return [v for k in kinds for v in chain(sched.versions, k)]

    def fee(self, facility_id: str, vehicle_type_: str | None, entry: datetime,
            leave: datetime) -> tuple[Decimal, str]:
        """(charge, currency) of a stay: what a ticket, a quote or a report asks."""
        kind = vehicle_type(vehicle_type_)
        entry, leave = times.aware(entry, "EntryTime"), times.aware(leave, "ExitTime")
        if leave < entry:
            raise InvalidTime("the stay ends before it starts", "ExitTime")
        sched = self.schedule(facility_id)
        return sched.fee(kind, entry, leave), sched.in_force(kind, entry).currency

    def set(self, facility_id: str, vehicle_type_: str, settings: Mapping[str, Any], username: str,
            effective_from: datetime | None = None, reason: str | None = None) -> TariffVersion:
        """A new version of the vehicle type's tariff: the version in force at ``effective_from``
        (default now) with ``settings`` on top (only what changes need be given)."""
        kind = vehicle_type(vehicle_type_)
        fac = find_facility(self.facilities, facility_id)
        now = self.clock()
        when = times.aware(effective_from, "EffectiveFrom") if effective_from is not None else now
        if when < now:
            raise InvalidTime("a tariff takes effect now or later: history is never re-priced", "EffectiveFrom")
        if not settings:
            raise InvalidInput("give at least one setting that changes", "Settings")
        base = self.schedule(fac.id).in_force(kind, when)
        version = version_from_settings(settings, facility_id=fac.id, vehicle_type=kind, effective_from=when,
                                        currency=base.currency, base=base, set_by=username, set_at=now,
                                        reason=reason)
        with self.store.connection() as conn:
            version = stored.insert(conn, version)
            audit.record(conn, now, username, "SetTariff", f"{fac.id}/{kind}",
                         f"version {version.version} from {when.isoformat()}" + (f": {reason}" if reason else ""))
        self._schedules.forget(fac.id)
        return version
