"""Bad and hostile input over raw HTTP: each gets a clear fault or status, and the server keeps serving."""

import http.client
import logging
import socket
import time
from urllib.parse import urlsplit

import pytest
from lxml import etree

from conftest import PASSWORD

SOAP_ENV = "http://schemas.xmlsoap.org/soap/envelope/"
WSSE = "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-secext-1.0.xsd"
HEADER = f"""<soapenv:Header><wsse:Security xmlns:wsse="{WSSE}"><wsse:UsernameToken>
<wsse:Username>operator</wsse:Username><wsse:Password>{PASSWORD}</wsse:Password>
</wsse:UsernameToken></wsse:Security></soapenv:Header>"""


def envelope(body, header=HEADER):
    return (f'<soapenv:Envelope xmlns:soapenv="{SOAP_ENV}" xmlns:pg="urn:parkgate:v1">{header}'
            f"<soapenv:Body>{body}</soapenv:Body></soapenv:Envelope>").encode()


def post(gateway, body, path="/soap/EventService", headers=None):
    url = urlsplit(gateway.base_url)
    conn = http.client.HTTPConnection(url.hostname, url.port, timeout=10)
    conn.request("POST", path, body=body, headers={"Content-Type": "text/xml; charset=utf-8", **(headers or {})})
    resp = conn.getresponse()
    data = resp.read()
    conn.close()
    return resp.status, data


def fault(data):
    doc = etree.fromstring(data)
    f = doc.find(f"{{{SOAP_ENV}}}Body/{{{SOAP_ENV}}}Fault")
    assert f is not None, data[:300]
    assert [c.tag for c in f] in (["faultcode", "faultstring"], ["faultcode", "faultstring", "detail"])
    return f.findtext("faultcode"), f.findtext("faultstring")


def still_serving(gateway):
    status, data = post(gateway, envelope("<pg:Ping/>"))
    assert status == 200 and b"ServerTime" in data


def test_ping_by_hand(gateway):
    still_serving(gateway)


def test_an_answer_is_one_whole_document_and_a_caller_that_hangs_up_gets_none(gateway):
    """The request thread hands the reactor the whole answer at once: its length is known (no
    chunks), a fault's as well; a caller gone before it is ready leaves the gateway serving."""
    url = urlsplit(gateway.base_url)
    for body in (envelope("<pg:Ping/>"), envelope("<pg:Ping/>", header="")):
        conn = http.client.HTTPConnection(url.hostname, url.port, timeout=10)
        conn.request("POST", "/soap/EventService", body=body, headers={"Content-Type": "text/xml; charset=utf-8"})
        resp = conn.getresponse()
        data = resp.read()
        conn.close()
        assert resp.getheader("Transfer-Encoding") is None and int(resp.getheader("Content-Length")) == len(data)
        assert resp.getheader("Content-Type").startswith("text/xml") and data.startswith(b"<?xml")
    body = envelope("<pg:Ping/>")
    for _ in range(20):
        with socket.create_connection((url.hostname, url.port), timeout=10) as s:
            s.sendall(b"POST /soap/EventService HTTP/1.1\r\nHost: x\r\nContent-Type: text/xml\r\n"
                      b"Content-Length: %d\r\n\r\n%s" % (len(body), body))
    still_serving(gateway)


def test_a_failure_outside_spyne_is_a_short_500_that_names_only_its_kind(gateway, monkeypatch, caplog):
    """The bridge's own last resort: spyne raising, answering without a status or with a header HTTP
    cannot carry, is a plain 500 that says so (never an empty one, never no answer), logged by the
    error's kind, not its message (it may quote the request); the gateway goes on serving."""
    wsgi = next(p.wsgi for p in gateway.service.published if p.path == "/soap/EventService")

    def raising(environ, start_response):
        raise RuntimeError("working on plate B 1234 XYZ")

    def silent(environ, start_response):
        return [b"no status"]

    def unsendable(environ, start_response):   # a header HTTP cannot carry (not latin-1)
        start_response("200 OK", [("Content-Type", "text/xml"), ("Content-Length", "7"), ("X-Note", "\u20ac")])
        return [b"<a/>\n"]

    caplog.set_level(logging.ERROR, logger="parkgate")
    for broken, kind in ((raising, "RuntimeError"), (silent, "IndexError"), (unsendable, "UnicodeEncodeError")):
        monkeypatch.setattr(wsgi, "handle_rpc", broken)
        status, data = post(gateway, envelope("<pg:Ping/>"))
        assert (status, data) == (500, b"internal error\n")
        assert f"SOAP request failed outside spyne: {kind}" in caplog.text
    assert "1234" not in caplog.text
    monkeypatch.undo()
    still_serving(gateway)


