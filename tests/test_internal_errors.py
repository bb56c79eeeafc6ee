"""A failing database (here: a table gone) is a bug or an outage, not the caller's error: the
caller gets a plain Server fault, the log says which operation failed and where, and neither
carries the plate or the password. The server keeps serving. A gateway of its own (SQLite),
since the test breaks its database."""

import logging

import pytest
import zeep
from sqlalchemy import text

from conftest import FACILITY, PASSWORD, SettableClock, make_config, migrated_with_users, start_gateway, stop_gateway
from gateway.cli.serve import quiet_libraries


@pytest.fixture
def broken_gateway(tmp_path, request):
    url = f"sqlite:///{tmp_path / 'broken.db'}"
    migrated_with_users(url, request)
    gw = start_gateway(make_config(url), SettableClock())
    with gw.store.engine.begin() as conn:
        conn.execute(text("DROP TABLE permits"))  # every lane decision and permit lookup reads it
    yield gw
    stop_gateway(gw)


@pytest.fixture
def gateway_log(caplog):
    """What `parkgate serve` would log: its own records and the libraries' at its levels."""
    levels = {name: logging.getLogger(name).level for name in ("spyne", "spyne.application.server")}
    quiet_libraries()
    caplog.set_level(logging.INFO)
    yield caplog
    for name, level in levels.items():
        logging.getLogger(name).setLevel(level)


def logged(caplog):
    formatter = logging.Formatter("%(name)s %(levelname)s %(message)s")
    return "\n".join(formatter.format(record) for record in caplog.records)


def test_a_failing_database_is_a_server_fault_and_the_log_names_no_plate(broken_gateway, gateway_log):
    gw, plate = broken_gateway, "PRIV8TE"
    with pytest.raises(zeep.exceptions.Fault) as info:
        gw.client("EventService").SubmitEvent(Event={
            "EventID": "E-broken-1", "FacilityID": FACILITY, "CameraID": "CAM-IN", "Direction": "ENTRY",
            "Timestamp": gw.clock(), "PlateText": plate, "Confidence": "0.97"})
    assert info.value.code.endswith(":Server") and info.value.message == "Internal Error"
    with pytest.raises(zeep.exceptions.Fault) as info:
        gw.client("PermitService").LookupPermit(Plate=plate, FacilityID=FACILITY)
    assert info.value.message == "Internal Error"

    log = logged(gateway_log)
    assert "SubmitEvent failed: OperationalError" in log and "LookupPermit failed: OperationalError" in log
    assert "app/recording.py" in log  # where it rose
    assert plate not in log and PASSWORD not in log and "no such table" not in log
    # Nothing half-written, and the server keeps serving what does not need the broken table.
    with gw.store.engine.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM lane_events")).scalar_one() == 0
    assert gw.client("EventService").Ping() is not None
