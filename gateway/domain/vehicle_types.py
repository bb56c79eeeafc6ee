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


#: The contract's VehicleClass (what a camera or a caller says it saw) -> the type that charges it.
_OF_CLASS = {"Sedan": CAR, "SUV": CAR, "Truck": TRUCK, "Van": VAN, "Motorcycle": MOTORCYCLE, "Bus": BUS}
VEHICLE_CLASSES = tuple(_OF_CLASS)
#: A type -> the VehicleClass a lane for that type says of every vehicle (a car lane says none: a
#: car is a Sedan or an SUV, and nothing is written that was not seen).
_CLASS_OF = {MOTORCYCLE: "Motorcycle", VAN: "Van", TRUCK: "Truck", BUS: "Bus"}


def of_class(vehicle_class: str | None) -> str:
    """The vehicle type an event's VehicleClass is charged as (a car when none is given)."""
    return _OF_CLASS.get(vehicle_class or "", DEFAULT)


def class_of(kind: str | None) -> str | None:
    """The contract's VehicleClass of every vehicle of ``kind`` (None: the type does not say one)."""
    return _CLASS_OF.get(kind or "")
