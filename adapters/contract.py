"""What the relays need of the gateway's document contract, handed in by the composition root.

adapters/ never imports gateway/: the gateway builds a :class:`Contract` from its own contract
(namespace, hardened parser, schema) and passes it to the outbox's workers and channels.
"""

from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import xmlschema
from lxml import etree


@dataclass(frozen=True)
class Contract:
    """``parse``: bytes or text -> element, refusing DTDs, entities and network loads;
    ``validator``: the documents' schema (libxml2, ~30 us a document); ``xsd``: the same schema
    as a file, for turning documents into plain data (JSON)."""

    namespace: str
    parse: Callable[[str | bytes], etree._Element]
    validator: etree.XMLSchema
    xsd: Path

    def schema_error(self, document):
        """None if the document is valid, else the first error (short, no content)."""
        try:
            elt = self.parse(document)
        except etree.XMLSyntaxError as e:
            return f"not XML: {e}"[:300]
        if self.validator.validate(elt):
            return None
        return str(self.validator.error_log.last_error.message)[:300]

    def as_dict(self, document):
        """A document as plain data: element names kept, '@attribute' and '$' for amounts with currency."""
        return _xmlschema(str(self.xsd)).to_dict(self.parse(document), decimal_type=str, strip_namespaces=True,
                                                 validation="skip")


@lru_cache(maxsize=None)
def _xmlschema(path):
    return xmlschema.XMLSchema(path)
