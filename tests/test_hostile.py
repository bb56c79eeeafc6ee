"""Issue 15: envelopes that are not what they claim, sent as raw HTTP to a running gateway.

Each class of hostile request gets a SOAP fault of the right kind, changes nothing, and is
answered quickly; the server keeps serving. (tests/test_hardening.py has the older classes.)
"""

import http.client
import socket
import time
from urllib.parse import urlsplit

import pytest
from lxml import etree
from sqlalchemy import func, select

from conftest import (
    PASSWORD,
    SettableClock,
    make_config,
    migrated_with_users,
    start_gateway,
    stop_gateway,
    unique,
    unique_plate,
)
from gateway.store.schema import SessionRecord, table_of
from test_hardening import HEADER, SOAP_ENV, envelope, fault, post, still_serving

ENV12 = "http://www.w3.org/2003/05/soap-envelope"
WSSE = "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-secext-1.0.xsd"
HEADER12 = HEADER.replace("soapenv:", "env:")


@pytest.fixture(scope="module")
def gateway(database_url, request):
    """The test gateway with the default body limit (1 MiB), so that hostile bodies reach the parser."""
    migrated_with_users(database_url, request)
    gw = start_gateway(make_config(database_url, max_body_bytes=1024 * 1024), SettableClock())
    yield gw
    stop_gateway(gw)


def envelope12(body, header=HEADER12):
    return (f'<env:Envelope xmlns:env="{ENV12}" xmlns:pg="urn:parkgate:v1">{header}'
            f"<env:Body>{body}</env:Body></env:Envelope>").encode()


def post12(gateway, body, content_type="application/soap+xml; charset=utf-8"):
    return post(gateway, body, "/soap12/EventService", {"Content-Type": content_type})


def fault12(data):
    f = etree.fromstring(data).find(f"{{{ENV12}}}Body/{{{ENV12}}}Fault")
    assert f is not None, data[:300]
    return f.findtext(f"{{{ENV12}}}Code/{{{ENV12}}}Value"), f.findtext(f"{{{ENV12}}}Reason/{{{ENV12}}}Text")


def lane_event(plate, event_id=None, timestamp="2025-01-22T14:30:45Z"):
    return (f"<pg:SubmitEvent><pg:Event><pg:EventID>{event_id or unique()}</pg:EventID>"
            f"<pg:FacilityID>LOT-TEST</pg:FacilityID><pg:CameraID>CAM-IN</pg:CameraID>"
            f"<pg:Direction>ENTRY</pg:Direction><pg:Timestamp>{timestamp}</pg:Timestamp>"
            f"<pg:PlateText>{plate}</pg:PlateText><pg:Confidence>0.97</pg:Confidence></pg:Event></pg:SubmitEvent>")


def sessions(gateway):
    sessions_table = table_of(SessionRecord)
    with gateway.store.connection() as conn:
        return conn.execute(select(func.count()).select_from(sessions_table)).scalar()


def refused(gateway, body, code="Client.InvalidInput", within=1.0, **kw):
    """Posts ``body``; asserts a SOAP 1.1 fault whose code ends so, answered within ``within`` s, and
    that nothing was recorded."""
    before = sessions(gateway)
    started = time.monotonic()
    status, data = post(gateway, body, **kw)
    took = time.monotonic() - started
    assert data, "an empty answer"
    got, message = fault(data)
    assert got.endswith(code), (got, message)
    assert took < within, took
    assert sessions(gateway) == before
    still_serving(gateway)
    return status, message


# --- 1. what a request may declare is bounded before it is validated -----------------------

@pytest.mark.parametrize("what, body", [
    ("namespace declarations", envelope(
        "<pg:Ping " + " ".join(f'xmlns:n{i}="urn:x:{i}"' for i in range(30_000)) + "/>")),
    ("namespace declarations, one per element", envelope(
        "".join(f'<pg:Ping xmlns:n{i}="urn:x:{i}">' for i in range(200)) + "</pg:Ping>" * 200)),
    ("attributes", envelope("<pg:Ping " + " ".join(f'a{i}="1"' for i in range(20_000)) + "/>")),
    ("attributes on one element", envelope("<pg:Ping " + " ".join(f'a{i}="1"' for i in range(40)) + "/>")),
    ("elements", envelope("<pg:Ping>" + "<x/>" * 60_000 + "</pg:Ping>")),
    ("depth", envelope("<pg:Ping>" + "<a>" * 200 + "</a>" * 200 + "</pg:Ping>")),
    ("comments", envelope("<pg:Ping>" + "<!---->" * 140_000 + "</pg:Ping>")),
])
def test_declarations_past_the_bounds_are_refused_at_once(gateway, what, body):
    _, message = refused(gateway, body, within=0.5)
    assert "too many" in message or "too deep" in message, what