@pytest.mark.parametrize("body", [
    b"<not-xml",
    b"\x00\x01\x02",
    envelope("<pg:Ping>")[:-30],
])
def test_malformed_xml(gateway, body):
    status, data = post(gateway, body)
    assert status == 500
    code, message = fault(data)
    assert code.endswith("Client.InvalidInput")
    assert "malformed XML" in message
    still_serving(gateway)


def test_external_entity_is_refused_without_reading_the_file(gateway):
    body = (b'<?xml version="1.0"?><!DOCTYPE foo [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>'
            + envelope("<pg:GetOccupancy><pg:FacilityID>&xxe;</pg:FacilityID></pg:GetOccupancy>"))
    status, data = post(gateway, body)
    code, message = fault(data)
    assert code.endswith("Client.InvalidInput") and "DOCTYPE" in message
    assert b"root:" not in data
    still_serving(gateway)


def test_billion_laughs_is_refused_quickly(gateway):
    entities = "".join(f'<!ENTITY l{i} "{f"&l{i - 1};" * 10}">' for i in range(1, 10))
    body = (f'<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY l0 "lol">{entities}]>'.encode()
            + envelope("<pg:GetOccupancy><pg:FacilityID>&l9;</pg:FacilityID></pg:GetOccupancy>"))
    started = time.monotonic()
    status, data = post(gateway, body)
    assert time.monotonic() - started < 2
    assert fault(data)[0].endswith("Client.InvalidInput")
    still_serving(gateway)


def test_deep_nesting_is_refused(gateway):
    body = envelope("<pg:Ping>" + "<a>" * 5000 + "</a>" * 5000 + "</pg:Ping>")
    status, data = post(gateway, body)
    assert fault(data)[0].endswith("Client.InvalidInput")
    still_serving(gateway)


@pytest.mark.parametrize("event, why, field", [
    ("<pg:EventID>E1</pg:EventID>", "missing fields", "FacilityID"),
    ("""<pg:EventID>E1</pg:EventID><pg:FacilityID>LOT-TEST</pg:FacilityID><pg:CameraID>CAM-IN</pg:CameraID>
        <pg:Direction>SIDEWAYS</pg:Direction><pg:Timestamp>2025-01-22T14:30:45Z</pg:Timestamp>""", "bad enum",
     "Direction"),
    ("""<pg:EventID>E1</pg:EventID><pg:FacilityID>LOT-TEST</pg:FacilityID><pg:CameraID>CAM-IN</pg:CameraID>
        <pg:Direction>ENTRY</pg:Direction><pg:Timestamp>yesterday</pg:Timestamp>""", "bad time", "Timestamp"),
    ("""<pg:EventID>E1</pg:EventID><pg:FacilityID>LOT-TEST</pg:FacilityID><pg:CameraID>CAM-IN</pg:CameraID>
        <pg:Direction>ENTRY</pg:Direction><pg:Timestamp>2025-01-22T14:30:45Z</pg:Timestamp>
        <pg:PlateText>ABC123</pg:PlateText><pg:Confidence>1.5</pg:Confidence>""", "confidence over 1", "Confidence"),
    ("""<pg:EventID>bad id with spaces</pg:EventID><pg:FacilityID>LOT-TEST</pg:FacilityID>
        <pg:CameraID>CAM-IN</pg:CameraID><pg:Direction>ENTRY</pg:Direction>
        <pg:Timestamp>2025-01-22T14:30:45Z</pg:Timestamp>""", "bad id", "EventID"),
])
def test_schema_invalid_requests(gateway, event, why, field):
    status, data = post(gateway, envelope(f"<pg:SubmitEvent><pg:Event>{event}</pg:Event></pg:SubmitEvent>"))
    assert status == 500, why
    code, message = fault(data)
    assert code.endswith("Client.InvalidInput"), why
    assert message.startswith("schema-invalid request")
    detail = etree.fromstring(data).find(f"{{{SOAP_ENV}}}Body/{{{SOAP_ENV}}}Fault/detail")
    assert detail[0].findtext("{urn:parkgate:v1}Field") == field, why
    still_serving(gateway)


