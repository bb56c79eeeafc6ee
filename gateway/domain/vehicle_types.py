"""Vehicle types: what a lane admits, what a zone holds, which tariff charges a stay."""

from .errors import InvalidInput

CAR, MOTORCYCLE, VAN, TRUCK, BUS = "CAR", "MOTORCYCLE", "VAN", "TRUCK", "BUS"
VEHICLE_TYPES = (CAR, MOTORCYCLE, VAN, TRUCK, BUS)
DEFAULT = CAR


def vehicle_type(value: str | None, field: str = "VehicleType") -> str:
    """``value`` as one of :data:`VEHICLE_TYPES` (any case); ``None`` or empty: :data:`DEFAULT`."""
    if not value:
        return DEFAULT
    name = value.strip().upper()
    if name not in VEHICLE_TYPES:
        raise InvalidInput(f"unknown vehicle type {value!r} (known: {', '.join(VEHICLE_TYPES)})", field)
    return name
