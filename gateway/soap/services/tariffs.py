"""TariffService (issue 16): the tariff versions per vehicle type, and a new version (admin)."""

from spyne import DateTime, ServiceBase

from ...domain.errors import InvalidInput
from ...domain.tariff_settings import settings_of
from .. import faults as f
from .. import types as t
from .common import ALL_ROLES, caller, operation, use_cases

#: SOAP names of the settings (gateway.domain.tariff_settings), rates and the rest.
RATES = {"FirstPeriodMinutes": "first_period_minutes", "FirstPrice": "first_price", "PeriodMinutes": "period_minutes",
         "PricePerPeriod": "price_per_period", "DailyMaximum": "daily_maximum", "EntryCharge": "entry_charge"}
RULES = {"RateCode": "rate_code", "GraceMinutes": "grace_minutes", "OvernightCutoff": "overnight_cutoff",
         "OvernightCharge": "overnight_charge", "LostTicket": "lost_ticket",
         "ExitAfterPaymentMinutes": "exit_after_payment_minutes"}
BAND = {"Name": "name", "Start": "start", "End": "end", "PricePerPeriod": "price_per_period"}
#: What SetTariff's Clear names, as the settings that clear it (as ``parkgate tariff set`` clears).
CLEARED = {"DailyMaximum": ("daily_maximum", ""), "OvernightCutoff": ("overnight_cutoff", ""), "Band": ("band", []),
           "SpecialRate": ("special", [])}


def _given(obj, names):
    return {key: str(getattr(obj, soap)) if not isinstance(getattr(obj, soap), int) else getattr(obj, soap)
            for soap, key in names.items() if getattr(obj, soap, None) is not None}


def _rates_settings(r):
    out = _given(r, RATES) if r is not None else {}
    if r is not None and r.Band:
        out["band"] = [_given(b, BAND) for b in r.Band]
    return out


def settings_from(rules, clear=()):
    """SetTariff's Rules as settings: only what is given, and what ``clear`` names cleared."""
    out = {**_given(rules, RULES), **_rates_settings(rules.Rates)}
    if rules.SpecialRate:
        out["special"] = [{"name": s.Name, **_rates_settings(s.Rates),
                           **({"first_day": s.FirstDay} if s.FirstDay else {}),
                           **({"last_day": s.LastDay} if s.LastDay else {}),
                           **({"weekdays": [str(d) for d in s.Weekday]} if s.Weekday else {})}
                          for s in rules.SpecialRate]
    for name in dict.fromkeys(str(c) for c in clear or ()):
        key, cleared = CLEARED[name]
        if key in out:
            raise InvalidInput(f"{name} is both given and cleared", "Clear")
        out[key] = cleared
    return out


def _soap(names):
    return {key: soap for soap, key in names.items()}


def _rates(s):
    names, band = _soap(RATES), _soap(BAND)
    return t.TariffRates(**{names[k]: v for k, v in s.items() if k in names},
                         Band=[t.TimeBand(**{band[k]: v for k, v in b.items()}) for b in s.get("band", [])] or None)


def tariff_version(v):
    """A domain TariffVersion as the contract's."""
    s = settings_of(v)
    inv = _soap(RULES)
    specials = [t.SpecialRate(Name=x["name"], FirstDay=x.get("first_day"), LastDay=x.get("last_day"),
                              Weekday=x.get("weekdays") or None, Rates=_rates(x)) for x in s.get("special", [])]
    rules = t.TariffRules(**{inv[k]: val for k, val in s.items() if k in inv}, Rates=_rates(s),
                          SpecialRate=specials or None)
    return t.TariffVersion(FacilityID=v.facility_id, VehicleType=v.vehicle_type, Version=v.version,
                           EffectiveFrom=v.effective_from, Currency=v.currency, Rules=rules, SetBy=v.set_by,
                           SetAt=v.set_at, Reason=v.reason)


class TariffService(ServiceBase):
    @operation(t.req(t.Identifier), t.opt(t.VehicleType), t.opt(DateTime), roles=ALL_ROLES,
               returns=t.many(t.TariffVersion), names="TariffVersion",
               throws=(f.UnknownFacilityFault, f.InvalidTimeFault))
    def GetTariffs(ctx, FacilityID, VehicleType, At):
        """Every version (the history, oldest first), or with At those in force then."""
        found = use_cases(ctx).tariffs.listing(FacilityID, str(VehicleType) if VehicleType else None, At)
        return [tariff_version(v) for v in found]

    @operation(t.req(t.Identifier), t.req(t.VehicleType), t.req(t.TariffRules), t.opt(DateTime), t.opt(t.LongText),
               t.many(t.TariffSetting), roles=("admin",), returns=t.req(t.TariffVersion), names="TariffVersion",
               throws=(f.UnknownFacilityFault, f.InvalidTimeFault))
    def SetTariff(ctx, FacilityID, VehicleType, Rules, EffectiveFrom, Reason, Clear):
        """A new version from EffectiveFrom (default now; never earlier): the rules in force then
        with what Rules gives on top, less what Clear names (a cap, the overnight cut-off, the time
        bands, the special rates)."""
        version = use_cases(ctx).tariffs.set(FacilityID, str(VehicleType), settings_from(Rules, Clear), caller(ctx),
                                             EffectiveFrom, Reason)
        return tariff_version(version)
