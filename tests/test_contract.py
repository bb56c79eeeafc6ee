"""The published contract: xsd/ is valid, the seed's document fits it, the WSDLs serve it exactly,
and every document parkgate emits validates (xmlschema and, independently, xmllint)."""

import subprocess
import urllib.request
from datetime import date, datetime, timedelta, timezone
from pathlib import Path

import pytest
import xmlschema
from lxml import etree

from conftest import FACILITY, make_config, start_gateway, stop_gateway, unique_plate
from gateway.contract import documents
from gateway.contract.schema import CONTRACT_XSD, XS
from gateway.domain.permits import Permit
from gateway.soap.application import SERVICES
from gateway.soap.wsdl import WSDL
from gateway.store.schema import LaneEventRecord
from test_events import submit
from test_hardening import envelope, post

REPO = Path(__file__).resolve().parents[1]
NS = "urn:parkgate:v1"
SEED = Path(__file__).parent / "data" / "seed_parking_event.xml"


@pytest.fixture(scope="module")
def schema():
    return xmlschema.XMLSchema(str(CONTRACT_XSD))


def xmllint(tmp_path, document):
    path = tmp_path / "doc.xml"
    path.write_bytes(document)
    run = subprocess.run(["xmllint", "--noout", "--schema", str(CONTRACT_XSD), str(path)],
                         capture_output=True, text=True)
    assert run.returncode == 0, run.stderr


def test_the_seed_example_validates(schema, tmp_path):
    schema.validate(str(SEED))
    xmllint(tmp_path, SEED.read_bytes())


def test_the_schema_is_strict(schema):
    doc = etree.parse(str(SEED))
    direction = doc.find(f".//{{{NS}}}Direction")
    direction.text = "SIDEWAYS"
    assert not schema.is_valid(etree.tostring(doc))
    doc = etree.parse(str(SEED))
    plate = doc.find(f".//{{{NS}}}LicensePlate/{{{NS}}}Number")
    plate.text = "abc-123"
    assert not schema.is_valid(etree.tostring(doc))
    doc = etree.parse(str(SEED))
    doc.getroot().remove(doc.find(f"{{{NS}}}EventID"))
    assert not schema.is_valid(etree.tostring(doc))


def test_served_wsdls_are_the_checked_in_files(database_url, clock):
    """wsdl/ is exactly what a gateway with the default address serves (run `parkgate wsdl --write`)."""
    gw = start_gateway(make_config(database_url, public_url="http://127.0.0.1:8080"), clock)
    try:
        assert {p.file_name for p in gw.service.published} == {p.name for p in (REPO / "wsdl").glob("*.wsdl")}
        for p in gw.service.published:  # SOAP 1.1 and SOAP 1.2
            url = f"http://127.0.0.1:{gw.service.port.getHost().port}{p.path}?wsdl"
            served = urllib.request.urlopen(url, timeout=10).read()
            assert served == (REPO / "wsdl" / p.file_name).read_bytes(), f"wsdl/{p.file_name} is stale"
    finally:
        stop_gateway(gw)


def _canonical(elt):
    return etree.tostring(elt, method="c14n", exclusive=True)


@pytest.mark.parametrize("name", [f"{service}{suffix}" for service in SERVICES for suffix in ("", ".soap12")])
def test_wsdl_types_are_the_contract_types(name):
    wsdl = etree.parse(str(REPO / "wsdl" / f"{name}.wsdl"), etree.XMLParser(remove_blank_text=True))
    schema = next(s for s in wsdl.getroot().iterfind(f"{{{WSDL}}}types/{{{XS}}}schema")
                  if s.get("targetNamespace") == NS)
    served = {(c.tag, c.get("name")): c for c in schema}
    contract = etree.parse(str(CONTRACT_XSD), etree.XMLParser(remove_comments=True, remove_blank_text=True))
    for definition in contract.getroot():
        if definition.get("name") is None:
            continue
        for ann in definition.iter(f"{{{XS}}}annotation"):
            ann.getparent().remove(ann)
        key = (definition.tag, definition.get("name"))
        assert key in served, f"{key} missing from {name}"
        assert _canonical(served[key]) == _canonical(definition), f"{key} differs in {name}"


