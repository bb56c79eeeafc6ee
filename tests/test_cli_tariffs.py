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
