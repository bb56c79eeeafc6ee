"""``parkgate zone list|set`` against a real SQLite database, on parkgate.toml's demo facility."""

import json

from test_cli import parkgate


def test_zone_set_and_list(tmp_path):
    db = f"sqlite:///{tmp_path / 'p.db'}"
    listed = parkgate("zone", "list", "LOT-DOWNTOWN-A", db=db)
    assert listed.returncode == 0, listed.stderr
    zones = {z["zone"]: z for z in map(json.loads, listed.stdout.splitlines())}
    assert zones["L1"]["kind"] == "level" and zones["MOTO"]["capacity"] == {"motorcycle": 20}
    assert zones["L1"]["spaces"]["car"] == {"capacity": 200, "occupied": 0, "available": 200}
    made = parkgate("zone", "set", "LOT-DOWNTOWN-A", "MOTO", "motorcycle=35", "--reason", "more racks", db=db)
    assert made.returncode == 0, made.stderr
    new = json.loads(made.stdout)
    assert (new["version"], new["capacity"], new["reason"]) == (1, {"motorcycle": 35}, "more racks")
    assert new["set_by"].startswith("cli:")
    roof = json.loads(parkgate("zone", "set", "LOT-DOWNTOWN-A", "ROOF", "car=15", "--kind", "level", "--name", "Roof",
                               "--permit-only", db=db).stdout)
    assert (roof["name"], roof["kind"], roof["permit_only"]) == ("Roof", "level", True)
    listed = parkgate("zone", "list", "LOT-DOWNTOWN-A", db=db).stdout.splitlines()
    zones = {z["zone"]: z for z in map(json.loads, listed)}
    assert zones["MOTO"]["capacity"] == {"motorcycle": 35} and set(zones) == {"L1", "MOTO", "ROOF"}
    audit = parkgate("audit", "list", "--action", "SetZone", db=db)
    assert audit.returncode == 0 and "LOT-DOWNTOWN-A/MOTO" in audit.stdout and "more racks" in audit.stdout

    bad = parkgate("zone", "set", "LOT-DOWNTOWN-A", "L1", "hovercraft=3", "car", db=db)
    assert bad.returncode == 2 and "TYPE=SPACES" in bad.stderr
    unknown = parkgate("zone", "set", "LOT-DOWNTOWN-A", "L1", "hovercraft=3", db=db)
    assert unknown.returncode == 2 and "hovercraft" in unknown.stderr
