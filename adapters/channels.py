"""The ways out to a legacy system, behind one interface.

Each channel delivers a list of outbox rows (one, or a batch) and either returns or raises
:class:`DeliveryFailed` (try again later: the destination is down, slow, failing) or
:class:`DeliveryRefused` (the destination refuses this document and would refuse it again:
an HTTP 4xx other than 408 and 429, a SOAP Client/Sender fault, a document the profile cannot
map). Channels block (requests, zeep): the delivery workers call them in a thread pool, and
every request has connect and read timeouts.
"""

import logging
import time

import requests
import zeep
import zeep.exceptions
from lxml import etree
from zeep.helpers import serialize_object
from zeep.transports import Transport
from zeep.wsse.username import UsernameToken
from zope.interface import Interface, implementer

from . import payloads

log = logging.getLogger("parkgate.relay")


class DeliveryFailed(Exception):
    """The destination did not take the document(s); the worker retries later."""


class DeliveryRefused(DeliveryFailed):
    """The destination refuses the document(s) and would do so again: dead-lettered at once."""


#: HTTP refusals that say "not now" rather than "not this": Request Timeout, Too Many Requests.
_RETRYABLE_4XX = (408, 429)


def _refused(status):
    return 400 <= status < 500 and status not in _RETRYABLE_4XX


class IRelayChannel(Interface):
    def deliver(rows):
        """Send the rows' documents, blocking; raise DeliveryFailed unless the destination took them.
        Returns the ids of the rows it sent nothing for (the destination's profile leaves them out)."""


def _session(destination):
    session = requests.Session()
    if destination.basic_auth:
        session.auth = destination.basic_auth
    if destination.client_cert:
        session.cert = (destination.client_cert, destination.client_key) if destination.client_key \
            else destination.client_cert
    if destination.ca_bundle:
        # requests lets REQUESTS_CA_BUNDLE from the environment override a session's CA; the
        # destination's own CA must win, so the environment is not consulted for it.
        session.verify = destination.ca_bundle
        session.trust_env = False
    return session


def _batch_id(destination, rows):
    """Deterministic for the same rows, so a retried batch carries the same idempotency key."""
    return f"{destination.name}-{rows[0].id}-{rows[-1].id}" if len(rows) > 1 else rows[0].key


@implementer(IRelayChannel)
class HttpChannel:
    """XML or JSON over HTTP POST, or a JSON webhook signed with HMAC-SHA256."""

    def __init__(self, destination, contract):
        self.destination = destination
        self.contract = contract
        self.session = _session(destination)

    def deliver(self, rows):
        d = self.destination
        key = _batch_id(d, rows)
        batch_id = key if len(rows) > 1 or d.batched else None
        if d.kind == "xml":
            body = payloads.batch_xml(self.contract, rows, key) if batch_id else rows[0].document.encode()
            headers = {"Content-Type": "application/xml; charset=utf-8"}
        else:
            body = payloads.as_json(self.contract, rows, batch_id)
            headers = {"Content-Type": "application/json"}
        headers["Idempotency-Key"] = key
        if d.kind == "webhook":
            timestamp = str(int(time.time()))
            headers["X-Parkgate-Timestamp"] = timestamp
            headers["X-Parkgate-Signature"] = "sha256=" + payloads.signature(d.secret, timestamp, body)
        try:
            response = self.session.post(d.url, data=body, headers=headers, timeout=(d.timeout, d.timeout))
        except requests.RequestException as e:
            raise DeliveryFailed(f"{type(e).__name__}: {_short(e)}") from None
        if not 200 <= response.status_code < 300:
            error = DeliveryRefused if _refused(response.status_code) else DeliveryFailed
            raise error(f"HTTP {response.status_code}")
        return ()