def test_a_request_within_the_bounds_is_served(gateway, clock):
    # Namespaces declared on the envelope as some SOAP stacks do: a handful is fine.
    body = envelope("<pg:Ping/>").replace(b"<soapenv:Envelope ", b"<soapenv:Envelope " + b" ".join(
        b'xmlns:n%d="urn:x:%d"' % (i, i) for i in range(10)) + b" ")
    status, data = post(gateway, body)
    assert status == 200 and b"ServerTime" in data


# --- 9. encodings: checked after decoding ---------------------------------------------------

@pytest.mark.parametrize("codec", ["utf-16", "utf-16-le", "utf-16-be", "utf-32"])
def test_wide_encodings_with_a_doctype_or_an_instruction_are_refused(gateway, codec):
    declaration = f'<?xml version="1.0" encoding="{codec.upper()}"?>'
    body = (declaration + '<!DOCTYPE x [<!ENTITY e "boom">]>' + envelope("<pg:Ping/>").decode()).encode(codec)
    _, message = refused(gateway, body)
    assert "DOCTYPE" in message
    body = (declaration + envelope("<?pi x?><pg:Ping/>").decode()).encode(codec)
    _, message = refused(gateway, body)
    assert "processing instruction" in message


def test_utf16_without_a_doctype_is_served(gateway, clock):
    body = ('<?xml version="1.0" encoding="UTF-16"?>' + envelope("<pg:Ping/>").decode()).encode("utf-16")
    status, data = post(gateway, body, headers={"Content-Type": "text/xml; charset=utf-16"})
    assert status == 200 and b"ServerTime" in data


# --- 10, 11. comments and processing instructions ------------------------------------------

@pytest.mark.parametrize("body", [
    envelope("<!-- first --><pg:Ping/>"),
    envelope("\n  <!-- a note -->\n  <pg:Ping/><!-- after -->"),
])
def test_comments_around_the_operation_are_ignored(gateway, body):
    status, data = post(gateway, body)
    assert status == 200 and b"ServerTime" in data


@pytest.mark.parametrize("body", [
    envelope("<?pi first?><pg:Ping/>"),
    envelope("<pg:Ping><?pi inside?></pg:Ping>"),
    b'<?xml version="1.0"?><?xml-stylesheet href="x"?>' + envelope("<pg:Ping/>"),
])
def test_processing_instructions_are_refused(gateway, body):
    _, message = refused(gateway, body)
    assert "processing instruction" in message


def test_a_comment_inside_a_value_is_not_a_way_to_change_it(gateway, clock):
    plate = unique_plate()
    status, data = post(gateway, envelope(lane_event(f"{plate[:4]}<!-- -->{plate[4:]}")))
    assert status == 200, data[:300]
    # What was validated is what was processed: the whole plate, not its first part.
    session_id = etree.fromstring(data).findtext(".//{urn:parkgate:v1}SessionID")
    assert gateway.client("EventService").GetSession(SessionID=session_id).Plate == plate


# --- 10, 13. the envelope's structure --------------------------------------------------------

@pytest.mark.parametrize("why, body", [
    ("no Body", f'<soapenv:Envelope xmlns:soapenv="{SOAP_ENV}">{HEADER}</soapenv:Envelope>'.encode()),
    ("an empty Body", envelope("")),
    ("a Body of text", envelope("hello")),
    ("two operations in the Body", envelope("<pg:Ping/><pg:Ping/>")),
    ("two Bodies", f'<soapenv:Envelope xmlns:soapenv="{SOAP_ENV}" xmlns:pg="urn:parkgate:v1">{HEADER}'
                   f"<soapenv:Body><pg:Ping/></soapenv:Body><soapenv:Body><pg:Ping/></soapenv:Body>"
                   f"</soapenv:Envelope>".encode()),
    ("Body before Header", f'<soapenv:Envelope xmlns:soapenv="{SOAP_ENV}" xmlns:pg="urn:parkgate:v1">'
                           f"<soapenv:Body><pg:Ping/></soapenv:Body>{HEADER}</soapenv:Envelope>".encode()),
    ("two Headers", f'<soapenv:Envelope xmlns:soapenv="{SOAP_ENV}" xmlns:pg="urn:parkgate:v1">{HEADER}{HEADER}'
                    f"<soapenv:Body><pg:Ping/></soapenv:Body></soapenv:Envelope>".encode()),
    ("something else in the Envelope", envelope("<pg:Ping/>").replace(b"</soapenv:Envelope>",
                                                                       b"<pg:More/></soapenv:Envelope>")),
])
def test_envelopes_of_the_wrong_shape_are_refused(gateway, why, body):
    status, message = refused(gateway, body)
    assert status == 500, why


