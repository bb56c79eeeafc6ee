"""The use cases, one module per concept: what the transports (SOAP, web) call.

Each reads the facts through the store's repositories, lets the domain decide, and writes in
one unit of work; typed results (dataclasses, the contract's documents) go back. All block:
the transports call them from request threads, never on the reactor.

- ``events``: a lane event arrives (its picture read, its frames joined, its barrier driven);
- ``recording``: a lane event decided and recorded once; ``frames``: vehicle windows;
- ``reviews``: the events a person decides; ``images``: pictures to plate text;
- ``sessions``: sessions, fees and payments; ``occupancy``; ``permits``; ``citations``;
- ``lanes``: barriers and lane status; ``relays``: what the relay queues hold;
- ``auth``: users and WS-Security UsernameTokens; ``hotlist``; ``audit``: the chained activity log;
  ``relaying``: the outbox documents are owed to; ``usecases``: all of them, as the composition root
  hands them over;
- operations: ``retention`` (purge steps), ``backups`` (and restore), ``health`` (readiness),
  ``metrics`` (Prometheus), ``cluster`` (several nodes: lane leases, commands for lanes driven elsewhere).
"""
