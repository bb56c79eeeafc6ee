"""Digital permits (issue 17): a permit's pass (signed token, QR code read back from its pixels),
checked offline by the CLI, refused when revoked, expired or tampered with, and scanned at a lane."""

import subprocess
import sys
from datetime import date

import configs
import cv2
import numpy as np
import pytest

from conftest import FACILITY, TEST_CONFIG, unique, unique_plate
from test_events import fault_of, issue_permit

LATER = date(2030, 12, 31)   # the CLI judges on the wall clock


def pass_of(gateway, number):
    return gateway.client("PermitService").GetPermitPass(PermitNumber=number)


def tampered(token):
    prefix, payload, signature = token.split(".")
    flipped = payload[:-2] + ("A" if payload[-2] != "A" else "B") + payload[-1]
    return f"{prefix}.{flipped}.{signature}"


def scan(gateway, token, plate=None, camera="CAM-IN", direction="ENTRY", facility=FACILITY, event_id=None):
    event = {"EventID": event_id or unique(), "FacilityID": facility, "CameraID": camera, "Direction": direction,
             "Timestamp": gateway.clock(), "PermitToken": token}
    if plate:
        event.update(PlateText=plate, Confidence="0.97")
    return gateway.client("EventService").SubmitEvent(Event=event)


def test_the_pass_carries_a_signed_token_in_its_qr_code(gateway, clock):
    permit = issue_permit(gateway, unique_plate(), valid_until=LATER)
    p = pass_of(gateway, permit.PermitNumber)
    assert p.PermitNumber == permit.PermitNumber and p.MediaType == "image/png"
    assert p.Token.startswith("P1.") and len(p.Token) < 200
    assert permit.LicensePlate not in p.Token   # no plate in what anyone may photograph
    pixels = cv2.imdecode(np.frombuffer(p.QRCode, np.uint8), cv2.IMREAD_GRAYSCALE)
    decoded, _points, _ = cv2.QRCodeDetectorAruco().detectAndDecode(pixels)  # the classic detector misses ~2%
    assert decoded == p.Token


def test_pass_faults(gateway, clock):
    assert fault_of(lambda: pass_of(gateway, "PRMT-NONE")).code.endswith("Client.NotFound")
    permit = issue_permit(gateway, unique_plate())
    gateway.client("PermitService").RevokePermit(PermitNumber=permit.PermitNumber, Reason="sold")
    assert fault_of(lambda: pass_of(gateway, permit.PermitNumber)).code.endswith("Client.Conflict")


def cli(gateway, tmp_path, *args):
    config = tmp_path / "parkgate.toml"
    config.write_text(configs.toml(dict(TEST_CONFIG, database={"url": gateway.service.config.database_url})))
    return subprocess.run([sys.executable, "-m", "gateway", "-c", str(config), "permit", "verify", *args],
                          capture_output=True, text=True, timeout=120)


def test_the_cli_verifies_offline_and_with_the_database(gateway, clock, tmp_path):
    permit = issue_permit(gateway, unique_plate(), valid_until=LATER)
    token = pass_of(gateway, permit.PermitNumber).Token
    run = cli(gateway, tmp_path, token)
    assert run.returncode == 0 and run.stdout.startswith(f"VALID: permit {permit.PermitNumber} ({FACILITY})"), run
    bad = cli(gateway, tmp_path, tampered(token), "--offline")
    assert bad.returncode == 2 and bad.stdout.startswith("TAMPERED")
    elsewhere = cli(gateway, tmp_path, token, "--offline", "--facility", "LOT-SMALL")
    assert elsewhere.returncode == 1 and elsewhere.stdout.startswith("OTHER_FACILITY")

    gateway.client("PermitService").RevokePermit(PermitNumber=permit.PermitNumber, Reason="lost")
    revoked = cli(gateway, tmp_path, token)
    assert revoked.returncode == 1 and revoked.stdout.startswith("REVOKED")
    offline = cli(gateway, tmp_path, token, "--offline")   # the token alone cannot know
    assert offline.returncode == 0 and "revocations not checked" in offline.stdout

    lapsed = issue_permit(gateway, unique_plate(), valid_until=date(2025, 1, 31))
    expired = cli(gateway, tmp_path, pass_of(gateway, lapsed.PermitNumber).Token, "--offline")
    assert expired.returncode == 1 and expired.stdout.startswith("EXPIRED")


def test_a_scanned_token_admits_its_permit_vehicle(gateway, clock):
    plate = unique_plate()
    permit = issue_permit(gateway, plate)        # valid through January 2025 (the gateway's clock)
    token = pass_of(gateway, permit.PermitNumber).Token
    event_id = unique()
    entered = scan(gateway, token, event_id=event_id)   # no plate read: the token says which vehicle
    assert (entered.Decision, entered.Reason) == ("OPEN", "PERMIT_VALID")
    assert entered.ParkingEvent.Vehicle.LicensePlate.Number == plate
    assert entered.ParkingEvent.Authorization.PermitNumber == permit.PermitNumber
    again = scan(gateway, token, event_id=event_id)
    assert (again.Decision, again.ParkingEvent.Session.SessionID) == ("OPEN", entered.ParkingEvent.Session.SessionID)
    assert fault_of(lambda: scan(gateway, tampered(token), event_id=event_id)).code.endswith("Client.Conflict")
    # The same vehicle read by the camera as well is admitted too.
    assert scan(gateway, token, plate=plate, camera="CAM-OUT", direction="EXIT").Decision == "OPEN"


@pytest.mark.parametrize("case, reason", [
    ("tampered", "PERMIT_TOKEN_TAMPERED"), ("revoked", "PERMIT_TOKEN_REVOKED"),
    ("expired", "PERMIT_TOKEN_EXPIRED"), ("elsewhere", "PERMIT_TOKEN_OTHER_FACILITY"),
    ("other vehicle", "PERMIT_TOKEN_OTHER_VEHICLE")])
def test_a_scanned_token_that_does_not_admit_holds(gateway, clock, case, reason):
    plate = unique_plate()
    permit = issue_permit(gateway, plate, **({"valid_until": date(2025, 1, 10)} if case == "expired" else {}),
                          **({"facility": "LOT-SMALL"} if case == "elsewhere" else {}))
    token = pass_of(gateway, permit.PermitNumber).Token
    if case == "revoked":
        gateway.client("PermitService").RevokePermit(PermitNumber=permit.PermitNumber, Reason="fraud")
    if case == "tampered":
        token = tampered(token)
    answer = scan(gateway, token, plate=unique_plate() if case == "other vehicle" else None)
    assert (answer.Decision, answer.Reason) == ("HOLD", reason)
    assert answer.ParkingEvent.Session is None
