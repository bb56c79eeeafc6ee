"""Reading a request's envelope: bounded, decoded by the parser, and of SOAP's shape.

What a request may declare is bounded while it is parsed (namespace declarations, attributes,
nesting, elements, comments), so a hostile body is refused after the bytes that cross a bound, before
schema validation, whose cost grows with the namespaces in scope of every element. Comments are
dropped by the parser itself, so the tree that is validated is the tree that is processed
(``DEMO<!-- -->123`` is one text, DEMO123). Processing instructions and document type
declarations are not allowed in SOAP messages (SOAP 1.1 section 3, SOAP 1.2 part 1 section 5);
the DOCTYPE is looked for in the raw bytes (cheap, before parsing) and again in what the parser
decoded (a UTF-16 document hides it from the first look). The parser never resolves entities.
"""

import re
from dataclasses import dataclass

from lxml import etree

from ..contract.schema import SECURE_PARSER_OPTIONS
from .faults import InvalidInputFault

_DOCTYPE = re.compile(rb"<!DOCTYPE", re.IGNORECASE)
_FEED = 16 * 1024   # bytes parsed between two looks at the bounds
_MAX_DETAIL = 300


@dataclass(frozen=True)
class Bounds:
    """What one request may declare; far beyond what any operation of the contract needs."""
    namespaces: int = 64      # namespace declarations in the whole document
    attributes: int = 32      # attributes of one element
    depth: int = 32           # nesting of elements
    elements: int = 10_000    # elements in the whole document
    comments: int = 64        # comments in the whole document (the parser drops them, at a cost)


def parse(data: bytes, bounds: Bounds = Bounds()) -> etree._Element:
    """The document's root, or InvalidInputFault saying which rule it broke."""
    if _DOCTYPE.search(data):
        raise InvalidInputFault("DOCTYPE declarations are not allowed in SOAP messages")
    # Quick upper bounds, before any parsing: what the bytes cannot hold more of.
    if data.count(b"xmlns") > bounds.namespaces:  # (the parser's count below decides when it is less)
        raise _too_many("namespace declarations", bounds.namespaces)
    if data.count(b"<!--") > bounds.comments:
        raise _too_many("comments", bounds.comments)
    parser = etree.XMLPullParser(events=("start", "end", "start-ns", "pi"), remove_comments=True,
                                 **SECURE_PARSER_OPTIONS)
    namespaces = elements = depth = 0
    try:
        for at in range(0, max(len(data), 1), _FEED):
            parser.feed(data[at:at + _FEED])
            for event, item in parser.read_events():
                if event == "start":
                    elements += 1
                    depth += 1
                    if depth > bounds.depth:
                        raise InvalidInputFault(f"elements nested too deep (more than {bounds.depth})")
                    if elements > bounds.elements:
                        raise _too_many("elements", bounds.elements)
                    if len(item.attrib) > bounds.attributes:
                        raise _too_many("attributes on one element", bounds.attributes)
                elif event == "end":
                    depth -= 1
                elif event == "start-ns":
                    namespaces += 1
                    if namespaces > bounds.namespaces:
                        raise _too_many("namespace declarations", bounds.namespaces)
                else:
                    raise InvalidInputFault("processing instructions are not allowed in SOAP messages")
        root = parser.close()
    except etree.XMLSyntaxError as e:
        raise InvalidInputFault(f"malformed XML: {short(e)}") from None
    if root.getroottree().docinfo.doctype:
        raise InvalidInputFault("DOCTYPE declarations are not allowed in SOAP messages")
    return root


def check_shape(envelope: etree._Element, env: str) -> None:
    """An Envelope (already known to be of namespace ``env``) holds an optional Header, then one
    Body, and nothing else; the Body holds exactly one element, the operation. spyne takes the
    first Header and Body it finds and the Body's first child, whatever else there is."""
    children = list(envelope)
    tags = [c.tag for c in children]
    header, body = f"{{{env}}}Header", f"{{{env}}}Body"
    if tags not in ([body], [header, body]):
        if tags.count(body) == 0:
            raise InvalidInputFault("the Envelope has no Body")
        raise InvalidInputFault("an Envelope holds an optional Header, then one Body, and nothing else")
    for elt in (envelope, *children):
        _no_text(elt)
    operation = list(children[-1])
    if len(operation) != 1:
        raise InvalidInputFault("the Body holds exactly one element, the operation"
                                if operation else "the Body is empty")


def _no_text(elt: etree._Element) -> None:
    if (elt.text or "").strip() or any((c.tail or "").strip() for c in elt):
        raise InvalidInputFault(f"text directly inside {etree.QName(elt).localname}")


def _too_many(what: str, bound: int) -> InvalidInputFault:
    return InvalidInputFault(f"too many {what} in the request (at most {bound})")


def short(error: object) -> str:
    """An error message without the request's text: first line, bounded."""
    lines = str(getattr(error, "message", None) or error).splitlines()
    return (lines[0] if lines else "error")[:_MAX_DETAIL]
