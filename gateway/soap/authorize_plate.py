"""AuthorizePlate the short way: a PARCS asks it for every car, so it skips spyne.

The question is read by the same rules as every SOAP request (:meth:`read_envelope`: bounds, no
DTD, SOAP's shape), validated against the same schema, its caller verified and admitted by the same
code (:meth:`GatewayApplication.caller`), answered by the same use case inside the same call (:meth:`call`:
origin, metrics, error translation), and its answer or fault is the element tree spyne would send,
byte for byte (tests/test_authorize_plate_lean.py sends the same requests both ways). Whatever it
is not sure of (another operation, an At, an attribute, text with padding, anything the reading
refuses) goes to spyne, which answers it as always: before the caller is verified, so that no
request is ever answered, counted or audited twice.
"""

import copy
import re

from lxml import etree
from spyne.model.fault import Fault

from ..contract import documents
from ..contract.namespace import NS
from .services.permits import PermitService

OPERATION = "AuthorizePlate"
_LANE = re.compile(r"-?[0-9]{1,9}")   # xs:int in the one spelling both ways read alike
_DIRECTIONS = ("ENTRY", "EXIT")
_FACILITY, _LANE_NUMBER, _PLATE, _DIRECTION = (f"{{{NS}}}{name}" for name in
                                               ("FacilityID", "LaneNumber", "Plate", "Direction"))


class AuthorizePlateShortcut:
    """For one published PermitService (SOAP 1.1 or 1.2): ``(environ, body)`` to the WSGI answer
    ``(status, headers, body)``, or None for spyne to answer."""

    def __init__(self, app):
        self.app = app
        self.protocol = app.in_protocol
        self.env = self.protocol.ns_soap_env
        self.roles = PermitService.public_methods[OPERATION].udd["roles"]
        self.operation = f"{{{NS}}}{OPERATION}"
        self.nsmap = app.interface.nsmap
        self.template = self._template()

    def __call__(self, environ, data):
        if environ["REQUEST_METHOD"] != "POST" or not self.protocol.speaks(environ.get("CONTENT_TYPE")) \
                or OPERATION.encode() not in data:
            return None
        question = self._read(data)
        if question is None:
            return None
        header, (facility, lane, plate, direction) = question
        try:
            caller = self.app.caller(header, environ, self.roles)
            answer = self.app.call(OPERATION, environ, lambda: self.app.use_cases.authorizations.authorize(
                facility, lane, plate, caller.username, direction))
        except Fault as fault:
            return self._fault(fault)
        return self._answer(answer)

    def _read(self, data):
        """(the header's children, (facility, lane, plate, direction)) of a question spyne would read
        exactly so; else None."""
        try:
            root = self.protocol.read_envelope(data)
        except Exception:   # a fault spyne answers (it reads the request again)
            return None
        operation = root[-1][0]
        if operation.tag != self.operation or operation.attrib or not self.protocol.message_schema.validate(operation):
            return None
        values = {}
        for child in operation:
            text = child.text
            if child.attrib or text is None or text != text.strip():
                return None
            values[child.tag] = text
        lane, direction = values.pop(_LANE_NUMBER), values.pop(_DIRECTION, None)
        facility, plate = values.pop(_FACILITY), values.pop(_PLATE)
        if values or not _LANE.fullmatch(lane) or direction not in (None, *_DIRECTIONS):
            return None   # an At (or anything else): spyne's decoding of it is the one there is
        return (list(root[0]) if len(root) == 2 else None), (facility, int(lane), plate, direction)

    def _envelope(self, body_nsmap=None):
        """An Envelope and its Body as spyne's serialise makes them: with the interface's namespaces."""
        document = etree.Element(f"{{{self.env}}}Envelope", nsmap=self.nsmap)
        return document, etree.SubElement(document, f"{{{self.env}}}Body", nsmap=body_nsmap)

    def _answer(self, answer):
        document = copy.deepcopy(self.template)
        response = document[0][0]
        response[0].text, response[1].text, response[2].text = answer.decision, answer.reason, answer.standing.status
        if answer.standing.permit is not None:   # in the answer's namespace, as its prefix spells it
            response.append(documents.permit(answer.standing.permit))
        return self._sent("200 OK", document)

    def _template(self):
        """The answer's tree as spyne's serialise leaves it (namespaces tidied), without its values:
        copied for each answer (an Envelope made with the interface's fifteen namespaces and tidied
        costs five times the copy)."""
        document, body = self._envelope()
        response = etree.SubElement(body, f"{{{NS}}}{OPERATION}Response")
        for name in ("Decision", "Reason", "Status"):
            etree.SubElement(response, f"{{{NS}}}{name}")
        self.protocol.tidy(document)
        return document

    def _fault(self, fault):
        """The fault as the protocol writes it (in a Body that declares the namespaces too)."""
        document, body = self._envelope(self.nsmap)
        self.protocol.fault_to_parent(None, type(fault), fault, body, NS)
        self.protocol.tidy(document)
        return self._sent(self.protocol.fault_to_http_response_code(fault), document)

    def _sent(self, status, document):
        data = etree.tostring(document, encoding="UTF-8", xml_declaration=True)
        return status, [("Content-Type", self.protocol.mime_type), ("Content-Length", str(len(data)))], data
