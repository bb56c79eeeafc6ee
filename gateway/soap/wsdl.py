"""How the hand-written contract in ``xsd/`` gets into the served WSDLs.

spyne generates the WSDL's messages, port types and bindings from the services. For the
types, the definitions of ``xsd/parkgate.xsd`` replace spyne's own renderings of the same
names, so the WSDL serves the schema's types verbatim; requests are then validated against
the WSDL's schema, i.e. exactly the published contract.
"""

from lxml import etree

from ..contract.namespace import NS
from ..contract.schema import XS, contract_schema_tree, secure_parser

WSDL = "http://schemas.xmlsoap.org/wsdl/"


def _definitions(schema_elt):
    return {(child.tag, child.get("name")): child for child in schema_elt
            if child.get("name") is not None}


def merge_contract(wsdl_root):
    """Replace the WSDL's definitions of the contract's names with the contract's own.

    The contract's definitions come first, in the contract's order; spyne's remaining ones
    (operation wrappers, message types) follow sorted by kind and name, because spyne's own
    order depends on the interpreter's hash seed and the WSDL must be the same bytes every time.
    """
    contract = _definitions(contract_schema_tree().getroot())
    for schema in wsdl_root.iterfind(f"{{{WSDL}}}types/{{{XS}}}schema"):
        if schema.get("targetNamespace") != NS:
            continue
        imports = [c for c in schema if c.tag in (f"{{{XS}}}import", f"{{{XS}}}include")]
        generated = [c for key, c in _definitions(schema).items() if key not in contract]
        for child in list(schema):
            schema.remove(child)
        schema.extend(imports)
        schema.extend(_copy(d) for d in contract.values())
        schema.extend(sorted(generated, key=lambda c: (c.tag, c.get("name"))))
        return schema
    raise ValueError(f"the WSDL has no schema for {NS}")


def _copy(elt):
    clone = etree.fromstring(etree.tostring(elt))
    etree.strip_tags(clone, etree.Comment)
    for ann in clone.iter(f"{{{XS}}}annotation"):
        ann.getparent().remove(ann)
    return clone


def message_schema(wsdl_bytes):
    """The validator for request bodies: the WSDL's schema of the contract namespace."""
    root = etree.fromstring(wsdl_bytes, secure_parser())
    for schema in root.iterfind(f"{{{WSDL}}}types/{{{XS}}}schema"):
        if schema.get("targetNamespace") == NS:
            schema = etree.fromstring(etree.tostring(schema))
            for imp in schema.findall(f"{{{XS}}}import"):
                schema.remove(imp)
            return etree.XMLSchema(schema)
    raise ValueError(f"the WSDL has no schema for {NS}")
