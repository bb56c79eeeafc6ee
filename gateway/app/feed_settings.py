"""The hotlist feed's settings, apart from the import they drive (:mod:`gateway.app.hotlist_feed`) so that
reading the configuration needs neither the database nor the fetcher."""

from dataclasses import dataclass

from recognition.sources import ImageSources


@dataclass(frozen=True)
class FeedSettings:
    """``[hotlist_feed]``: where the scheduled import reads (a URL or file path) and how often."""
    location: str | None = None
    source: str = "feed"
    interval_minutes: float = 60
    fetch: ImageSources = ImageSources()