def test_unknown_operation(gateway):
    status, data = post(gateway, envelope("<pg:DropAllTables/>"))
    assert fault(data)[0].startswith("soap11env:Client")
    still_serving(gateway)


def test_naive_timestamp_is_refused(gateway, clock):
    event = """<pg:EventID>E-naive</pg:EventID><pg:FacilityID>LOT-TEST</pg:FacilityID><pg:CameraID>CAM-IN</pg:CameraID>
        <pg:Direction>ENTRY</pg:Direction><pg:Timestamp>2025-01-22T14:30:45</pg:Timestamp>
        <pg:PlateText>NAIVE1</pg:PlateText>"""
    status, data = post(gateway, envelope(f"<pg:SubmitEvent><pg:Event>{event}</pg:Event></pg:SubmitEvent>"))
    assert fault(data)[0].endswith("Client.InvalidTime")


def test_body_over_the_limit_is_refused_before_it_is_read(gateway):
    url = urlsplit(gateway.base_url)
    with socket.create_connection((url.hostname, url.port), timeout=10) as s:
        s.sendall(b"POST /soap/EventService HTTP/1.1\r\nHost: x\r\nContent-Type: text/xml\r\n"
                  b"Content-Length: 100000000\r\n\r\n")
        reply = s.recv(4096)  # answered without sending a single body byte
    assert reply.startswith(b"HTTP/1.1 413")
    still_serving(gateway)


def test_chunked_body_over_the_limit_is_refused(gateway):
    url = urlsplit(gateway.base_url)
    chunk = b"a" * 8192
    with socket.create_connection((url.hostname, url.port), timeout=10) as s:
        s.sendall(b"POST /soap/EventService HTTP/1.1\r\nHost: x\r\nContent-Type: text/xml\r\n"
                  b"Transfer-Encoding: chunked\r\n\r\n")
        reply = b""
        try:
            for _ in range(20):  # 160 KiB against a 64 KiB limit
                s.sendall(b"%x\r\n%s\r\n" % (len(chunk), chunk))
        except (BrokenPipeError, ConnectionResetError):
            pass
        try:
            reply = s.recv(4096)
        except ConnectionResetError:
            pass
    assert reply.startswith(b"HTTP/1.1 413")
    still_serving(gateway)


def test_faults_carry_no_stack_trace(gateway):
    _, data = post(gateway, envelope("<pg:GetSession><pg:SessionID>S-NOPE</pg:SessionID></pg:GetSession>"))
    assert b"Traceback" not in data and b'File "' not in data
    assert fault(data)[0].endswith("Client.NotFound")


def test_get_without_wsdl_is_not_allowed(gateway):
    url = urlsplit(gateway.base_url)
    conn = http.client.HTTPConnection(url.hostname, url.port, timeout=10)
    conn.request("GET", "/soap/EventService")
    assert conn.getresponse().status == 405
    conn.close()


def _raw(gateway, request):
    """What the server answers to ``request`` (bytes), read until it closes."""
    url = urlsplit(gateway.base_url)
    with socket.create_connection((url.hostname, url.port), timeout=10) as s:
        try:
            s.sendall(request)
        except (BrokenPipeError, ConnectionResetError):
            pass
        reply = b""
        while chunk := s.recv(4096):
            reply += chunk
    return reply


@pytest.mark.parametrize("request_, status", [
    (b"GET /console/login?q=" + b"x" * 20000 + b" HTTP/1.1\r\nHost: x\r\n\r\n", b"414"),
    (b"GET /console/login HTTP/1.1\r\nHost: x\r\nX-Long: " + b"x" * 20000 + b"\r\n\r\n", b"431"),
    (b"GET\r\nHost: x\r\n\r\n", b"400"),
], ids=["request line", "header line", "no path"])
def test_a_request_twisted_cannot_read_is_answered_with_why(gateway, request_, status):
    """Twisted hangs up on a line past 16 KiB without a word, and answers a malformed request line
    with an empty 400; a client (and its operator) should learn what was wrong."""
    reply = _raw(gateway, request_)
    head, _, body = reply.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 " + status) and b"Connection: close" in head
    assert body and body.endswith(b".\n")
    still_serving(gateway)
