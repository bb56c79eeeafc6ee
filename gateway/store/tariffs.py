"""Tariff versions set since start: appended, never changed (the configured defaults are not stored)."""

import json
from dataclasses import replace
from datetime import datetime

from sqlalchemy import Connection, func, select

from ..domain.tariff_settings import settings_of, version_from_settings
from ..domain.tariffs import TariffVersion
from .schema import TariffVersionRecord, table_of

_VERSIONS = table_of(TariffVersionRecord)


def insert(conn: Connection, version: TariffVersion) -> TariffVersion:
    """``version`` kept; returned with its number."""
    assert version.set_at is not None
    inserted = conn.execute(_VERSIONS.insert().values(
        facility_id=version.facility_id, vehicle_type=version.vehicle_type, effective_from=version.effective_from,
        currency=version.currency, rules=json.dumps(settings_of(version), sort_keys=True), set_by=version.set_by,
        set_at=version.set_at, reason=version.reason)).inserted_primary_key
    assert inserted is not None
    number = inserted[0]
    return replace(version, version=number)


def of_facility(conn: Connection, facility_id: str) -> list[TariffVersion]:
    rows = conn.execute(select(_VERSIONS).where(_VERSIONS.c.facility_id == facility_id).order_by(_VERSIONS.c.id))
    return [_version(row._mapping) for row in rows]


def latest_number(conn: Connection) -> int:
    """The last version's number, any facility (0: none): whether a cached tariff is still current."""
    return conn.execute(select(func.coalesce(func.max(_VERSIONS.c.id), 0))).scalar_one()


def _version(row) -> TariffVersion:
    effective_from: datetime = row["effective_from"]
    return version_from_settings(json.loads(row["rules"]), facility_id=row["facility_id"],
                                 vehicle_type=row["vehicle_type"], effective_from=effective_from,
                                 currency=row["currency"], version=row["id"], set_by=row["set_by"],
                                 set_at=row["set_at"], reason=row["reason"])
