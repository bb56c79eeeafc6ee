"""SOAP 1.1 and 1.2 as parkgate speaks them: hardened parsing, contract validation, typed faults.

Differences from stock spyne ``Soap11`` and ``Soap12``:
- a request is read within bounds, with no DTD and no processing instruction, comments dropped,
  and must be of SOAP's shape (:mod:`gateway.soap.envelope`); parsing never resolves entities or
  touches the network;
- the media type is the SOAP version's own (``text/xml``, ``application/soap+xml``), else 415;
- a mandatory header block the gateway does not understand is a MustUnderstand fault (SOAP 1.2
  adds NotUnderstood header blocks naming them);
- times whose UTC equivalent falls outside the calendar are Client.InvalidTime;
- the body is validated against the WSDL's own schema (the published contract);
- a fault carries its code, its text and a typed detail element only (SOAP 1.1: faultcode,
  faultstring, detail; SOAP 1.2: Code/Value Sender or Receiver with the parkgate code as a
  Subcode, Reason/Text, Detail);
- an envelope of the other SOAP version (or none) is a VersionMismatch fault, in SOAP 1.1's envelope, which
  both versions' senders read (SOAP 1.2 answers with an Upgrade header naming its envelope);
- nothing logs a request body.
"""

import re
from datetime import timedelta

from lxml import etree
from spyne.const.http import HTTP_400, HTTP_405, HTTP_415, HTTP_500
from spyne.error import RequestNotAllowed
from spyne.model import PushBase, XmlAttribute, XmlData
from spyne.model.fault import Fault
from spyne.protocol.soap import Soap11, Soap12

from ..contract.namespace import NS
from ..domain import times
from ..domain.errors import ParkgateError
from . import envelope
from .faults import InvalidInputFault, InvalidTimeFault, ParkgateFault, fault_for
from .wsse import WSSE

SOAP11_ENV = "http://schemas.xmlsoap.org/soap/envelope/"
SOAP12_ENV = "http://www.w3.org/2003/05/soap-envelope"


class VersionMismatch(Fault):
    """An envelope of another SOAP version than the endpoint's, or no SOAP envelope at all."""

    def __init__(self, got, endpoint):
        why = f"not SOAP {got}" if got else "and the request's root element is not its Envelope"
        super().__init__("VersionMismatch", f"this endpoint speaks SOAP {endpoint}, {why}")


class MustUnderstand(Fault):
    """A header block addressed to the gateway that it must understand and does not."""

    def __init__(self, blocks):
        self.blocks = blocks  # their qualified names, {namespace}name
        super().__init__("MustUnderstand", "header block(s) not understood: " + ", ".join(blocks))


#: Header blocks the gateway understands (and so processes when they are mandatory).
UNDERSTOOD = {f"{{{WSSE}}}Security"}
_MEDIA_TYPES = {SOAP11_ENV: "text/xml", SOAP12_ENV: "application/soap+xml"}
_VERSIONS = {SOAP11_ENV: "1.1", SOAP12_ENV: "1.2"}
#: Who a header block is for, when it is for the gateway: absent, or these (SOAP 1.1 actor, 1.2 role).
_OURS = {SOAP11_ENV: ("actor", {"http://schemas.xmlsoap.org/soap/actor/next"}),
         SOAP12_ENV: ("role", {"http://www.w3.org/2003/05/soap-envelope/role/next",
                               "http://www.w3.org/2003/05/soap-envelope/role/ultimateReceiver"})}


