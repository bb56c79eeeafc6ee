"""The admins' Tariffs page (issue 18 on issue 16's tariff versions), over HTTP: each vehicle type's
versions (in force, past, to come) in the facility's currency; a new version set now or at a time
through SetTariff's use case, audited alike; what the form gets wrong shown on it with what was typed
(never a 500); the fee preview; the exit page charging the new rate; officers refused. On SQLite and
PostgreSQL. The real-browser run is in test_console_browser.py."""

import re
from datetime import timedelta

import configs
import pytest
from console_client import logged_in

from conftest import TEST_CONFIG, SettableClock, migrated_with_users, start_gateway, stop_gateway, unique_plate


@pytest.fixture(scope="module")
def gw(database_url, request):
    migrated_with_users(database_url, request)
    gateway = start_gateway(configs.parse(TEST_CONFIG, database_url=database_url), SettableClock())
    yield gateway
    stop_gateway(gateway)


@pytest.fixture(autouse=True)
def reset_clock(gw):
    gw.clock.now = SettableClock().now


def fee_shown(html):
    found = re.search(r'id="quote-fee">([^<]+)<', html)
    return found.group(1) if found else None


def test_officers_are_refused(gw):
    officer = logged_in(gw, "operator")
    assert officer.get("/tariffs").status_code == 403
    assert officer.post("/tariffs", {"vehicle_type": "car", "price_per_period": "9.00"}).status_code == 403
    assert 'href="/console/tariffs"' not in officer.get("/dashboard").text


def test_a_new_car_rate_now_is_listed_audited_quoted_and_charged_at_the_exit(gw):
    admin = logged_in(gw, "admin")
    r = admin.get("/tariffs", params={"quote_type": "car", "quote_hours": "3"})
    assert r.status_code == 200 and "HOURLY-TEST" in r.text and "$3.00" in r.text
    before = fee_shown(r.text)
    r = admin.post("/tariffs", {"vehicle_type": "car", "price_per_period": "4.50", "rate_code": "CAR-2025",
                                "when": "now", "reason": "new year's rates"})
    assert r.status_code == 200 and r.url.endswith("/console/tariffs")
    assert re.search(r"Tariff version \d+ for car from", r.text)
    current = re.search(r'<tr id="tariff-car-\d+" class="current">(.*?)</tr>', r.text, re.S).group(1)
    assert "CAR-2025" in current and "$4.50" in current and "admin" in current and "new year" in current
    assert "past" in r.text                                             # the configured version before it
    quoted = fee_shown(admin.get("/tariffs", params={"quote_type": "car", "quote_hours": "3"}).text)
    assert (before, quoted) == ("$9.00", "$13.50")                    # three hours at 4.50 instead of 3.00
    van = fee_shown(admin.get("/tariffs", params={"quote_type": "van", "quote_hours": "3"}).text)
    assert van == "$9.00"                                               # the other types as they were

    entries = gw.client("AuditService", user="admin").QueryAudit(Action="SetTariff")
    assert entries[-1].User == "admin" and entries[-1].Subject == "LOT-TEST/car"
    assert "new year" in entries[-1].Detail and entries[-1].Address == "127.0.0.1"

    officer = logged_in(gw, "operator")
    html = officer.get("/entry").text
    event_id = re.search(r'name="event_id" value="(BOOTH-\w+)"', html).group(1)
    plate = unique_plate()
    r = officer.post("/entry", {"lane": "CAM-IN", "plate": plate, "event_id": event_id, "vehicle_type": "car"})
    number = re.search(r'id="ticket-number">([^<]+)<', r.text).group(1)
    gw.clock.advance(timedelta(hours=2, minutes=10))                    # three started hours
    officer = logged_in(gw, "operator")
    assert 'id="due">$13.50<' in officer.get("/exit", params={"ticket": number}).text


def test_a_version_to_come(gw):
    admin = logged_in(gw, "admin")
    r = admin.post("/tariffs", {"vehicle_type": "truck", "price_per_period": "8.00", "when": "at",
                                "effective_from": "2025-02-01T00:00"})
    assert r.status_code == 200 and "Tariff version" in r.text
    rows = re.findall(r'<tr id="tariff-truck-\d+"[^>]*>(.*?)</tr>', r.text, re.S)
    assert "$8.00" in rows[-1] and "to come" in rows[-1]
    assert "in force" in rows[0] and "$3.00" in rows[0]
    assert fee_shown(admin.get("/tariffs", params={"quote_type": "truck", "quote_hours": "1"}).text) == "$3.00"


def test_an_indonesian_admin_types_prices_as_the_page_writes_them(gw):
    """The Indonesian page writes US$1.500,00 for 1,500.00; "1.500" typed there was set as 1.50."""
    admin = logged_in(gw, "admin", language="id")
    r = admin.post("/tariffs", {"vehicle_type": "bus", "price_per_period": "1.500", "daily_maximum": "12.000,50",
                                "when": "at", "effective_from": "2025-03-01T00:00"})
    assert r.status_code == 200, r.text[-500:]
    rows = re.findall(r'<tr id="tariff-bus-\d+"[^>]*>(.*?)</tr>', r.text, re.S)
    assert "US$1.500,00" in rows[-1] and "US$12.000,50" in rows[-1]
    english = logged_in(gw, "admin")
    r = english.post("/tariffs", {"vehicle_type": "bus", "price_per_period": "1,500.25", "when": "at",
                                  "effective_from": "2025-03-02T00:00"})
    assert "$1,500.25" in re.findall(r'<tr id="tariff-bus-\d+"[^>]*>(.*?)</tr>', r.text, re.S)[-1]


@pytest.mark.parametrize("form, message", [
    ({"vehicle_type": "car", "price_per_period": "4.5.0"}, "is not an amount"),
    ({"vehicle_type": "car", "price_per_period": "-1"}, "at least 0"),
    ({"vehicle_type": "car", "period_minutes": "0"}, "whole minutes, at least 1"),
    ({"vehicle_type": "car"}, "at least one setting"),
    ({"vehicle_type": "spaceship", "price_per_period": "1.00"}, "Choose the vehicle type."),
    ({"vehicle_type": "car", "price_per_period": "1.00", "when": "at", "effective_from": "2025-01-01T00:00"},
     "history is never re-priced"),
    ({"vehicle_type": "car", "price_per_period": "1.00", "when": "at", "effective_from": "soon"},
     "as the date picker does"),
], ids=["amount", "negative", "period", "nothing", "type", "backdated", "time"])
def test_what_the_form_gets_wrong_is_shown_on_it(gw, form, message):
    admin = logged_in(gw, "admin")
    audit = gw.client("AuditService", user="admin")
    before = len(audit.QueryAudit(Action="SetTariff") or [])
    r = admin.post("/tariffs", {"reason": "typed reason", **form})
    assert r.status_code == 400 and message in re.search(r'id="tariff-error">([^<]+)<', r.text).group(1)
    assert 'value="typed reason"' in r.text                            # what was typed stays on the form
    assert len(audit.QueryAudit(Action="SetTariff") or []) == before


def test_a_preview_of_nonsense_says_so(gw):
    admin = logged_in(gw, "admin")
    for hours in ("three", "-2", "100000"):
        r = admin.get("/tariffs", params={"quote_type": "car", "quote_hours": hours})
        assert r.status_code == 200 and "Give the stay in hours." in r.text
