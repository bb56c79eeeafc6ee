"""SOAP 1.2 on /soap12/<Service>: the same operations, contract and faults as SOAP 1.1, called
by zeep through the SOAP 1.2 WSDLs, and raw envelopes over HTTP."""

import urllib.error
import urllib.request

import pytest
import zeep
from lxml import etree
from zeep.wsse.username import UsernameToken

from conftest import FACILITY, PASSWORD, unique, unique_plate
from gateway.contract.namespace import NS
from test_hardening import envelope, post

ENV12 = "http://www.w3.org/2003/05/soap-envelope"


def client12(gw, name, user="operator", password=PASSWORD):
    return zeep.Client(f"{gw.base_url}/soap12/{name}?wsdl", wsse=UsernameToken(user, password))


def lane_event(gw, direction="ENTRY", plate=None, facility=FACILITY):
    return {"EventID": unique(), "FacilityID": facility, "CameraID": "CAM-IN" if direction == "ENTRY" else "CAM-OUT",
            "Direction": direction, "Timestamp": gw.clock(), "PlateText": plate or unique_plate(), "Confidence": "0.97"}


def test_zeep_speaks_soap12_to_the_soap12_wsdl_and_events_are_decided(gateway, clock):
    client = client12(gateway, "EventService")
    assert type(client.service._binding).__name__ == "Soap12Binding"
    assert client.service.Ping() == clock()
    plate = unique_plate()
    entered = client.service.SubmitEvent(Event=lane_event(gateway, "ENTRY", plate))
    assert (entered.Decision, entered.Reason) == ("OPEN", "TRANSIENT_ENTRY")
    session_id = entered.ParkingEvent.Session.SessionID
    # Both versions serve one gateway: what SOAP 1.2 recorded, SOAP 1.1 reads.
    assert gateway.client("EventService").GetSession(SessionID=session_id).Plate == plate


@pytest.mark.parametrize("call, subcode", [
    (lambda gw: client12(gw, "EventService", password="wrong").service.Ping(), "Authentication"),
    (lambda gw: client12(gw, "PermitService", user="enforcement").service.IssuePermit(
        Plate="AB123", PermitType="Monthly", ValidFrom="2025-01-01", ValidUntil="2025-01-31"), "Authorization"),
    (lambda gw: client12(gw, "EventService").service.SubmitEvent(Event=lane_event(gw, facility="LOT-NOWHERE")),
     "UnknownFacility"),
])
def test_faults_are_soap12_sender_faults_with_the_parkgate_code_as_subcode(gateway, clock, call, subcode):
    with pytest.raises(zeep.exceptions.Fault) as info:
        call(gateway)
    fault = info.value
    assert fault.code.endswith(":Sender")
    assert fault.subcodes == [etree.QName(NS, subcode)]
    typed = fault.detail.find(f"{{{NS}}}{subcode}Fault")
    assert typed is not None and typed.findtext(f"{{{NS}}}Message") == fault.message


def raw_post(gw, body, content_type="application/soap+xml; charset=utf-8"):
    request = urllib.request.Request(f"{gw.base_url}/soap12/EventService", data=body, method="POST",
                                     headers={"Content-Type": content_type})
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, response.read()
    except urllib.error.HTTPError as e:
        return e.code, e.read()


def test_hostile_xml_gets_a_soap12_fault_and_the_server_keeps_serving(gateway, clock):
    bomb = (b'<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;">]>'
            b'<env:Envelope xmlns:env="' + ENV12.encode() + b'"><env:Body>&lol2;</env:Body></env:Envelope>')
    status, body = raw_post(gateway, bomb)
    fault = etree.fromstring(body).find(f"{{{ENV12}}}Body/{{{ENV12}}}Fault")
    assert status == 400 and fault is not None  # SOAP 1.2 over HTTP: the sender's fault
    assert fault.findtext(f"{{{ENV12}}}Code/{{{ENV12}}}Value") == "soap12env:Sender"
    assert "DOCTYPE" in fault.findtext(f"{{{ENV12}}}Reason/{{{ENV12}}}Text")
    status, body = raw_post(gateway, b"<env:Envelope xmlns:env='" + ENV12.encode() + b"'><env:Body>")
    assert status == 400 and b"malformed XML" in body
    assert client12(gateway, "EventService").service.Ping() == clock()


ENV11 = "http://schemas.xmlsoap.org/soap/envelope/"


def qname(element, text):
    """The QName ``text`` (prefix:name) resolved against ``element``'s namespaces: an unbound
    prefix fails here."""
    prefix, _, local = text.partition(":")
    assert prefix in element.nsmap, f"prefix {prefix!r} of {text!r} is not declared"
    return etree.QName(element.nsmap[prefix], local)


def test_a_soap11_envelope_at_the_soap12_endpoint_is_a_version_mismatch(gateway, clock):
    soap11 = envelope("<pg:Ping/>")
    status, body = raw_post(gateway, soap11)
    doc = etree.fromstring(body)
    assert doc.tag == f"{{{ENV11}}}Envelope"  # answered in the sender's own version (SOAP 1.2, appendix A)
    fault = doc.find(f"{{{ENV11}}}Body/{{{ENV11}}}Fault")
    code = fault.find("faultcode")
    assert qname(code, code.text) == etree.QName(ENV11, "VersionMismatch")
    upgrade = doc.find(f"{{{ENV11}}}Header/{{{ENV12}}}Upgrade/{{{ENV12}}}SupportedEnvelope")
    assert qname(upgrade, upgrade.get("qname")) == etree.QName(ENV12, "Envelope")
    assert status == 500


def test_a_soap12_envelope_at_the_soap11_endpoint_is_a_version_mismatch(gateway, clock):
    soap12 = envelope("<pg:Ping/>").replace(ENV11.encode(), ENV12.encode())
    status, body = post(gateway, soap12)
    fault = etree.fromstring(body).find(f"{{{ENV11}}}Body/{{{ENV11}}}Fault")
    code = fault.find("faultcode")
    assert qname(code, code.text) == etree.QName(ENV11, "VersionMismatch")
    assert status == 500
    assert client12(gateway, "EventService").service.Ping() == clock()


def test_a_soap12_fault_about_no_envelope_declares_its_subcode_prefix(gateway, clock):
    # An envelope that binds no prefix to parkgate's namespace, with nothing in its Body (a root
    # that is no envelope at all is a VersionMismatch: tests/test_hostile.py).
    status, body = raw_post(gateway, b'<env:Envelope xmlns:env="' + ENV12.encode() + b'"><env:Body/></env:Envelope>')
    value = etree.fromstring(body).find(f"{{{ENV12}}}Body/{{{ENV12}}}Fault/{{{ENV12}}}Code/{{{ENV12}}}Subcode/"
                                        f"{{{ENV12}}}Value")
    assert qname(value, value.text).namespace == NS
    assert status == 400
