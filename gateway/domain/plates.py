"""Plate text, normalised one way everywhere: upper case, no spaces, dashes or dots.

Only ASCII letters and digits count: the check comes before upper-casing, which would fold
look-alikes into them (``ſ`` to S, ``ß`` to SS, ``ı`` to I)."""

import re

from .errors import InvalidInput

_SEPARATORS = re.compile(r"[\s\-.·_]+")
_PLATE = re.compile(r"[A-Z0-9]{1,12}")


def normalise_plate(text: str | None, field: str = "PlateText") -> str:
    plate = _SEPARATORS.sub("", text or "")
    if not plate.isascii() or not _PLATE.fullmatch(plate.upper()):
        raise InvalidInput("a plate is 1 to 12 letters A-Z and digits (separators are dropped)", field)
    return plate.upper()


def quoted(plate: str, text: str) -> bool:
    """Whether ``text`` (a message) quotes the normalised ``plate``, however it was written in it
    (``abc-123``, ``ABC 123``). Erring towards yes: a plate inside a longer word counts too."""
    return plate in _SEPARATORS.sub("", text).upper()
