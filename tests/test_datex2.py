"""DATEX II v3 publications (issue 17): served over HTTP, printed by the CLI, valid against the
official schemas (xmlschema and, independently, xmllint), and the status follows the lanes."""

import subprocess
import sys
import urllib.error
import urllib.request
from functools import lru_cache
from pathlib import Path

import configs
import pytest
import xmlschema
from lxml import etree

from conftest import FACILITY, TEST_CONFIG, unique_plate
from test_events import submit

STANDARDS = Path(__file__).resolve().parents[1] / ".." / "shared" / "standards" / "datex2-v3-parking"
PAYLOAD_XSD = STANDARDS / "DATEXII_3_D2Payload.xsd"
NS = {"d2": "http://datex2.eu/schema/3/d2Payload", "com": "http://datex2.eu/schema/3/common",
      "fac": "http://datex2.eu/schema/3/facilities", "prk": "http://datex2.eu/schema/3/parking",
      "xsi": "http://www.w3.org/2001/XMLSchema-instance"}
XSI_TYPE = f"{{{NS['xsi']}}}type"


@lru_cache(maxsize=1)
def official_schema():
    return xmlschema.XMLSchema(str(PAYLOAD_XSD))


def assert_valid(document, tmp_path):
    official_schema().validate(document.decode())
    path = tmp_path / "payload.xml"
    path.write_bytes(document)
    run = subprocess.run(["xmllint", "--noout", "--schema", str(PAYLOAD_XSD), str(path)], capture_output=True,
                         text=True)
    assert run.returncode == 0, run.stderr
    return etree.fromstring(document)


def get(gateway, path):
    with urllib.request.urlopen(f"{gateway.base_url}{path}", timeout=10) as answer:
        assert answer.headers["Content-Type"].startswith("application/xml")
        return answer.read()


def status_of(doc, facility_id):
    for info in doc.iterfind("prk:parkingStatusInformation", NS):
        if info.find("fac:reference", NS).get("id") == facility_id:
            counts = info.find("prk:occupancy", NS)
            return (int(counts.findtext("prk:numberOfOccupiedSpaces", namespaces=NS)),
                    int(counts.findtext("prk:numberOfVacantSpaces", namespaces=NS)),
                    info.findtext("prk:status", namespaces=NS))
    raise AssertionError(f"{facility_id} not in the status")


def test_the_table_describes_every_facility(gateway, clock, tmp_path):
    doc = assert_valid(get(gateway, "/datex2/table"), tmp_path)
    assert doc.get(XSI_TYPE) == "prk:ParkingTablePublication" and doc.get("modelBaseVersion") == "3"
    places = {p.get("id"): p for p in doc.iterfind("prk:parkingTable/prk:hierarchyElementGeneral", NS)}
    assert set(places) == {"LOT-TEST", "LOT-SMALL", "LOT-TINY"}
    test = places["LOT-TEST"]
    assert test.get(XSI_TYPE) == "prk:Place"
    assert test.findtext("fac:name/com:values/com:value", namespaces=NS) == "Test Garage"
    assert test.findtext("prk:commonComponents/prk:characteristics/prk:spacesTotal", namespaces=NS) == "500"
    assert doc.findtext("com:publicationTime", namespaces=NS) == "2025-01-22T14:30:45Z"


def test_the_status_follows_entries_and_exits_and_refers_to_the_table(gateway, clock, tmp_path):
    before = assert_valid(get(gateway, "/datex2/status"), tmp_path)
    assert before.get(XSI_TYPE) == "prk:ParkingStatusPublication"
    occupied, vacant, _ = status_of(before, FACILITY)
    plate = unique_plate()
    submit(gateway, "ENTRY", plate)
    after = assert_valid(get(gateway, f"/datex2/status?facility={FACILITY}"), tmp_path)
    assert status_of(after, FACILITY) == (occupied + 1, vacant - 1, "spacesAvailable")
    assert len(after.findall("prk:parkingStatusInformation", NS)) == 1
    # The status refers to the place by the id and version the table gives it.
    table = etree.fromstring(get(gateway, f"/datex2/table?facility={FACILITY}"))
    place = table.find("prk:parkingTable/prk:hierarchyElementGeneral", NS)
    ref = after.find("prk:parkingStatusInformation/fac:reference", NS)
    assert (ref.get("id"), ref.get("version")) == (place.get("id"), place.get("version"))

    # A lot of one space is full once a car is in, and has spaces again after it left.
    tiny = unique_plate()
    submit(gateway, "ENTRY", tiny, camera="TINY-IN", facility="LOT-TINY")
    full = assert_valid(get(gateway, "/datex2/status?facility=LOT-TINY"), tmp_path)
    assert status_of(full, "LOT-TINY") == (1, 0, "full")
    assert full.findtext(".//prk:occupancy/prk:occupancy", namespaces=NS) == "100.0"
    submit(gateway, "EXIT", tiny, camera="TINY-IN", facility="LOT-TINY")
    assert status_of(etree.fromstring(get(gateway, "/datex2/status?facility=LOT-TINY")), "LOT-TINY") == (
        0, 1, "spacesAvailable")


def test_an_unknown_facility_is_a_404_that_says_so(gateway, clock):
    with pytest.raises(urllib.error.HTTPError) as info:
        get(gateway, "/datex2/status?facility=LOT-NOWHERE")
    assert info.value.code == 404 and b"LOT-NOWHERE" in info.value.read()
    with pytest.raises(urllib.error.HTTPError) as info:
        get(gateway, "/datex2/nothing<b>")
    assert info.value.code == 404 and b"<b>" not in info.value.read()   # the path is not echoed as markup
    # The gateway keeps serving.
    assert b"d2:payload" in get(gateway, "/datex2/table")


def test_the_cli_prints_a_whole_payload(gateway, tmp_path):
    raw = dict(TEST_CONFIG, database={"url": gateway.service.config.database_url},
               open_data={"country": "de", "national_identifier": "Parkhaus Mitte"})
    config = tmp_path / "parkgate.toml"
    config.write_text(configs.toml(raw))
    for kind, root_type in (("table", "prk:ParkingTablePublication"), ("status", "prk:ParkingStatusPublication")):
        run = subprocess.run([sys.executable, "-m", "gateway", "-c", str(config), "datex2", kind, "--facility",
                              "LOT-SMALL"], capture_output=True, timeout=120)
        assert run.returncode == 0, run.stderr
        doc = assert_valid(run.stdout, tmp_path)
        assert doc.get(XSI_TYPE) == root_type
        assert doc.findtext("com:publicationCreator/com:country", namespaces=NS) == "DE"
        assert doc.findtext("com:publicationCreator/com:nationalIdentifier", namespaces=NS) == "Parkhaus Mitte"
    bad = subprocess.run([sys.executable, "-m", "gateway", "-c", str(config), "datex2", "status", "--facility",
                          "LOT-NOWHERE"], capture_output=True, text=True, timeout=120)
    assert bad.returncode == 2 and "LOT-NOWHERE" in bad.stderr


def test_open_data_settings_are_checked():
    with pytest.raises(configs.configuration.ConfigError, match="open_data.country"):
        configs.parse(dict(TEST_CONFIG, open_data={"country": "Germany"}))
    with pytest.raises(configs.configuration.ConfigError, match="unknown setting"):
        configs.parse(dict(TEST_CONFIG, open_data={"contry": "DE"}))
