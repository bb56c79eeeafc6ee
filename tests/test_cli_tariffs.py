"""``parkgate tariff show|set`` against a real SQLite database."""

import json

from test_cli import parkgate


def test_tariff_set_and_show(tmp_path):
    db = f"sqlite:///{tmp_path / 'p.db'}"
    shown = parkgate("tariff", "show", "LOT-DOWNTOWN-A", "--at", "2025-01-22T14:30:00Z", db=db)
    assert shown.returncode == 0, shown.stderr
    versions = [json.loads(line) for line in shown.stdout.splitlines()]
    assert [v["vehicle_type"] for v in versions] == ["car", "motorcycle", "van", "truck", "bus"]
    assert versions[1]["rules"]["price_per_period"] == "1.00"          # parkgate.toml's motorcycle tariff
    rules = tmp_path / "night.toml"
    rules.write_text('[[band]]\nname = "night"\nstart = "20:00"\nend = "06:00"\nprice_per_period = "1.00"\n')
    made = parkgate("tariff", "set", "LOT-DOWNTOWN-A", "CAR", "price_per_period=4.00", "grace_minutes=10",
                    "--file", str(rules), "--reason", "new prices", db=db)
    assert made.returncode == 0, made.stderr
    new = json.loads(made.stdout)
    assert new["version"] == 1 and new["set_by"].startswith("cli:") and new["reason"] == "new prices"
    assert new["rules"]["grace_minutes"] == 10 and new["rules"]["band"][0]["name"] == "night"
    history = parkgate("tariff", "show", "LOT-DOWNTOWN-A", "--vehicle-type", "car", db=db).stdout.splitlines()
    assert [json.loads(line)["version"] for line in history] == [0, 1]


def test_tariff_set_refuses_the_past_and_unknown_settings(tmp_path):
    db = f"sqlite:///{tmp_path / 'p.db'}"
    past = parkgate("tariff", "set", "LOT-DOWNTOWN-A", "car", "price_per_period=4.00", "--from",
                    "2020-01-01T00:00:00Z", db=db)
    assert past.returncode == 2 and "history" in past.stderr
    unknown = parkgate("tariff", "set", "LOT-DOWNTOWN-A", "car", "colour=red", db=db)
    assert unknown.returncode == 2 and "colour" in unknown.stderr
    facility = parkgate("tariff", "show", "NOWHERE", db=db)
    assert facility.returncode == 2 and "NOWHERE" in facility.stderr


def test_tariff_set_names_a_file_it_cannot_read(tmp_path):
    db = f"sqlite:///{tmp_path / 'p.db'}"
    missing = parkgate("tariff", "set", "LOT-DOWNTOWN-A", "car", "--file", str(tmp_path / "weekend.toml"), db=db)
    assert missing.returncode == 2 and "weekend.toml" in missing.stderr and "Traceback" not in missing.stderr
    broken = tmp_path / "broken.toml"
    broken.write_text("[[band]\nname = night\n")
    bad = parkgate("tariff", "set", "LOT-DOWNTOWN-A", "car", "--file", str(broken), db=db)
    assert bad.returncode == 2 and "broken.toml" in bad.stderr and "Traceback" not in bad.stderr
    history = parkgate("tariff", "show", "LOT-DOWNTOWN-A", "--vehicle-type", "car", db=db).stdout.splitlines()
    assert len(history) == 1                                            # nothing was set


def test_the_operator_commands_charge_by_the_tariff_set_since(tmp_path):
    """``parkgate pay`` (and the ticket and shift commands) charged by parkgate.toml's tariff and left
    out the versions set since (``parkgate tariff set``, SetTariff), which the gateway charges by:
    here a new version takes the 15 minutes' grace away, so a car in for a moment owes a period."""
    from datetime import datetime, timezone
    from decimal import Decimal

    from gateway.domain.sessions import ParkingSession
    from gateway.store import sessions
    from gateway.store.engine import Store
    db = f"sqlite:///{tmp_path / 'p.db'}"
    made = parkgate("tariff", "set", "LOT-DOWNTOWN-A", "car", "price_per_period=4.00", "grace_minutes=0", db=db)
    assert made.returncode == 0, made.stderr
    store = Store(db)
    with store.connection() as conn:   # in under the new version, a moment ago
        sessions.insert(conn, ParkingSession(
            id="S-CLI-1", facility_id="LOT-DOWNTOWN-A", plate="CLI123", status="OPEN",
            entry_time=datetime.now(timezone.utc), exit_time=None, entry_event_id="E-CLI-1", exit_event_id=None,
            lane_number=1, jurisdiction=None, country=None, space_assigned=None, permit_number=None,
            amount_charged=None, amount_paid=Decimal("0"), paid_at=None))
    store.dispose()
    opened = parkgate("shift", "open", "--officer", "o", "--facility", "LOT-DOWNTOWN-A", "--float", "0", db=db)
    assert opened.returncode == 0, opened.stderr
    paid = parkgate("pay", "--officer", "o", "--session", "S-CLI-1", "--tendered", "5.00", db=db)
    assert paid.returncode == 0, paid.stderr
    assert "4.00 USD by CASH, tendered 5.00, change 1.00; still due 0.00" in paid.stdout
