"""The admins' Tariffs page: each vehicle type's versions (past, in force, to come), a new version
set through the same use case as SOAP SetTariff (checked, audited, never backdated), and what a
stay would cost now."""

from datetime import datetime, timedelta
from decimal import Decimal, InvalidOperation

from ...domain.errors import InvalidInput, ParkgateError
from ...domain.tariffs import EPOCH
from ...domain.vehicle_types import DEFAULT as DEFAULT_VEHICLE_TYPE
from ...domain.vehicle_types import VEHICLE_TYPES
from .app import ADMIN, page

#: The form's fields, as tariff settings (gateway.domain.tariff_settings): a field left empty keeps
#: what the version in force then says.
FIELDS = ("rate_code", "first_period_minutes", "first_price", "period_minutes", "price_per_period", "daily_maximum",
          "grace_minutes", "lost_ticket")
MINUTES = {"first_period_minutes", "period_minutes", "grace_minutes"}
AMOUNTS = {"first_price", "price_per_period", "daily_maximum", "lost_ticket"}
MAX_QUOTE_HOURS = Decimal(24 * 31)


def _settings(ctx) -> dict:
    out: dict = {}
    for key in FIELDS:
        value = ctx.form(key)
        if value and key in AMOUNTS:
            out[key] = _typed_amount(ctx, value)
        elif value:
            out[key] = int(value) if key in MINUTES and value.isdigit() else value
    return out


def _typed_amount(ctx, value: str) -> str:
    """An amount as the page's language writes it (Indonesian 1.500 is fifteen hundred), as the
    tariff settings read amounts; what reads as no number goes on as typed, for their message."""
    try:
        return str(ctx.formats.amount(value))
    except ValueError:
        return value


def _effective(ctx) -> datetime | None:
    if ctx.form("when", "now") == "now":
        return None
    value = ctx.form("effective_from")
    try:
        return datetime.strptime(value, "%Y-%m-%dT%H:%M").replace(tzinfo=ctx.formats.zone)
    except ValueError:
        raise InvalidInput(ctx._("Write times as the date picker does (YYYY-MM-DDTHH:MM)."), "effective_from") from None


def _quote(ctx):
    """(vehicle type, hours, fee, currency) of the preview asked for, or None."""
    args = ctx.request.args
    if not args.get("quote_hours"):
        return None
    kind = args.get("quote_type") or DEFAULT_VEHICLE_TYPE
    try:
        hours = Decimal(args["quote_hours"])
    except InvalidOperation:
        raise InvalidInput(ctx._("Give the stay in hours."), "quote_hours") from None
    if not hours.is_finite() or hours <= 0 or hours > MAX_QUOTE_HOURS:
        raise InvalidInput(ctx._("Give the stay in hours."), "quote_hours")
    now = ctx.use_cases.clock()
    fee, currency = ctx.use_cases.tariffs.fee(ctx.facility.id, kind, now, now + timedelta(hours=float(hours)))
    return kind, hours, fee, currency


def _view(ctx, status=200, error=None, values=None):
    tariffs, now = ctx.use_cases.tariffs, ctx.use_cases.clock()
    in_force = {v.vehicle_type: v for v in tariffs.listing(ctx.facility.id, at=now)}
    history = {kind: [v for v in tariffs.listing(ctx.facility.id) if v.vehicle_type == kind] for kind in VEHICLE_TYPES}
    try:
        quote, quote_error = _quote(ctx), None
    except ParkgateError as e:
        quote, quote_error = None, ctx._(e.message)
    return ctx.render("tariffs.html", status=status, vehicle_types=VEHICLE_TYPES, in_force=in_force, history=history,
                      now=now, epoch=EPOCH, quote=quote, quote_error=quote_error, error=error, values=values or {},
                      args=ctx.request.args)


@page("/tariffs", roles=ADMIN)
def tariffs(ctx):
    return _view(ctx)


@page("/tariffs", roles=ADMIN, methods=("POST",))
def tariff_set(ctx):
    kind = ctx.form("vehicle_type")
    try:
        if kind not in VEHICLE_TYPES:
            raise InvalidInput(ctx._("Choose the vehicle type."), "vehicle_type")
        version = ctx.use_cases.tariffs.set(ctx.facility.id, kind, _settings(ctx), ctx.username, _effective(ctx),
                                            ctx.form("reason") or None)
    except ParkgateError as e:  # shown on the form, with what was typed
        return _view(ctx, status=400, error=ctx._(e.message), values=ctx.request.form)
    ctx.flash(ctx._("Tariff version %(version)s for %(kind)s from %(when)s.", version=version.version,
                    kind=ctx._(kind), when=ctx.formats.when(version.effective_from)), "success")
    return ctx.redirect("tariffs")
