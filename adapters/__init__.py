"""Relays to legacy parking systems: every recorded document reaches every destination, in order.

- ``destinations``: what ``[[relay]]`` in parkgate.toml says (where, what, how, credentials);
- ``contract``: what the relays need of the document contract (handed in: adapters never imports gateway);
- ``outbox``: the transactional outbox (written with the event, read by the workers);
- ``payloads``: documents as XML, batches, JSON, signatures;
- ``channels``: the ways out (SOAP through zeep, XML/JSON POST, signed webhooks), one interface;
- ``delivery``: a worker per destination: ordered, retried with back-off, dead-lettered.
"""
