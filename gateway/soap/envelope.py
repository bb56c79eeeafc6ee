"""Reading a request's envelope: bounded, decoded by the parser, and of SOAP's shape.

What a request may declare is bounded (namespace declarations, attributes, nesting, elements,
comments) before schema validation, whose cost grows with the namespaces in scope of every
element; namespace declarations and comments are counted in the bytes, before parsing. Comments are
dropped by the parser itself, so the tree that is validated is the tree that is processed
(``DEMO<!-- -->123`` is one text, DEMO123). Processing instructions and document type
declarations are not allowed in SOAP messages (SOAP 1.1 section 3, SOAP 1.2 part 1 section 5).
A UTF-16 or UTF-32 document is made UTF-8 first, so that none hides its DOCTYPE (or anything
else counted) from a look at its bytes. The parser never resolves entities.
"""

import codecs
import re
import threading
from dataclasses import dataclass
from functools import lru_cache

from lxml import etree

from ..contract.schema import SECURE_PARSER_OPTIONS
from .faults import InvalidInputFault

_DOCTYPE = re.compile(rb"<!DOCTYPE", re.IGNORECASE)
_DECLARATION = re.compile(rb"(?:\xef\xbb\xbf)?<\?xml\s")
_ENCODING = re.compile(r"^(<\?xml\s[^>]*?)\s+encoding\s*=\s*([\"'])[^\"']*\2")
#: First bytes of wide encodings: byte order marks, else "<" (UTF-32 before UTF-16: FF FE 00 00 starts both).
_WIDE = [(codecs.BOM_UTF32_LE, "utf-32"), (codecs.BOM_UTF32_BE, "utf-32"), (codecs.BOM_UTF16_LE, "utf-16"),
         (codecs.BOM_UTF16_BE, "utf-16"), (b"<\0\0\0", "utf-32-le"), (b"\0\0\0<", "utf-32-be"),
         (b"<\0", "utf-16-le"), (b"\0<", "utf-16-be")]
_MAX_DETAIL = 300


@dataclass(frozen=True)
class Bounds:
    """What one request may declare; far beyond what any operation of the contract needs."""
    namespaces: int = 64      # namespace declarations in the whole document
    attributes: int = 32      # attributes of one element
    all_attributes: int = 4096  # "=" in the whole document (attributes, and text that spells one)
    depth: int = 32           # nesting of elements
    elements: int = 10_000    # elements in the whole document
    comments: int = 64        # comments in the whole document (the parser drops them, at a cost)


def parse(data: bytes, bounds: Bounds = Bounds()) -> etree._Element:
    """The document's root, or InvalidInputFault saying which rule it broke.

    The bytes are counted first (C speed): what they cannot hold more of needs no look in the tree.
    What parses is then looked at with compiled XPath, each look only where the counts leave doubt."""
    data = _as_utf8(data)
    if _DOCTYPE.search(data):
        raise InvalidInputFault("DOCTYPE declarations are not allowed in SOAP messages")
    if data.count(b"xmlns") > bounds.namespaces:  # every declaration spells it: an upper bound
        raise _too_many("namespace declarations", bounds.namespaces)
    if data.count(b"<!--") > bounds.comments:
        raise _too_many("comments", bounds.comments)
    # Every element starts a tag that is no end tag: an upper bound of the elements (a tree is
    # not built to be refused: its memory, in thousands of small blocks, stays with the process).
    if data.count(b"<") - data.count(b"</") - data.count(b"<![CDATA[") > bounds.elements:
        raise _too_many("elements", bounds.elements)
    if data.count(b"=") > bounds.all_attributes:
        raise _too_many("attributes", bounds.all_attributes)
    try:
        root = etree.fromstring(data, _parser())
    except etree.XMLSyntaxError as e:
        raise InvalidInputFault(f"malformed XML: {short(e)}") from None
    looks = _looks(bounds)
    if looks.elements(root):
        raise _too_many("elements", bounds.elements)
    if looks.depth(root):
        raise InvalidInputFault(f"elements nested too deep (more than {bounds.depth})")
    if data.count(b"=") > bounds.attributes and looks.attributes(root):  # on one element
        raise _too_many("attributes on one element", bounds.attributes)
    declared = _DECLARATION.match(data) is not None
    if data.count(b"<?") > declared and (looks.instructions(root) or any(
            isinstance(sibling, etree._ProcessingInstruction) for sibling in root.itersiblings(preceding=True))):
        raise InvalidInputFault("processing instructions are not allowed in SOAP messages")
    return root


def _as_utf8(data: bytes) -> bytes:
    """UTF-16 and UTF-32 documents (told by their first bytes, XML 1.0 appendix F) as UTF-8, so that
    what the bytes are counted for is what the parser reads; other documents as they are (UTF-8 or
    an encoding that spells markup in ASCII). Their declaration's encoding goes with the old bytes."""
    for start, codec in _WIDE:
        if data.startswith(start):
            try:
                text = data.decode(codec)
            except UnicodeDecodeError:
                raise InvalidInputFault(f"malformed XML: not {codec.upper()} text") from None
            return _ENCODING.sub(r"\1", text.lstrip("\ufeff"), count=1).encode()
    return data


_PARSERS = threading.local()


def _parser() -> etree.XMLParser:
    """This thread's parser (an lxml parser is not to be shared between threads)."""
    parser = getattr(_PARSERS, "parser", None)
    if parser is None:
        parser = _PARSERS.parser = etree.XMLParser(remove_comments=True, **SECURE_PARSER_OPTIONS)
    return parser


@dataclass(frozen=True)
class _Looks:
    elements: etree.XPath
    depth: etree.XPath
    attributes: etree.XPath
    instructions: etree.XPath


@lru_cache(maxsize=None)
def _looks(bounds: Bounds) -> _Looks:
    return _Looks(elements=etree.XPath(f"count(//*) > {bounds.elements}"),
                  depth=etree.XPath("boolean(/*" + "/*" * bounds.depth + ")"),
                  attributes=etree.XPath(f"boolean(//*[count(@*) > {bounds.attributes}])"),
                  instructions=etree.XPath("boolean(//processing-instruction())"))


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
