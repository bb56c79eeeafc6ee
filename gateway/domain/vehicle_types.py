"""Vehicle types: what a lane admits, what a zone holds, which tariff charges a stay."""

from .errors import InvalidInput

CAR, MOTORCYCLE, VAN, TRUCK, BUS = "car", "motorcycle", "van", "truck", "bus"
VEHICLE_TYPES = (CAR, MOTORCYCLE, VAN, TRUCK, BUS)
DEFAULT = CAR


def vehicle_type(value: str | None, field: str = "VehicleType") -> str:
    """``value`` as one of :data:`VEHICLE_TYPES` (the contract's VehicleType; any case); ``None`` or
    empty: :data:`DEFAULT`."""
    if not value:
        return DEFAULT
    name = value.strip().lower()
    if name not in VEHICLE_TYPES:
        raise InvalidInput(f"unknown vehicle type {value!r} (known: {', '.join(VEHICLE_TYPES)})", field)
    return name