@implementer(IRelayChannel)
class SoapChannel:
    """One operation of a legacy SOAP service, called through zeep.

    Our document becomes the operation's input either through an XSLT stylesheet (its result
    is the input element, parsed by zeep against the legacy WSDL) or a field map
    (parameter -> XPath over our document, prefix ``pg``). The stylesheet gets the parameter
    ``provisional`` (a boolean: a ParkingEvent decided REVIEW, its resolution to follow under
    the same EventID); a stylesheet that produces nothing leaves the document out.
    """

    def __init__(self, destination, contract):
        self.destination = destination
        self.contract = contract
        self._namespaces = {"pg": contract.namespace}
        self._client = None
        self._transform = etree.XSLT(etree.parse(str(destination.stylesheet))) if destination.stylesheet else None

    def client(self):
        """The zeep client, made on first use: the legacy system may be down when we start."""
        if self._client is None:
            d = self.destination
            transport = Transport(session=_session(d), timeout=d.timeout, operation_timeout=d.timeout)
            wsse = UsernameToken(d.wsse[0], d.wsse[1], use_digest=d.wsse[2]) if d.wsse else None
            try:
                client = zeep.Client(d.wsdl, transport=transport, wsse=wsse)
                client.service[d.operation]  # noqa: B018 - fails now if the operation is missing
            except (requests.RequestException, zeep.exceptions.Error, etree.XMLSyntaxError, OSError) as e:
                raise DeliveryFailed(f"cannot load the WSDL: {_short(e)}") from None
            except AttributeError:
                raise DeliveryFailed(f"the WSDL has no operation {d.operation}") from None
            self._client = client
        return self._client

    def arguments(self, client, row):
        """The operation's keyword arguments for the row's document; None: the profile leaves it out."""
        d = self.destination
        document = row.document
        if self._transform is not None:
            produced = self._transform(self.contract.parse(document),
                                       provisional="true()" if row.provisional else "false()").getroot()
            if produced is None:
                return None
            operation = client.service._binding._operations[d.operation]
            value = operation.input.body.parse(produced, client.wsdl.types)
            return dict(serialize_object(value) or {})
        doc = self.contract.parse(document)
        return {param: (doc.xpath(f"string({path})", namespaces=self._namespaces) or None)
                for param, path in d.field_map.items()}

    def deliver(self, rows):
        client = self.client()
        skipped = []
        for row in rows:
            try:
                kwargs = self.arguments(client, row)
            except (etree.XSLTError, zeep.exceptions.Error, ValueError, TypeError) as e:
                raise DeliveryRefused(f"mapping failed: {_short(e)}") from None
            if kwargs is None:
                skipped.append(row.id)
                continue
            try:
                with client.settings(extra_http_headers={"Idempotency-Key": row.key}):
                    client.service[self.destination.operation](**kwargs)
            except zeep.exceptions.Fault as e:
                error = DeliveryRefused if _client_fault(e) else DeliveryFailed
                raise error(f"SOAP Fault {e.code}: {_short(e.message)}") from None
            except zeep.exceptions.ValidationError as e:  # the mapped input does not fit the operation
                raise DeliveryRefused(f"mapping failed: {_short(e)}") from None
            except zeep.exceptions.TransportError as e:
                error = DeliveryRefused if _refused(e.status_code) else DeliveryFailed
                raise error(f"HTTP {e.status_code}") from None
            except (requests.RequestException, zeep.exceptions.Error, etree.XMLSyntaxError) as e:
                raise DeliveryFailed(f"{type(e).__name__}: {_short(e)}") from None
        return skipped


def _client_fault(fault):
    """SOAP 1.1 ``Client`` (``Client.Anything``, any prefix) or SOAP 1.2 ``Sender``: the caller's fault."""
    local = (fault.code or "").rpartition(":")[2]
    return local == "Sender" or local == "Client" or local.startswith("Client.")


def channel_for(destination, contract):
    return (SoapChannel if destination.kind == "soap" else HttpChannel)(destination, contract)


def _short(error):
    return str(error).splitlines()[0][:200] if str(error) else type(error).__name__

