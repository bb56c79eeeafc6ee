"""A tariff version as plain settings (strings, integers, lists, tables) and back.

One format for every place a tariff is written by a person or kept as text: ``parkgate.toml``
(``[facility.tariff]``), ``parkgate tariff set``, SetTariff's fields, and the stored rules. Money
is given as text ("3.00") and read as Decimal; times of day as "HH:MM" (the facility's local time).
"""

from collections.abc import Mapping
from datetime import date, datetime, time, timedelta
from decimal import Decimal, InvalidOperation
from typing import Any

from .errors import InvalidInput
from .payments import MAX_AMOUNT
from .tariffs import ZERO, Rates, SpecialRate, TariffVersion, TimeBand

WEEKDAYS = ("MON", "TUE", "WED", "THU", "FRI", "SAT", "SUN")
#: The keys of the rates (also of a special rate) and of the version itself.
RATE_KEYS = {"first_period_minutes", "first_price", "period_minutes", "price_per_period", "daily_maximum",
             "entry_charge", "band"}
VERSION_KEYS = RATE_KEYS | {"rate_code", "grace_minutes", "overnight_cutoff", "overnight_charge", "lost_ticket",
                            "exit_after_payment_minutes", "special"}
SPECIAL_KEYS = RATE_KEYS | {"name", "first_day", "last_day", "weekdays"}


def _money(value: Any, key: str) -> Decimal:
    try:
        amount = Decimal(str(value))
    except InvalidOperation:
        raise InvalidInput(f"{key}: {value!r} is not an amount", key) from None
    if not amount.is_finite() or not 0 <= amount <= MAX_AMOUNT or amount != amount.quantize(Decimal("0.01")):
        raise InvalidInput(f"{key}: an amount of at least 0 and at most {MAX_AMOUNT}, with at most 2 decimals", key)
    return amount


def _minutes(value: Any, key: str, minimum: int = 0) -> timedelta:
    if isinstance(value, bool) or not isinstance(value, int | str) or not str(value).isdigit() \
            or int(value) < minimum:
        raise InvalidInput(f"{key}: whole minutes, at least {minimum}", key)
    return timedelta(minutes=int(value))


def _clock(value: Any, key: str) -> time:
    try:
        return time.fromisoformat(str(value))
    except ValueError:
        raise InvalidInput(f"{key}: a time of day, HH:MM", key) from None


def _day(value: Any, key: str) -> date | None:
    if value in (None, ""):
        return None
    if isinstance(value, date):
        return value
    try:
        return date.fromisoformat(str(value))
    except ValueError:
        raise InvalidInput(f"{key}: a date, YYYY-MM-DD", key) from None


def _unknown(table: Mapping[str, Any], known: set[str], where: str) -> None:
    unknown = set(table) - known
    if unknown:
        raise InvalidInput(f"{where}: unknown setting(s) {', '.join(sorted(unknown))}", sorted(unknown)[0])


def _rates(s: Mapping[str, Any], base: Rates | None, where: str) -> Rates:
    """Rates from ``s``; what it leaves out is ``base``'s (a first period like the others follows them)."""
    if base is None:
        for key in ("period_minutes", "price_per_period"):
            if key not in s:
                raise InvalidInput(f"{where}{key} is required", key)

    def pick(key, convert, fallback):
        return convert(s[key], f"{where}{key}") if key in s else fallback
    period = pick("period_minutes", _period, base and base.period)
    price = pick("price_per_period", _money, base and base.price_per_period)
    if base is None or (base.first_period, base.first_price) == (base.period, base.price_per_period):
        first_period, first_price = period, price    # a first period like the others follows them
    else:
        first_period, first_price = base.first_period, base.first_price
    first_period = pick("first_period_minutes", _period, first_period)
    first_price = pick("first_price", _money, first_price)
    cap = s.get("daily_maximum", base.daily_maximum if base else None)
    return Rates(first_period=first_period, first_price=first_price, period=period, price_per_period=price,
                 daily_maximum=None if cap in (None, "") else _money(cap, f"{where}daily_maximum"),
                 entry_charge=pick("entry_charge", _money, base.entry_charge if base else ZERO),
                 bands=tuple(_band(b, f"{where}band[{i}].") for i, b in enumerate(s["band"])) if "band" in s
                 else (base.bands if base else ()))


def _period(value: Any, key: str) -> timedelta:
    return _minutes(value, key, minimum=1)


def _band(b: Mapping[str, Any], where: str) -> TimeBand:
    _unknown(b, {"name", "start", "end", "price_per_period"}, where.rstrip("."))
    for key in ("start", "end", "price_per_period"):
        if key not in b:
            raise InvalidInput(f"{where}{key} is required", key)
    return TimeBand(str(b.get("name", "band")), _clock(b["start"], f"{where}start"), _clock(b["end"], f"{where}end"),
                    _money(b["price_per_period"], f"{where}price_per_period"))


