"""Plate text, normalised one way everywhere: upper case, no spaces, dashes or dots."""

import re

from .errors import InvalidInput

_SEPARATORS = re.compile(r"[\s\-.·_]+")
_PLATE = re.compile(r"[A-Z0-9]{1,12}")


def normalise_plate(text: str | None, field: str = "PlateText") -> str:
    plate = _SEPARATORS.sub("", (text or "").upper())
    if not _PLATE.fullmatch(plate):
        raise InvalidInput("a plate is 1 to 12 letters A-Z and digits (separators are dropped)", field)
    return plate

