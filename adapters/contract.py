"""What the relays need of the gateway's document contract, handed in by the composition root.

adapters/ never imports gateway/: the gateway builds a :class:`Contract` from its own contract
(namespace, hardened parser, schema) and passes it to the outbox's workers and channels. Documents
of another standard (DATEX II publications) are checked against that standard's schema instead:
one :class:`Schema` per document kind, loaded once at start.
"""

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

import xmlschema
from lxml import etree


@dataclass(frozen=True)
class Schema:
    """``validator``: libxml2's (~30 us a document); ``xsd``: the same schema as a file, for turning
    documents into plain data (JSON)."""
    validator: etree.XMLSchema
    xsd: Path


@dataclass(frozen=True)
class Contract:
    """``parse``: bytes or text -> element, refusing DTDs, entities and network loads;
    ``validator``/``xsd``: the gateway's own documents' schema; ``standards``: document kind ->
    the schema of a kind that is not the gateway's own (e.g. ``ParkingStatusPublication``)."""

    namespace: str
    parse: Callable[[str | bytes], etree._Element]
    validator: etree.XMLSchema
    xsd: Path
    standards: Mapping[str, Schema] = field(default_factory=dict)

    def schema_of(self, kind: str | None) -> Schema:
        return self.standards.get(kind or "") or Schema(self.validator, self.xsd)

    def schema_error(self, document, kind=None):
        """None if the document is valid (against its kind's schema), else the first error (short,
        no content)."""
        try:
            elt = self.parse(document)
        except etree.XMLSyntaxError as e:
            return f"not XML: {e}"[:300]
        validator = self.schema_of(kind).validator
        if validator.validate(elt):
            return None
        return str(validator.error_log.last_error.message)[:300]

    def as_dict(self, document, kind=None):
        """A document as plain data: element names kept, '@attribute' and '$' for amounts with currency."""
        return _xmlschema(str(self.schema_of(kind).xsd)).to_dict(self.parse(document), decimal_type=str,
                                                                 strip_namespaces=True, validation="skip")


@lru_cache(maxsize=None)
def _xmlschema(path):
    return xmlschema.XMLSchema(path)