class _ContractProtocol:
    """What parkgate's SOAP 1.1 and SOAP 1.2 share; mixed in before spyne's protocol class."""

    def __init__(self, message_schema=None, **kwargs):
        super().__init__(validator=None, **kwargs)
        self.message_schema = message_schema
        self._plans = {}  # complex type -> _TypePlan

    def create_in_document(self, ctx, charset=None):
        """The request's envelope, parsed within bounds (gateway.soap.envelope), of this endpoint's
        SOAP version, media type and shape, with no mandatory header block it does not understand."""
        transport = ctx.transport
        env = self.ns_soap_env
        if transport.get_request_method() != "POST":
            transport.resp_code = HTTP_405
            raise RequestNotAllowed("SOAP requests are POSTs")
        if not self.speaks(transport.get_request_content_type()):
            transport.resp_code = HTTP_415
            raise InvalidInputFault(f"SOAP {_VERSIONS[env]} requests are {_MEDIA_TYPES[env]}")
        ctx.in_document = (self.read_envelope(b"".join(ctx.in_string)), {})

    def speaks(self, content_type):
        """Whether a request's Content-Type is this SOAP version's media type."""
        return (content_type or "").split(";")[0].strip().lower() == _MEDIA_TYPES[self.ns_soap_env]

    def read_envelope(self, data):
        """The request's envelope: parsed within bounds, of this SOAP version and of SOAP's shape, with
        no mandatory header block the gateway does not understand; else the fault that says why."""
        env = self.ns_soap_env
        root = envelope.parse(data)
        if root.tag != f"{{{env}}}Envelope":
            ns = etree.QName(root).namespace if root.tag.endswith("}Envelope") else None
            raise VersionMismatch(_VERSIONS.get(ns), _VERSIONS[env])
        envelope.check_shape(root, env)
        if len(root) == 2:
            self._must_understand(root[0])
        return root

    def _must_understand(self, header):
        attribute, ours = _OURS[self.ns_soap_env]
        env = self.ns_soap_env
        missed = [block.tag for block in header
                  if block.get(f"{{{env}}}mustUnderstand", "0").strip() in ("1", "true")
                  and block.get(f"{{{env}}}{attribute}", next(iter(ours))).strip() in ours
                  and block.tag not in UNDERSTOOD]
        if missed:
            raise MustUnderstand(missed)

    def datetime_from_unicode_iso(self, cls, string):
        """An xs:dateTime, refused (Client.InvalidTime) when it lies outside the calendar in UTC.
        ``T24:00:00`` (XML Schema's end of a day) is the next day's midnight; spyne knows no hour 24."""
        end_of_day = _END_OF_DAY.search(string or "")
        if end_of_day:
            string = string[:end_of_day.start()] + "T00:00:00" + string[end_of_day.end():]
        try:
            when = super().datetime_from_unicode_iso(cls, string)
            return _in_calendar(when + timedelta(days=1) if end_of_day else when)
        except (ValueError, OverflowError):
            raise InvalidTimeFault(f"not a time: {string[:40]!r}") from None

    def deserialize(self, ctx, message):
        """spyne's, with a value it cannot decode answered as the client's fault (the schema admits
        some that Python's types do not hold), never as an internal error."""
        try:
            return super().deserialize(ctx, message)
        except Fault:
            raise
        except (ValueError, TypeError, OverflowError, ArithmeticError) as e:
            raise InvalidInputFault(f"a value could not be read: {type(e).__name__}") from None

    def decompose_incoming_envelope(self, ctx, message):
        """The Header's blocks and the Body's operation, taken where :func:`envelope.check_shape` has
        put them (spyne looks them up with two XPath expressions compiled on every request), with
        any error on the way answered as the client's: what is left to go wrong is in the request."""
        envelope_xml, _ = ctx.in_document
        ctx.in_document = envelope_xml
        body = envelope_xml[-1][0]
        if body.tag == f"{{{self.ns_soap_env}}}Fault":
            ctx.in_body_doc = body
            return None
        ctx.in_header_doc = envelope_xml[0].getchildren() if len(envelope_xml) == 2 else None
        ctx.in_body_doc = body
        ctx.method_request_string = body.tag
        try:
            return self.validate_body(ctx, message)
        except Fault:
            raise
        except Exception as e:
            raise InvalidInputFault(f"the request could not be read: {type(e).__name__}") from None

    def validate_document(self, payload):
        if self.message_schema is None:
            return
        if not self.message_schema.validate(payload):
            error = self.message_schema.error_log.last_error
            raise InvalidInputFault(f"schema-invalid request: {envelope.short(error)}", _field_at_fault(error))

    def get_cls_attrs(self, cls):
        """spyne's cached attributes of a type, without the debug line spyne's own version formats
        on every call (it measures a WeakKeyDictionary: dozens of times per request)."""
        attrs = self._attrcache.get(cls)
        return attrs if attrs is not None else super().get_cls_attrs(cls)

    def _plan(self, cls):
        plan = self._plans.get(cls)
        if plan is None:
            plan = self._plans[cls] = _TypePlan.of(self, cls)
        return plan

    def complex_from_element(self, ctx, cls, elt):
        """A contract type's element, decoded with one lookup per child element.

        spyne's generic decoder counts occurrences for its own validation (off here: libxml2
        has validated the body against the contract) and builds the instance member by member
        through ``__init__``. Types that need more (XML attributes or text content, defaults)
        and an element that does not match the plan take spyne's way."""
        plan = self._plan(cls)
        if not plan or elt.attrib:
            return super().complex_from_element(ctx, cls, elt)
        values = dict(plan.empty)
        for child in elt:
            member = plan.by_tag.get(child.tag)
            if member is None:
                if isinstance(child.tag, str):  # not a comment: something the plan does not know
                    return super().complex_from_element(ctx, cls, elt)
                continue
            key, member_cls, many = member
            value = self.from_element(ctx, member_cls, child)
            if many:
                if values[key] is None:
                    values[key] = []
                values[key].append(value)
            else:
                values[key] = value
        inst = plan.instance_class.__new__(plan.instance_class)
        inst.__dict__.update(values)
        return inst

    def complex_to_parent(self, ctx, cls, inst, parent, ns, name=None, add_type=False, **kwargs):
        """A contract type's instance as an element, member by member in a plain loop.

        spyne's generic encoder runs every complex value through coroutines so that values can
        be streamed (``PushBase``); the gateway never streams, and the coroutines cost more than
        the elements. Anything the plan does not cover takes spyne's way."""
        plan = self._plan(cls)
        if not plan or add_type or not isinstance(parent, etree._Element):
            return super().complex_to_parent(ctx, cls, inst, parent, ns, name, add_type, **kwargs)
        inst = cls.get_serialization_instance(inst)
        values = [getattr(inst, key, None) for key, *_ in plan.fields]
        if any(isinstance(v, PushBase) for v in values):
            return super().complex_to_parent(ctx, cls, inst, parent, ns, name, add_type, **kwargs)
        elt = etree.SubElement(parent, f"{{{ns}}}{name or plan.type_name}")
        for (key, member_cls, member_ns, many, required), value in zip(plan.fields, values):
            if value is None:
                if required:
                    self.to_parent(ctx, member_cls, None, elt, member_ns, key)
            elif many:
                for item in value:
                    self.to_parent(ctx, member_cls, item, elt, member_ns, key)
            else:
                self.to_parent(ctx, member_cls, value, elt, member_ns, key)
        return None

    def to_parent(self, ctx, cls, inst, parent, ns, *args, **kwargs):
        """Documents already built and schema-checked (lxml elements) go in as they are."""
        if isinstance(inst, etree._Element):
            parent.append(inst)
            return None
        return super().to_parent(ctx, cls, inst, parent, ns, *args, **kwargs)

    def _typed_detail(self, detail, inst):
        """The typed fault's detail element (``{NS}AuthenticationFault`` and the like) under ``detail``."""
        typed = etree.SubElement(detail, f"{{{inst.get_namespace()}}}{inst.get_type_name()}")
        etree.SubElement(typed, f"{{{inst.get_namespace()}}}Message").text = inst.Message
        if inst.Field:
            etree.SubElement(typed, f"{{{inst.get_namespace()}}}Field").text = inst.Field


