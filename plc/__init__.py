"""Barrier control through Modbus TCP PLCs.

- ``registers``: which coil, input and register means what (the barrier's "framing" onto Modbus);
- ``driver``: the Modbus TCP client side, plain function codes only (1, 2, 3, 5, 6);
- ``lane``: one lane's gate logic (open pulse, passage, tailgating, heartbeat, fail-safe);
- ``simulator``: N barrier PLCs on one Modbus TCP server, for ``parkgate plc-sim`` and the tests;
- ``service``: the lane controllers of a gateway, built from its configuration.
"""