def _special(s: Mapping[str, Any], base: Rates, where: str) -> SpecialRate:
    _unknown(s, SPECIAL_KEYS, where.rstrip("."))
    days = []
    for d in s.get("weekdays", []):
        if str(d).upper()[:3] not in WEEKDAYS:
            raise InvalidInput(f"{where}weekdays: {', '.join(WEEKDAYS)}", "weekdays")
        days.append(WEEKDAYS.index(str(d).upper()[:3]))
    first, last = _day(s.get("first_day"), f"{where}first_day"), _day(s.get("last_day"), f"{where}last_day")
    if first and last and last < first:
        raise InvalidInput(f"{where}last_day is before first_day", "last_day")
    return SpecialRate(str(s.get("name", "special")), _rates(s, base, where), first, last, frozenset(days))


def version_from_settings(settings: Mapping[str, Any], *, facility_id: str, vehicle_type: str,
                          effective_from: datetime, currency: str, base: TariffVersion | None = None,
                          **meta: Any) -> TariffVersion:
    """A version from ``settings``; a key not given keeps ``base``'s value (when given), so a change
    names only what changes. ``meta``: version, set_by, set_at, reason."""
    _unknown(settings, VERSION_KEYS, "tariff")
    s = settings
    rates = _rates(s, base.rates if base else None, "")
    specials = base.specials if base else ()
    if "special" in s:
        specials = tuple(_special(x, rates, f"special[{i}].") for i, x in enumerate(s["special"]))
    cutoff: Any = s.get("overnight_cutoff", base.overnight_cutoff if base else None)
    rate_code = s.get("rate_code", base.rate_code if base else None)
    if not rate_code:
        raise InvalidInput("rate_code is required", "rate_code")

    def old(attr, default):
        return getattr(base, attr) if base else default
    return TariffVersion(
        facility_id=facility_id, vehicle_type=vehicle_type, effective_from=effective_from, rate_code=str(rate_code),
        currency=currency, rates=rates,
        grace=_minutes(s["grace_minutes"], "grace_minutes") if "grace_minutes" in s else old("grace", timedelta(0)),
        overnight_cutoff=None if cutoff in (None, "") else _clock(cutoff, "overnight_cutoff"),
        overnight_charge=_money(s["overnight_charge"], "overnight_charge") if "overnight_charge" in s
        else old("overnight_charge", ZERO),
        lost_ticket=_money(s["lost_ticket"], "lost_ticket") if "lost_ticket" in s else old("lost_ticket", ZERO),
        exit_after_payment=_minutes(s["exit_after_payment_minutes"], "exit_after_payment_minutes")
        if "exit_after_payment_minutes" in s else old("exit_after_payment", timedelta(minutes=15)),
        specials=specials, **meta)


def _rate_settings(r: Rates) -> dict[str, Any]:
    out: dict[str, Any] = {
        "first_period_minutes": r.first_period // timedelta(minutes=1), "first_price": str(r.first_price),
        "period_minutes": r.period // timedelta(minutes=1), "price_per_period": str(r.price_per_period),
        "entry_charge": str(r.entry_charge)}
    if r.daily_maximum is not None:
        out["daily_maximum"] = str(r.daily_maximum)
    if r.bands:
        out["band"] = [{"name": b.name, "start": b.start.strftime("%H:%M"), "end": b.end.strftime("%H:%M"),
                        "price_per_period": str(b.price_per_period)} for b in r.bands]
    return out


def settings_of(v: TariffVersion) -> dict[str, Any]:
    """``v``'s rules as settings (what :func:`version_from_settings` reads back to the same rules)."""
    out = {"rate_code": v.rate_code, "grace_minutes": v.grace // timedelta(minutes=1), **_rate_settings(v.rates),
           "overnight_charge": str(v.overnight_charge), "lost_ticket": str(v.lost_ticket),
           "exit_after_payment_minutes": v.exit_after_payment // timedelta(minutes=1)}
    if v.overnight_cutoff is not None:
        out["overnight_cutoff"] = v.overnight_cutoff.strftime("%H:%M")
    if v.specials:
        out["special"] = [{"name": s.name, **_rate_settings(s.rates),
                           **({"first_day": s.first_day.isoformat()} if s.first_day else {}),
                           **({"last_day": s.last_day.isoformat()} if s.last_day else {}),
                           **({"weekdays": [WEEKDAYS[d] for d in sorted(s.weekdays)]} if s.weekdays else {})}
                          for s in v.specials]
    return out
