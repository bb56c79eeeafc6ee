"""What goes over the wire: batches, JSON, webhook signatures."""

import hashlib
import hmac
import json
from decimal import Decimal

from lxml import etree


def batch_xml(contract, rows, batch_id):
    ns = contract.namespace
    batch = etree.Element(f"{{{ns}}}DocumentBatch", BatchID=batch_id, nsmap={None: ns})
    for row in rows:
        batch.append(contract.parse(row.document))
    return etree.tostring(batch, xml_declaration=True, encoding="UTF-8")


def as_json(contract, rows, batch_id=None):
    """``{"kind", "key", "document"}`` (and ``"provisional": true`` for a REVIEW whose resolution
    follows), or a batch of them."""
    items = [{"kind": row.kind, "key": row.key, **({"provisional": True} if row.provisional else {}),
              "document": contract.as_dict(row.document, row.kind)} for row in rows]
    body = {"batch_id": batch_id, "documents": items} if batch_id else items[0]
    return json.dumps(body, default=_json_default, separators=(",", ":")).encode()


def _json_default(value):
    if isinstance(value, Decimal):
        return str(value)
    raise TypeError(type(value).__name__)


def signature(secret, timestamp, body):
    """HMAC-SHA256 over "<timestamp>.<body>", hex: what the receiver recomputes."""
    return hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()
