"""Digital permits (issue 17): a compact token, signed with the gateway's Ed25519 key, that a QR
code carries and anyone with the public key checks offline.

``P1.<payload>.<signature>``, both base64url: the payload is the permit number, its facility (empty:
every facility) and its first and last day. No plate: a QR code is easily photographed, and the
permit number leads to the plate only where the database is. Whether the permit was revoked since
is for the database (or a revocation list) to say; the token alone proves what was issued.
"""

import base64
from dataclasses import dataclass
from datetime import date, datetime, tzinfo

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from .errors import InvalidInput

PREFIX = "P1"
#: What a token says about a permit at an instant (beside the database's REVOKED).
VALID, EXPIRED, NOT_YET_VALID, OTHER_FACILITY = "VALID", "EXPIRED", "NOT_YET_VALID", "OTHER_FACILITY"


class TamperedToken(InvalidInput):
    """Not a token this gateway signed: malformed, altered, or signed with another key."""


@dataclass(frozen=True)
class PermitClaim:
    permit_number: str
    facility_id: str | None
    valid_from: date
    valid_until: date

    def status_at(self, facility_id: str | None, timezone: tzinfo, when: datetime) -> str:
        """VALID at ``when`` in that facility (on its calendar, as permits are judged), or why not."""
        if self.facility_id is not None and facility_id is not None and facility_id != self.facility_id:
            return OTHER_FACILITY
        day = when.astimezone(timezone).date()
        if day < self.valid_from:
            return NOT_YET_VALID
        return EXPIRED if day > self.valid_until else VALID


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


class PermitTokens:
    """Signs with the private key (the gateway) or only checks with the public key (a handheld)."""

    def __init__(self, *, public_key: Ed25519PublicKey, private_key: Ed25519PrivateKey | None = None) -> None:
        self.public_key = public_key
        self.private_key = private_key

    @classmethod
    def signing(cls, private_key: Ed25519PrivateKey) -> "PermitTokens":
        return cls(public_key=private_key.public_key(), private_key=private_key)

    def sign(self, permit_number: str, facility_id: str | None, valid_from: date, valid_until: date) -> str:
        if self.private_key is None:
            raise ValueError("checking only: no private key to sign with")
        payload = _b64(f"{permit_number}|{facility_id or ''}|{valid_from:%Y%m%d}|{valid_until:%Y%m%d}".encode())
        signed = f"{PREFIX}.{payload}"
        return f"{signed}.{_b64(self.private_key.sign(signed.encode()))}"

    def read(self, token: str) -> PermitClaim:
        """What the token says, once its signature holds; else TamperedToken."""
        parts = (token or "").strip().split(".")
        if len(parts) != 3 or parts[0] != PREFIX:
            raise TamperedToken("not a permit token", "PermitToken")
        try:
            self.public_key.verify(_unb64(parts[2]), f"{parts[0]}.{parts[1]}".encode())
            number, facility, first, last = _unb64(parts[1]).decode().split("|")
            return PermitClaim(number, facility or None, datetime.strptime(first, "%Y%m%d").date(),
                               datetime.strptime(last, "%Y%m%d").date())
        except (InvalidSignature, ValueError) as e:
            raise TamperedToken("the permit token does not check: altered, or not signed here",
                                "PermitToken") from e
