"""Digital permits (issue 17): a permit's pass (its signed token and the QR code that carries it)
and the check of a scanned token, offline (signature and dates) or with the database (revoked)."""

import io
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timezone

import qrcode

from ..domain.errors import Conflict, NotFound
from ..domain.facility import Facility, find_facility
from ..domain.permit_tokens import VALID, PermitClaim, PermitTokens
from ..domain.permits import REVOKED, Permit
from ..store import audit, permits
from ..store.engine import Store
from .clock import Clock

#: Beside the token's own verdicts (gateway.domain.permit_tokens): what only the database knows.
REVOKED_NOW, UNKNOWN_PERMIT = "REVOKED", "UNKNOWN_PERMIT"


@dataclass(frozen=True)
class PermitPass:
    permit: Permit
    token: str
    qr_png: bytes


@dataclass(frozen=True)
class TokenCheck:
    claim: PermitClaim
    status: str                  # VALID, EXPIRED, NOT_YET_VALID, OTHER_FACILITY, REVOKED, UNKNOWN_PERMIT
    permit: Permit | None        # None when checked offline
    offline: bool

    @property
    def valid(self) -> bool:
        return self.status == VALID


def qr_png(token: str) -> bytes:
    out = io.BytesIO()
    qrcode.make(token, box_size=6, border=4).save(out)
    return out.getvalue()


class PermitPasses:
    def __init__(self, *, facilities: Mapping[str, Facility], store: Store | None, tokens: PermitTokens,
                 clock: Clock) -> None:
        """``store``: None checks offline only (a handheld with the public key)."""
        self.facilities = facilities
        self.store = store
        self.tokens = tokens
        self.clock = clock

    def pass_of(self, permit_number: str, username: str) -> PermitPass:
        """The pass of an active permit (a revoked one gets none); audited."""
        assert self.store is not None
        with self.store.connection() as conn:
            permit = permits.get(conn, permit_number)
            if permit is None:
                raise NotFound("no such permit", "PermitNumber")
            if permit.state == REVOKED:
                raise Conflict("the permit is revoked: it has no pass", "PermitNumber")
            audit.record(conn, self.clock(), username, "GetPermitPass", permit_number, permit.permit_type,
                         plate=permit.plate)
        token = self.tokens.sign(permit.permit_number, permit.facility_id, permit.valid_from, permit.valid_until)
        return PermitPass(permit, token, qr_png(token))

    def check(self, token: str, facility_id: str | None = None, at: datetime | None = None,
              offline: bool = False) -> TokenCheck:
        """Whether the token admits at ``at`` (default now) in ``facility_id`` (default: the permit's
        own); TamperedToken when its signature does not hold. With the database, a revoked or
        unknown permit is refused whatever its token says."""
        claim = self.tokens.read(token)
        where = facility_id or claim.facility_id
        zone = find_facility(self.facilities, where).timezone if where else timezone.utc
        status = claim.status_at(facility_id, zone, at or self.clock())
        if offline or self.store is None:
            return TokenCheck(claim, status, None, offline=True)
        with self.store.connection() as conn:
            permit = permits.get(conn, claim.permit_number)
        if permit is None:
            status = UNKNOWN_PERMIT
        elif permit.state == REVOKED:
            status = REVOKED_NOW
        return TokenCheck(claim, status, permit, offline=False)
