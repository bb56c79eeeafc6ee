"""The parking rules, pure: no I/O, no database, no SOAP. Facts in, verdicts out.

- ``errors``: what can go wrong in parking terms (the transports map each to a fault);
- ``facility``: facilities, lanes, tariffs and citation rules as configured (value types);
- ``plates``: plate text normalised one way; ``times``: which reported instants are admitted;
- ``tariffs``: what a stay costs; ``sessions``, ``permits``, ``citations``, ``reviews``, ``users``,
  ``hotlist``: the records the rules are about, as the store hands them over;
- ``decisions``: the lane decision, a function of the facts about a plate;
- ``vehicles``: which frames at a lane show one vehicle;
- ``events``: a lane event as submitted, and its fingerprint (the idempotency key's request).
"""
