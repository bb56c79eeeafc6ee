"""Barrier control through Modbus TCP PLCs.

- ``registers``: which coil, input and register means what, and the bits read there decoded
  (the barrier's "framing" onto Modbus);
- ``driver``: the Modbus TCP client side, plain function codes only (1, 2, 5, 6), bits in and out;
- ``settings``: a lane controller's timings (``[plc]``);
- ``lane``: one lane's gate logic (open pulse, authorisations and their lapse, passage, tailgating,
  heartbeat, online only once the PLC answers, fail-safe);
- ``simulator``: N barrier PLCs on one Modbus TCP server, for ``parkgate plc-sim`` and the tests;
- ``service``: the lane controllers of a gateway, built from its configuration.
"""