@pytest.mark.parametrize("body", [b'<pg:Ping xmlns:pg="urn:parkgate:v1"/>',
                                  b'<x:Envelope xmlns:x="urn:other"><x:Body/></x:Envelope>'])
def test_no_soap_envelope_is_a_version_mismatch(gateway, body):
    """SOAP 1.1 section 4.4.1, SOAP 1.2 part 1 section 5.4.7: the root is not this version's Envelope."""
    refused(gateway, body, code="VersionMismatch")


def test_a_second_body_does_not_smuggle_an_event(gateway, clock):
    plate = unique_plate()
    body = (f'<soapenv:Envelope xmlns:soapenv="{SOAP_ENV}" xmlns:pg="urn:parkgate:v1">{HEADER}'
            f"<soapenv:Body><pg:Ping/></soapenv:Body><soapenv:Body>{lane_event(plate)}</soapenv:Body>"
            f"</soapenv:Envelope>").encode()
    refused(gateway, body)


# --- 12. mustUnderstand -----------------------------------------------------------------------

@pytest.mark.parametrize("value", ["1", "true"])
def test_an_unknown_mandatory_header_is_a_must_understand_fault(gateway, clock, value):
    header = HEADER.replace("</soapenv:Header>", f'<x:Trace xmlns:x="urn:other" soapenv:mustUnderstand="{value}">'
                                                 f"t</x:Trace></soapenv:Header>")
    status, message = refused(gateway, envelope(lane_event(unique_plate()), header), code="MustUnderstand")
    assert status == 500 and "{urn:other}Trace" in message


def test_an_unknown_optional_header_is_ignored(gateway, clock):
    header = HEADER.replace("</soapenv:Header>", '<x:Trace xmlns:x="urn:other" soapenv:mustUnderstand="0">t'
                                                 "</x:Trace></soapenv:Header>")
    status, data = post(gateway, envelope("<pg:Ping/>", header))
    assert status == 200


def test_a_mandatory_header_for_another_actor_is_not_ours(gateway, clock):
    header = HEADER.replace("</soapenv:Header>", '<x:Trace xmlns:x="urn:other" soapenv:mustUnderstand="1" '
                                                 'soapenv:actor="urn:somebody-else">t</x:Trace></soapenv:Header>')
    status, data = post(gateway, envelope("<pg:Ping/>", header))
    assert status == 200


def test_soap12_must_understand_and_not_understood(gateway, clock):
    header = HEADER12.replace("</env:Header>", '<x:Trace xmlns:x="urn:other" env:mustUnderstand="true">t'
                                               "</x:Trace></env:Header>")
    before = sessions(gateway)
    status, data = post12(gateway, envelope12(lane_event(unique_plate()), header))
    code, _ = fault12(data)
    assert status == 500 and code.endswith(":MustUnderstand")
    not_understood = etree.fromstring(data).find(f"{{{ENV12}}}Header/{{{ENV12}}}NotUnderstood")
    assert not_understood is not None and not_understood.get("qname").endswith(":Trace")
    assert sessions(gateway) == before
    # The security header itself is understood, mandatory or not.
    mandatory = HEADER12.replace("<wsse:Security ", '<wsse:Security env:mustUnderstand="true" ')
    status, data = post12(gateway, envelope12("<pg:Ping/>", mandatory))
    assert status == 200


# --- 14. chunked request bodies --------------------------------------------------------------

def chunked(gateway, body, path="/soap/EventService", size=100):
    url = urlsplit(gateway.base_url)
    conn = http.client.HTTPConnection(url.hostname, url.port, timeout=10)
    conn.request("POST", path, body=(body[i:i + size] for i in range(0, len(body), size)),
                 headers={"Content-Type": "text/xml; charset=utf-8"}, encode_chunked=True)
    resp = conn.getresponse()
    data = resp.read()
    conn.close()
    return resp.status, data