class _TypePlan:
    """How a complex type maps to XML, worked out once: its members by qualified tag (decoding)
    and in order (encoding). A false plan: spyne's own (de)serialiser is needed for the type."""

    def __init__(self, model, members=None):
        self.instance_class = model.__orig__ or model
        self.type_name = model.get_type_name()
        self.fields = members  # [(key, class, namespace, many, required)]
        if members is not None:
            self.by_tag = {f"{{{ns}}}{key}": (key, cls, many) for key, cls, ns, many, _ in members}
            self.empty = dict.fromkeys(key for key, *_ in members)

    def __bool__(self):
        return self.fields is not None

    @classmethod
    def of(cls, protocol, model):
        attrs = protocol.get_cls_attrs(model)
        if (attrs._xml_tag_body_as is not None or attrs.sub_name is not None or attrs.sub_ns is not None
                or getattr(model, "__extends__", None) is not None or hasattr(model, "_sa_class_manager")):
            return cls(model)
        members, ns = [], model.get_namespace()
        for key, member in model.get_flat_type_info(model).items():
            a = protocol.get_cls_attrs(member)
            if (issubclass(member, (XmlAttribute, XmlData)) or a.exc or a.read_only or a.default is not None
                    or a.default_factory is not None or a.sub_name is not None or a.sub_ns is not None
                    or isinstance(getattr(model, key, None), property)):
                return cls(model)
            members.append((key, member, ns, a.max_occurs > 1, a.min_occurs > 0))
        return cls(model, members)