def test_every_emitted_document_validates(gateway, clock, schema, tmp_path):
    plate = unique_plate()
    status, data = post(gateway, envelope(f"""<pg:SubmitEvent><pg:Event>
        <pg:EventID>E-doc-{plate}</pg:EventID><pg:FacilityID>{FACILITY}</pg:FacilityID>
        <pg:CameraID>CAM-IN</pg:CameraID><pg:Direction>ENTRY</pg:Direction>
        <pg:Timestamp>{clock().isoformat()}</pg:Timestamp><pg:PlateText>{plate}</pg:PlateText>
        <pg:Confidence>0.93</pg:Confidence><pg:ImageURL>https://cams.example/1.jpg</pg:ImageURL>
        <pg:Vehicle><pg:Make>Toyota</pg:Make><pg:Color>Silver</pg:Color><pg:VehicleClass>Sedan</pg:VehicleClass></pg:Vehicle>
        </pg:Event></pg:SubmitEvent>"""))
    assert status == 200, data
    response = etree.fromstring(data)
    event = response.find(f".//{{{NS}}}SubmitEventResponse/{{{NS}}}ParkingEvent")
    assert event is not None
    document = etree.tostring(event)
    schema.validate(document)
    xmllint(tmp_path, document)

    with gateway.store.transaction() as db:
        stored = db.query(LaneEventRecord).filter_by(event_id=f"E-doc-{plate}").one().document
    schema.validate(stored)
    xmllint(tmp_path, stored.encode())

    # an exit with charges, a citation and a permit
    clock.advance(timedelta(hours=3))
    assert submit(gateway, "EXIT", plate).Decision == "HOLD"
    citation = envelope(f"""<pg:IssueCitation><pg:FacilityID>{FACILITY}</pg:FacilityID><pg:Plate>{plate}</pg:Plate>
        <pg:ViolationType>EXPIRED_TIME</pg:ViolationType></pg:IssueCitation>""")
    permit = envelope(f"""<pg:IssuePermit><pg:Plate>{plate}</pg:Plate><pg:PermitType>Monthly</pg:PermitType>
        <pg:ValidFrom>2025-01-01</pg:ValidFrom><pg:ValidUntil>2025-01-31</pg:ValidUntil></pg:IssuePermit>""")
    for body, path, tag in [(citation.replace(b">operator<", b">enforcement<"), "/soap/CitationService", "Citation"),
                            (permit, "/soap/PermitService", "Permit")]:
        status, data = post(gateway, body, path=path)
        assert status == 200, data
        doc = etree.tostring(etree.fromstring(data).find(f".//{{{NS}}}{tag}"))
        schema.validate(doc)
        xmllint(tmp_path, doc)


@pytest.mark.parametrize("permit, expected", [
    (Permit("PRMT-1", "ABC123", "LOT-A", "Monthly", date(2026, 1, 1), date(2026, 12, 31), "ACTIVE",
            datetime(2026, 1, 1, 8, tzinfo=timezone.utc)),
     '<Permit xmlns="urn:parkgate:v1"><PermitNumber>PRMT-1</PermitNumber><LicensePlate>ABC123</LicensePlate>'
     '<FacilityID>LOT-A</FacilityID><PermitType>Monthly</PermitType><ValidFrom>2026-01-01</ValidFrom>'
     '<ValidUntil>2026-12-31</ValidUntil><State>ACTIVE</State><IssuedAt>2026-01-01T08:00:00Z</IssuedAt></Permit>'),
    (Permit("PRMT-2", "X1", None, "Annual", date(2026, 1, 1), date(2026, 12, 31), "REVOKED",
            datetime(2026, 1, 1, 8, tzinfo=timezone.utc), datetime(2026, 2, 1, 8, 30, 1, 5, tzinfo=timezone.utc),
            "sold & <gone>"),
     '<Permit xmlns="urn:parkgate:v1"><PermitNumber>PRMT-2</PermitNumber><LicensePlate>X1</LicensePlate>'
     '<PermitType>Annual</PermitType><ValidFrom>2026-01-01</ValidFrom><ValidUntil>2026-12-31</ValidUntil>'
     '<State>REVOKED</State><IssuedAt>2026-01-01T08:00:00Z</IssuedAt><RevokedAt>2026-02-01T08:30:01.000005Z</RevokedAt>'
     '<RevocationReason>sold &amp; &lt;gone&gt;</RevocationReason></Permit>'),
])
def test_a_permit_document_has_its_fields_in_order_and_leaves_out_those_it_has_not(permit, expected):
    """Copied from a tree of every leaf (gateway.contract.documents.permit): each copy its own, the
    one it was copied from untouched; byte for byte the document built leaf by leaf before."""
    first = documents.permit(permit)
    assert etree.tostring(first).decode() == expected
    first[0].text = "CHANGED"
    assert etree.tostring(documents.permit(permit)).decode() == expected