def test_a_chunked_request_is_served(gateway, clock):
    status, data = chunked(gateway, envelope("<pg:Ping/>"))
    assert status == 200 and b"ServerTime" in data
    plate = unique_plate()
    status, data = chunked(gateway, envelope(lane_event(plate)))
    assert status == 200 and plate.encode() in data


# --- 15. times at the edges of the calendar ---------------------------------------------------

@pytest.mark.parametrize("when", ["0001-01-01T00:00:00+14:00", "9999-12-31T23:59:59-14:00",
                                  "0001-01-01T00:00:00Z", "9999-12-31T23:59:59Z"])
def test_times_at_the_edges_of_the_calendar_are_invalid_times(gateway, clock, when):
    refused(gateway, envelope(lane_event(unique_plate(), timestamp=when)), code="Client.InvalidTime")


@pytest.mark.parametrize("when", ["0001-01-01T00:00:00+14:00", "9999-12-31T23:59:59-14:00"])
def test_edge_times_in_queries_are_invalid_times(gateway, clock, when):
    body = envelope(f"<pg:LookupPermit><pg:Plate>AB123</pg:Plate><pg:FacilityID>LOT-TEST</pg:FacilityID>"
                    f"<pg:At>{when}</pg:At></pg:LookupPermit>")
    refused(gateway, body, code="Client.InvalidTime", path="/soap/PermitService")


def test_the_end_of_a_day_is_the_next_midnight(gateway, clock):
    """XML Schema admits T24:00:00 (the end of a day); it must not be an internal error."""
    body = envelope("<pg:LookupPermit><pg:Plate>AB123</pg:Plate><pg:FacilityID>LOT-TEST</pg:FacilityID>"
                    "<pg:At>2025-01-21T24:00:00Z</pg:At></pg:LookupPermit>")
    status, data = post(gateway, body, path="/soap/PermitService")
    assert status == 200 and b"NONE" in data
    refused(gateway, envelope(lane_event(unique_plate(), timestamp="2025-01-22T24:00:00Z")), code="Client.InvalidTime")


# --- 16. plates are ASCII letters and digits, not what folds into them -------------------------

@pytest.mark.parametrize("plate", ["ſTRAßı", "ＡＢＣ123", "ÄB123", "K\u0130EL"])
def test_non_ascii_look_alikes_are_invalid_plates(gateway, clock, plate):
    _, message = refused(gateway, envelope(lane_event(plate)))
    assert "plate" in message


# --- 17. content types as SOAP 1.1 and 1.2 define them ---------------------------------------

@pytest.mark.parametrize("content_type", ["application/x-www-form-urlencoded", "text/plain", "application/json",
                                          "application/soap+xml; charset=utf-8", "multipart/form-data; boundary=x"])
def test_soap11_refuses_other_content_types(gateway, content_type):
    status, data = post(gateway, envelope("<pg:Ping/>"), headers={"Content-Type": content_type})
    assert status == 415
    assert fault(data)[0].endswith("Client.InvalidInput")
    still_serving(gateway)


@pytest.mark.parametrize("content_type", ["text/xml; charset=utf-8", "application/x-www-form-urlencoded"])
def test_soap12_refuses_other_content_types(gateway, content_type):
    status, data = post12(gateway, envelope12("<pg:Ping/>"), content_type)
    assert status == 415
    assert fault12(data)[0].endswith(":Sender")


def test_a_missing_content_type_is_unsupported_not_a_wrong_method(gateway):
    url = urlsplit(gateway.base_url)
    with socket.create_connection((url.hostname, url.port), timeout=10) as s:
        body = envelope("<pg:Ping/>")
        s.sendall(b"POST /soap/EventService HTTP/1.1\r\nHost: x\r\nContent-Length: %d\r\nConnection: close\r\n\r\n%s"
                  % (len(body), body))
        reply = b""
        while chunk := s.recv(65536):
            reply += chunk
    assert reply.startswith(b"HTTP/1.1 415")
    assert b"Client.InvalidInput" in reply
    still_serving(gateway)


def test_soap12_content_type_with_its_action_parameter_is_served(gateway, clock):
    status, data = post12(gateway, envelope12("<pg:Ping/>"),
                          'application/soap+xml; charset=utf-8; action="urn:parkgate:v1/Ping"')
    assert status == 200


def test_password_is_not_echoed(gateway):
    _, data = post(gateway, envelope("<pg:Ping><x/></pg:Ping>"))
    assert PASSWORD.encode() not in data
