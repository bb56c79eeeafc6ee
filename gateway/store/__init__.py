"""Durable state: SQLite or PostgreSQL through SQLAlchemy 2.

- ``schema``: the tables (declarative models); ``migrations/`` and ``migrate``: Alembic;
- ``engine``: the engine, units of work, SQLite's group commit;
- ``prepared``: statements compiled once and run on the DBAPI cursor (the lane-event path);
- one repository module per aggregate (``events``, ``facts``, ``sessions``, ``payments``,
  ``permits``, ``citations``, ``reviews``, ``users``, ``hotlist``, ``audit``, ``incidents``):
  functions on a unit of work's connection that hand out the domain's records, never rows;
- operations: ``retention`` (the purge steps), ``backup`` (copies and restores), ``presence`` (whether
  a gateway serves a database), ``leases`` (named leases of gateway nodes), ``windows`` (frame windows
  shared by nodes).
"""
