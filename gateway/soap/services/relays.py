"""RelayService: what the relay queues hold."""

from spyne import ServiceBase

from ...contract import documents
from .. import types as t
from .common import operation, use_cases


class RelayService(ServiceBase):
    @operation(roles=("admin", "operator", "integrator"), returns=t.many(t.RelayStatus), names="RelayStatus")
    def GetRelayStatus(ctx):
        """Per destination: what waits, since when, what was delivered, what is dead, the last error."""
        return [t.RelayStatus(Destination=s.destination, Kind=s.kind, Pending=s.pending,
                              OldestPendingAge=documents.leaf("OldestPendingAge", s.oldest_pending_age),
                              Delivered=s.delivered, Dead=s.dead, LastError=s.last_error,
                              LastDeliveredAt=s.last_delivered_at)
                for s in use_cases(ctx).relay_status()]
