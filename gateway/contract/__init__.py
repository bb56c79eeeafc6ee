"""The published contract: its namespace, the schema in ``xsd/`` and the documents written to it.

- ``namespace``: ``urn:parkgate:v1``;
- ``schema``: ``xsd/parkgate.xsd`` loaded once, a parser that resolves nothing;
- ``documents``: ParkingEvent, Citation and Permit built (lxml) and checked against the schema.
"""