class ContractSoap11(_ContractProtocol, Soap11):
    def fault_to_parent(self, ctx, cls, inst, parent, ns, *args, **kwargs):
        fault = etree.SubElement(parent, f"{{{self.ns_soap_env}}}Fault")
        etree.SubElement(fault, "faultcode").text = f"{self.soap_env}:{inst.faultcode}"
        etree.SubElement(fault, "faultstring").text = inst.faultstring or inst.faultcode
        if inst.faultactor:
            etree.SubElement(fault, "faultactor").text = inst.faultactor
        if isinstance(inst, ParkgateFault):
            self._typed_detail(etree.SubElement(fault, "detail"), inst)

    schema_validation_error_to_parent = fault_to_parent

    def tidy(self, document):
        """What spyne's serialize does to an answer last: unused namespace declarations dropped."""
        etree.cleanup_namespaces(document)


class ContractSoap12(_ContractProtocol, Soap12):
    def __init__(self, message_schema=None, **kwargs):
        # spyne drops namespace declarations no tag uses; a fault's Subcode names parkgate's
        # namespace in its text, so its prefix is kept (see serialize).
        super().__init__(message_schema, cleanup_namespaces=False, **kwargs)

    def fault_to_parent(self, ctx, cls, inst, parent, ns, *args, **kwargs):
        """``Client.Conflict`` becomes Code/Value ``env:Sender`` with Subcode/Value ``tns:Conflict``."""
        env = self.ns_soap_env
        fault = etree.SubElement(parent, f"{{{env}}}Fault")
        kind, _, rest = (inst.faultcode or "Server").partition(".")
        code = etree.SubElement(fault, f"{{{env}}}Code")
        etree.SubElement(code, f"{{{env}}}Value").text = f"{self.soap_env}:{_SOAP12_CODES.get(kind, 'Receiver')}"
        if rest:  # a QName in parkgate's namespace: under the prefix the envelope binds it to, else its own
            prefix = {uri: p for p, uri in fault.nsmap.items()}.get(NS)
            subcode = etree.SubElement(code, f"{{{env}}}Subcode")
            if prefix not in _SUBCODE_PREFIXES:
                prefix = _SUBCODE_PREFIXES[-1]
                value = etree.SubElement(subcode, f"{{{env}}}Value", nsmap={prefix: NS})
            else:
                value = etree.SubElement(subcode, f"{{{env}}}Value")
            value.text = f"{prefix}:{rest.replace('.', '-')}"
        reason = etree.SubElement(fault, f"{{{env}}}Reason")
        etree.SubElement(reason, f"{{{env}}}Text", {_XML_LANG: "en"}).text = inst.faultstring or inst.faultcode
        if inst.faultactor:
            etree.SubElement(fault, f"{{{env}}}Role").text = inst.faultactor
        if isinstance(inst, ParkgateFault):
            self._typed_detail(etree.SubElement(fault, f"{{{env}}}Detail"), inst)

    schema_validation_error_to_parent = fault_to_parent

    def serialize(self, ctx, message):
        """A SOAP 1.1 sender's VersionMismatch in the envelope it reads (SOAP 1.2, appendix A)."""
        if not isinstance(ctx.out_error, VersionMismatch):
            retval = super().serialize(ctx, message)
            if isinstance(ctx.out_error, MustUnderstand):
                self._not_understood(ctx.out_document, ctx.out_error.blocks)
            self.tidy(ctx.out_document)
            return retval
        envelope = etree.Element(f"{{{SOAP11_ENV}}}Envelope", nsmap={"soap11env": SOAP11_ENV})
        upgrade = etree.SubElement(etree.SubElement(envelope, f"{{{SOAP11_ENV}}}Header"), f"{{{SOAP12_ENV}}}Upgrade",
                                   nsmap={"soap12env": SOAP12_ENV})
        etree.SubElement(upgrade, f"{{{SOAP12_ENV}}}SupportedEnvelope", qname="soap12env:Envelope")
        fault = etree.SubElement(etree.SubElement(envelope, f"{{{SOAP11_ENV}}}Body"), f"{{{SOAP11_ENV}}}Fault")
        etree.SubElement(fault, "faultcode").text = "soap11env:VersionMismatch"
        etree.SubElement(fault, "faultstring").text = ctx.out_error.faultstring
        ctx.out_document = envelope
        ctx.transport.resp_headers["Content-Type"] = ContractSoap11.mime_type

    def tidy(self, document):
        """Unused namespace declarations dropped, but for the prefixes a Subcode's text may name."""
        etree.cleanup_namespaces(document, keep_ns_prefixes=_SUBCODE_PREFIXES)

    def _not_understood(self, envelope_elt, blocks):
        """A NotUnderstood header block per mandatory block not understood (SOAP 1.2 part 1, 5.4.8)."""
        env = self.ns_soap_env
        header = envelope_elt.find(f"{{{env}}}Header")
        if header is None:
            header = etree.Element(f"{{{env}}}Header")
            envelope_elt.insert(0, header)
        for n, block in enumerate(blocks):
            qname = etree.QName(block)
            prefix = f"nu{n}"
            etree.SubElement(header, f"{{{env}}}NotUnderstood", qname=f"{prefix}:{qname.localname}",
                             nsmap={prefix: qname.namespace} if qname.namespace else None)

    def fault_to_http_response_code(self, fault):
        """SOAP 1.2's HTTP binding: 400 for the sender's faults, 500 for the receiver's (SOAP 1.1
        answers every fault with 500)."""
        return HTTP_400 if (getattr(fault, "faultcode", None) or "").split(".")[0] == "Client" else HTTP_500


_SOAP12_CODES = {"Client": "Sender", "Server": "Receiver", "MustUnderstand": "MustUnderstand"}
_SUBCODE_PREFIXES = ["tns", "pg"]   # spyne's prefix for the contract's namespace, else parkgate's own
_XML_LANG = "{http://www.w3.org/XML/1998/namespace}lang"


_END_OF_DAY = re.compile(r"T24:00:00(?:\.0+)?(?=$|[Z+-])")


def _in_calendar(when):
    try:
        return times.in_calendar(when)
    except ParkgateError as e:
        raise fault_for(e) from None


_ELEMENT = re.compile(r"Element '(?:\{[^}]*\})?([^']+)'")
_EXPECTED = re.compile(r"Expected is (?:one of )?\( ?(?:\{[^}]*\})?([A-Za-z0-9_]+)")


def _field_at_fault(error):
    """The element a schema error is about (libxml2 names it in its message): the one missing
    when a child is missing, else the one whose content is wrong."""
    message = str(getattr(error, "message", "") or "")
    expected = _EXPECTED.search(message) if "Missing child element" in message else None
    found = expected or _ELEMENT.search(message)
    return found.group(1) if found else None



