"""Plates on the hotlist (stolen, wanted, banned, watched), everywhere or in one facility, and what a
read of one means at a barrier: stolen and banned vehicles are held; wanted and watched ones pass,
and every read of a listed plate raises a security event for the video management system."""

from dataclasses import dataclass
from datetime import datetime

STOLEN, WANTED, BANNED, WATCH = "stolen", "wanted", "banned", "watch"
#: Most severe first: of several entries of one plate, the first decides.
CATEGORIES = (STOLEN, WANTED, BANNED, WATCH)
#: Held at the barrier. A wanted vehicle is let through (staff are not asked to stop it): police are told.
HOLDS = frozenset({STOLEN, BANNED})
SEVERITY = {STOLEN: "HIGH", WANTED: "HIGH", BANNED: "MEDIUM", WATCH: "LOW"}


@dataclass(frozen=True, slots=True)
class HotlistEntry:
    id: int
    plate: str
    facility_id: str | None          # None: every facility
    reason: str
    added_at: datetime
    category: str = BANNED
    source: str | None = None        # who listed it (a police feed, an operator)
    expires_at: datetime | None = None  # None: until removed

    @property
    def key(self) -> "ListingKey":
        return listing_key(self.plate, self.category, self.facility_id)


#: What makes two entries one: the plate, its category, and where it applies.
ListingKey = tuple[str, str, str | None]


def listing_key(plate: str, category: str, facility_id: str | None) -> ListingKey:
    """The entry a listing of ``plate`` in ``category`` (everywhere, or in ``facility_id``) is: an ADD
    (by hand or by a feed) of a key already listed revises that entry, never lists it twice; the same
    plate and category in another facility is an entry of its own."""
    return plate, category, facility_id


def holds(category: str | None) -> bool:
    return category in HOLDS
