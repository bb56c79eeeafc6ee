"""What can go wrong in parking terms. The transports map each to a typed fault."""


class ParkgateError(Exception):
    """Base of the errors a caller can act on; ``field`` names the input at fault."""

    def __init__(self, message: str, field: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.field = field


class InvalidInput(ParkgateError):
    pass


class InvalidTime(InvalidInput):
    """A time that cannot be: naive, far in the future, an exit before its entry."""


class UnknownFacility(ParkgateError):
    pass


class UnknownLane(ParkgateError):
    pass


class NotFound(ParkgateError):
    """A session, permit, citation or plate record that does not exist."""


class Conflict(ParkgateError):
    """The request contradicts recorded state (a permit number taken, a session closed, an EventID
    already used for another request)."""


class AuthenticationFailed(ParkgateError):
    def __init__(self) -> None:
        super().__init__("authentication failed")


class NotPermitted(ParkgateError):
    def __init__(self, message: str = "this user's role does not admit the operation") -> None:
        super().__init__(message)


class Busy(ParkgateError):
    """A bounded queue is full: try again shortly."""


class DeviceUnavailable(ParkgateError):
    """A device the request needs (a receipt printer) did not answer in time."""
