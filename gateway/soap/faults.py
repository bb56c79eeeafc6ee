"""Typed SOAP faults: one per failure mode, each declared in the WSDL with its detail element.

The detail element carries the fault's code, a message and, where known, the input field
at fault, so an integrator's code can branch on the element rather than parse strings.
"""

import spyne.const
from spyne import Unicode
from spyne.model.fault import Fault

from ..contract.namespace import NS
from ..domain import errors

# Our Client.InvalidInput is meant to share spyne's code.
spyne.const.WARN_ON_DUPLICATE_FAULTCODE = False


class ParkgateFault(Fault):
    __namespace__ = NS
    CODE = None
    _type_info = [("Message", Unicode), ("Field", Unicode)]

    def __init__(self, message, field=None):
        super().__init__(faultcode=self.CODE, faultstring=message)
        self.Message = message
        self.Field = field


def _fault(name, code):
    return type(name, (ParkgateFault,), {"__type_name__": name, "CODE": code, "__namespace__": NS})


AuthenticationFault = _fault("AuthenticationFault", "Client.Authentication")
AuthorizationFault = _fault("AuthorizationFault", "Client.Authorization")
InvalidInputFault = _fault("InvalidInputFault", "Client.InvalidInput")
InvalidTimeFault = _fault("InvalidTimeFault", "Client.InvalidTime")
UnknownFacilityFault = _fault("UnknownFacilityFault", "Client.UnknownFacility")
UnknownLaneFault = _fault("UnknownLaneFault", "Client.UnknownLane")
NotFoundFault = _fault("NotFoundFault", "Client.NotFound")
ConflictFault = _fault("ConflictFault", "Client.Conflict")
BusyFault = _fault("BusyFault", "Server.Busy")

#: Every operation can answer these.
COMMON = [AuthenticationFault, AuthorizationFault, InvalidInputFault]

_BY_ERROR = {
    errors.AuthenticationFailed: AuthenticationFault,
    errors.NotPermitted: AuthorizationFault,
    errors.InvalidTime: InvalidTimeFault,
    errors.InvalidInput: InvalidInputFault,
    errors.UnknownFacility: UnknownFacilityFault,
    errors.UnknownLane: UnknownLaneFault,
    errors.NotFound: NotFoundFault,
    errors.Conflict: ConflictFault,
    errors.Busy: BusyFault,
}


def fault_for(error):
    """The typed fault for a domain error (the most specific class wins)."""
    for cls in type(error).__mro__:
        if cls in _BY_ERROR:
            return _BY_ERROR[cls](error.message, error.field)
    raise TypeError(f"no fault for {type(error).__name__}")
