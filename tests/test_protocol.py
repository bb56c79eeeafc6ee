"""The SOAP protocol's per-type plans decode and encode exactly as spyne's generic code does.

The plans (gateway.soap.protocol) replace spyne's generic (de)serialiser on the hot path; these
tests hold them to the same XML and the same values, for nested types, binary fields, lists and
absent optional fields, and check that types the plans do not cover still go spyne's way.
"""

from datetime import datetime, timezone
from decimal import Decimal

import pytest
from lxml import etree
from spyne.protocol.soap import Soap11, Soap12

from gateway.soap import types as t
from gateway.soap.application import SERVICES, GatewayApplication
from gateway.soap.protocol import ContractSoap11, ContractSoap12

WHEN = datetime(2026, 11, 21, 10, 30, tzinfo=timezone.utc)


STOCK = {ContractSoap11: Soap11, ContractSoap12: Soap12}


def _protocol(protocol_class):
    return GatewayApplication(SERVICES["EventService"], "EventService", use_cases=None,
                              protocol=protocol_class).out_protocol


def _stock(protocol):
    """spyne's own protocol of the same SOAP version on the same application: its generic code all
    the way down (nested types included), none of the plans."""
    stock = STOCK[type(protocol)]()
    stock.set_app(protocol.app)
    return stock


def _encode(protocol, cls, inst, generic):
    parent = etree.Element("parent")
    (_stock(protocol) if generic else protocol).complex_to_parent(None, cls, inst, parent, t.NS, "Item")
    return etree.tostring(parent)


def _round_trip(protocol, cls, inst):
    """(XML by the plan, XML by spyne, the plan's decoding of it re-encoded by spyne)."""
    planned, generic = _encode(protocol, cls, inst, False), _encode(protocol, cls, inst, True)
    decoded = protocol.complex_from_element(None, cls, etree.fromstring(generic)[0])
    return planned, generic, _encode(protocol, cls, decoded, True)


LANE_EVENTS = [
    t.LaneEvent(EventID="E-1", FacilityID="LOT-A", CameraID="CAM-IN", Direction="ENTRY", Timestamp=WHEN,
                PlateText="ABC123", Confidence=Decimal("0.97")),
    t.LaneEvent(EventID="E-2", FacilityID="LOT-A", CameraID="CAM-OUT", LaneNumber=2, Direction="EXIT", Timestamp=WHEN,
                ImageURL="https://cam.example/1.jpg", Image=[b"\xff\xd8\x00binary"], SpaceAssigned="B7",
                Vehicle=t.VehicleAttributes(Make="VW", Color="Red", Year=2019), Jurisdiction="CA", Country="US"),
]


@pytest.mark.parametrize("protocol_class", [ContractSoap11, ContractSoap12])
@pytest.mark.parametrize("event", LANE_EVENTS, ids=["plate text", "everything"])
def test_lane_events_decode_and_encode_as_spyne_does(protocol_class, event):
    protocol = _protocol(protocol_class)
    assert protocol._plan(t.LaneEvent) and protocol._plan(t.VehicleAttributes)
    planned, generic, again = _round_trip(protocol, t.LaneEvent, event)
    assert planned == generic
    assert again == generic


def test_lists_of_items_encode_and_decode_as_spyne_does():
    protocol = _protocol(ContractSoap11)
    response = protocol.app.interface.service_method_map[f"{{{t.NS}}}ListReviews"][0].out_message
    reviews = [t.ReviewItem(ReviewID=n, EventID=f"E-{n}", FacilityID="LOT-A", CameraID="CAM-IN", Direction="ENTRY",
                            Timestamp=WHEN, Reason="LOW_CONFIDENCE", PlateRead="ABC123", State="OPEN")
               for n in (1, 2, 3)]
    inst = response(Review=reviews)
    planned, generic, again = _round_trip(protocol, response, inst)
    assert planned == generic
    assert again == generic
    assert len(etree.fromstring(generic)[0].findall(f"{{{t.NS}}}Review")) == 3


def test_types_with_attributes_take_spynes_way():
    """Money carries its currency as an XML attribute: the plans leave such types alone."""
    protocol = _protocol(ContractSoap11)
    assert not protocol._plan(t.Money)
    planned, generic, again = _round_trip(
        protocol, t.PaymentReceipt, t.PaymentReceipt(PaymentID="PAY-1", SessionID="S-1", PaidAt=WHEN,
                                                     Amount=t.Money(value=Decimal("3.00"), currency="USD")))
    assert planned == generic == again
    assert b'currency="USD"' in generic
