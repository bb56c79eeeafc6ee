"""SOAP 1.1 as parkgate speaks it: hardened parsing, contract validation, WS-I style faults.

Differences from stock spyne ``Soap11``:
- a request with a DOCTYPE is refused before parsing (SOAP forbids DTDs), and parsing never
  resolves entities or touches the network;
- the body is validated against the WSDL's own schema (the published contract);
- a fault carries faultcode, faultstring, (faultactor) and a typed ``detail`` only;
- nothing logs a request body.
"""

import re

from lxml import etree
from spyne.error import RequestNotAllowed
from spyne.protocol.soap import Soap11
from spyne.const.http import HTTP_405

from .contract import secure_parser
from .faults import InvalidInputFault, ParkgateFault

_DOCTYPE = re.compile(rb"<!DOCTYPE", re.IGNORECASE)
_MAX_DETAIL = 300


class ContractSoap11(Soap11):
    def __init__(self, message_schema=None, **kwargs):
        super().__init__(validator=None, **kwargs)
        self.message_schema = message_schema

    def create_in_document(self, ctx, charset=None):
        transport = ctx.transport
        if transport.get_request_method() != "POST" or not transport.get_request_content_type():
            transport.resp_code = HTTP_405
            raise RequestNotAllowed("SOAP requests are POSTs with a Content-Type")
        data = b"".join(ctx.in_string)
        if _DOCTYPE.search(data):
            raise InvalidInputFault("DOCTYPE declarations are not allowed in SOAP messages")
        parser = secure_parser()
        try:
            root = etree.fromstring(data, parser)
        except etree.XMLSyntaxError as e:
            raise InvalidInputFault(f"malformed XML: {_short(e)}") from None
        ctx.in_document = (root, {})

    def validate_document(self, payload):
        if self.message_schema is None:
            return
        if not self.message_schema.validate(payload):
            raise InvalidInputFault(f"schema-invalid request: {_short(self.message_schema.error_log.last_error)}")

    def get_cls_attrs(self, cls):
        """spyne's cached attributes of a type, without the debug line spyne's own version formats
        on every call (it measures a WeakKeyDictionary: dozens of times per request)."""
        attrs = self._attrcache.get(cls)
        return attrs if attrs is not None else super().get_cls_attrs(cls)

    def to_parent(self, ctx, cls, inst, parent, ns, *args, **kwargs):
        """Documents already built and schema-checked (lxml elements) go in as they are."""
        if isinstance(inst, etree._Element):
            parent.append(inst)
            return None
        return super().to_parent(ctx, cls, inst, parent, ns, *args, **kwargs)

    def fault_to_parent(self, ctx, cls, inst, parent, ns, *args, **kwargs):
        fault = etree.SubElement(parent, f"{{{self.ns_soap_env}}}Fault")
        etree.SubElement(fault, "faultcode").text = f"{self.soap_env}:{inst.faultcode}"
        etree.SubElement(fault, "faultstring").text = inst.faultstring or inst.faultcode
        if inst.faultactor:
            etree.SubElement(fault, "faultactor").text = inst.faultactor
        if isinstance(inst, ParkgateFault):
            detail = etree.SubElement(fault, "detail")
            typed = etree.SubElement(detail, f"{{{inst.get_namespace()}}}{inst.get_type_name()}")
            etree.SubElement(typed, f"{{{inst.get_namespace()}}}Message").text = inst.Message
            if inst.Field:
                etree.SubElement(typed, f"{{{inst.get_namespace()}}}Field").text = inst.Field

    schema_validation_error_to_parent = fault_to_parent


def _short(error):
    """An error message without the request's text: first line, bounded."""
    lines = str(getattr(error, "message", None) or error).splitlines()
    return (lines[0] if lines else "error")[:_MAX_DETAIL]

