"""The hand-written schema in ``xsd/``, loaded once, and the only way parkgate parses XML."""

from functools import lru_cache
from pathlib import Path
from typing import Any

from lxml import etree

XSD_DIR = Path(__file__).resolve().parents[2] / "xsd"
CONTRACT_XSD = XSD_DIR / "parkgate.xsd"
XS = "http://www.w3.org/2001/XMLSchema"

SECURE_PARSER_OPTIONS = dict(resolve_entities=False, no_network=True, load_dtd=False, huge_tree=False)


def secure_parser(**kw: Any) -> etree.XMLParser:
    """An lxml parser that loads no DTD, resolves no entity and reaches no network."""
    return etree.XMLParser(**{**SECURE_PARSER_OPTIONS, **kw})


@lru_cache(maxsize=None)
def contract_schema_tree() -> etree._ElementTree:
    return etree.parse(str(CONTRACT_XSD), secure_parser(remove_comments=True))


@lru_cache(maxsize=None)
def document_schema() -> etree.XMLSchema:
    """lxml (libxml2) validator for the documents: cheap enough for every emitted document."""
    return etree.XMLSchema(contract_schema_tree())
