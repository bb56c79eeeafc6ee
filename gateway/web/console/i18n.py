"""The console's languages: gettext catalogues (``locale/<lang>/LC_MESSAGES/console.po``, compiled
with Babel when the gateway starts: no build step, and a catalogue edited in place is what runs),
and amounts and times written as each language writes them, in the facility's currency and zone.
"""

import io
from datetime import datetime
from decimal import Decimal
from pathlib import Path
from zoneinfo import ZoneInfo

from babel import Locale as BabelLocale
from babel.dates import format_date, format_datetime, format_time
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.numbers import NumberFormatError, format_currency, format_decimal, parse_decimal
from babel.support import Translations

LOCALE_DIR = Path(__file__).parent / "locale"
DOMAIN = "console"
#: Language code -> its own name (what the language switch shows).
LANGUAGES = {"en": "English", "id": "Bahasa Indonesia"}


def po_path(language: str) -> Path:
    return LOCALE_DIR / language / "LC_MESSAGES" / f"{DOMAIN}.po"


def compile_catalogue(language: str) -> Translations:
    with open(po_path(language), "rb") as f:
        catalog = read_po(f, locale=language, domain=DOMAIN)
    buffer = io.BytesIO()
    write_mo(buffer, catalog)
    buffer.seek(0)
    return Translations(buffer, domain=DOMAIN)


def best_language(accept_language: str | None, default: str) -> str:
    """The first of the browser's languages that the console has, else ``default``."""
    for part in (accept_language or "").split(","):
        code = part.split(";")[0].strip().lower().split("-")[0]
        if code in LANGUAGES:
            return code
    return default


class Formats:
    """Amounts, times and counts as a person reading ``language`` expects them, times in ``zone``."""

    def __init__(self, language: str, zone: ZoneInfo) -> None:
        self.locale = BabelLocale.parse(language)
        self.zone = zone

    def money(self, amount: Decimal, currency: str) -> str:
        return format_currency(amount, currency, locale=self.locale)

    def number(self, value: int | Decimal) -> str:
        return format_decimal(value, locale=self.locale)

    def amount(self, text: str) -> Decimal:
        """An amount typed as this language writes numbers (Indonesian: 1.250 is one thousand two
        hundred and fifty, 12,50 twelve and a half); ValueError when it reads two ways or none."""
        try:
            return parse_decimal(text.strip(), locale=self.locale, strict=True)
        except (NumberFormatError, ArithmeticError):
            raise ValueError(text) from None

    def when(self, moment: datetime | None) -> str:
        return format_datetime(moment, "medium", tzinfo=self.zone, locale=self.locale) if moment else ""

    def clock(self, moment: datetime) -> str:
        return format_time(moment, "HH:mm", tzinfo=self.zone, locale=self.locale)

    def day(self, moment: datetime) -> str:
        return format_date(moment.astimezone(self.zone).date(), "d MMM", locale=self.locale)

    def local_input(self, moment: datetime | None) -> str:
        """The value of an ``<input type=datetime-local>`` for ``moment``, in the zone."""
        return moment.astimezone(self.zone).strftime("%Y-%m-%dT%H:%M") if moment else ""


def extracted() -> list[str]:
    """Every message the console's templates and pages give to gettext (Babel's extraction)."""
    from babel.messages.extract import extract_from_dir
    method_map = [("**.py", "python"), ("templates/**.html", "jinja2.ext:babel_extract")]
    options = {"templates/**.html": {"extensions": "jinja2.ext.i18n", "trim_blocks": "True",
                                     "lstrip_blocks": "True"}}
    found: list[str] = []
    for _filename, _line, message, _comments, _context in extract_from_dir(
            Path(__file__).parent, method_map, options, keywords={"_": None, "gettext": None}):
        if isinstance(message, str) and message not in found:
            found.append(message)
    return found


def update_catalogues() -> None:
    """Write every extracted message into each catalogue, keeping what is translated
    (``python -m gateway.web.console.i18n``, after changing a page); Indonesian gaps stay empty
    and the catalogue test names them."""
    from babel.messages.catalog import Catalog
    from babel.messages.pofile import write_po
    for language in LANGUAGES:
        try:
            with open(po_path(language), "rb") as f:
                old = read_po(f, locale=language, domain=DOMAIN)
        except FileNotFoundError:
            old = Catalog(locale=language, domain=DOMAIN)
        new = Catalog(locale=language, domain=DOMAIN, project="parkgate console", fuzzy=False)
        for message in extracted():
            kept = old.get(message)
            new.add(message, kept.string if kept is not None else "")
        po_path(language).parent.mkdir(parents=True, exist_ok=True)
        with open(po_path(language), "wb") as f:
            write_po(f, new, width=100, omit_header=False, sort_output=True)


if __name__ == "__main__":
    update_catalogues()
