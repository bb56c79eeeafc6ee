"""ZoneService (issue 16): a facility's zones with their spaces now, a zone set (admin), and a space
assigned to a session."""

from spyne import Boolean, ServiceBase

from .. import faults as f
from .. import types as t
from .common import ALL_ROLES, caller, operation, use_cases


def zone_of(z, spaces=()):
    """A domain Zone (and its spaces now) as the contract's."""
    return t.Zone(FacilityID=z.facility_id, ZoneID=z.id, Name=z.name, Kind=z.kind, PermitOnly=z.permit_only,
                  Capacity=[t.ZoneCapacity(VehicleType=k, Spaces=n) for k, n in z.capacity.items()] or None,
                  Version=z.version, SetBy=z.set_by, SetAt=z.set_at, Reason=z.reason,
                  Spaces=[t.ZoneSpaces(VehicleType=s.vehicle_type, Capacity=s.capacity, Occupied=s.occupied,
                                       Available=s.available, Status=s.status) for s in spaces] or None)


class ZoneService(ServiceBase):
    @operation(t.req(t.Identifier), roles=ALL_ROLES, returns=t.many(t.Zone), names="Zone",
               throws=(f.UnknownFacilityFault,))
    def ListZones(ctx, FacilityID):
        """Every zone as it is now, with its spaces per vehicle type taken and free."""
        return [zone_of(v.zone, v.spaces) for v in use_cases(ctx).zones.listing(FacilityID)]

    @operation(t.req(t.Identifier), t.req(t.Identifier), t.opt(t.LongText), t.opt(t.ZoneKind),
               t.many(t.ZoneCapacity), t.opt(Boolean), t.opt(t.LongText), roles=("admin",), returns=t.req(t.Zone),
               names="Zone", throws=(f.UnknownFacilityFault,))
    def SetZone(ctx, FacilityID, ZoneID, Name, Kind, Capacity, PermitOnly, Reason):
        """The zone's next version (a new zone when there is none of that id): what is given on top
        of the version in force; the capacities given replace those of their types."""
        capacity = {str(c.VehicleType): c.Spaces for c in Capacity or ()}
        return zone_of(use_cases(ctx).zones.set(FacilityID, ZoneID, caller(ctx), name=Name,
                                                kind=str(Kind) if Kind else None, capacity=capacity,
                                                permit_only=PermitOnly, reason=Reason))

    @operation(t.req(t.Identifier), t.req(t.Identifier), t.opt(t.ShortText), roles=("admin", "operator", "integrator"),
               returns=t.req(t.SpaceAssigned), names="SpaceAssigned", throws=(f.NotFoundFault, f.ConflictFault))
    def AssignSpace(ctx, SessionID, ZoneID, SpaceID):
        """Give an open session a zone (and a space in it); the SpaceAssigned document is relayed."""
        a = use_cases(ctx).zones.assign(SessionID, ZoneID, SpaceID, caller(ctx))
        return t.SpaceAssigned(AssignmentID=a.id, SessionID=a.session.id, FacilityID=a.session.facility_id,
                               ZoneID=a.zone_id, SpaceID=a.space_id, VehicleType=a.session.vehicle_type,
                               AssignedAt=a.at, AssignedBy=a.by)
