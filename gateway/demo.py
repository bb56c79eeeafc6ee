"""The demo set-up that ``make run`` shows a newcomer: one user per role and a permit to try.

Demo users only authenticate while the gateway listens on a loopback address.
"""

import os
import secrets
from datetime import timedelta

from .app.auth import Users
from .domain.permits import ACTIVE, Permit
from .domain.users import ROLES
from .store import permits

DEMO_PLATE = "DEMO123"
DEMO_PERMIT = "PRMT-DEMO-0001"


def seed(config, store, clock):
    """Create the demo users and permit once, their passwords written to ``[auth] demo_users_file``
    (``var/demo-users.txt``); return the lines to print (every start)."""
    path = config.demo_users_file
    users = Users(store, clock, config.passwords)
    if not users.has_demo():
        lines = []
        for role in ROLES:
            username, password = f"demo-{role}", secrets.token_urlsafe(12)
            users.add(username, password, role, allow_digest=True, demo=True)
            lines.append(f"{username:<20} {password:<20} role {role}")
        path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as f:
            f.write("\n".join(lines) + "\n")
        _demo_permit(config, store, clock)
    return path.read_text().splitlines() if path.exists() else []


def _demo_permit(config, store, clock):
    if not config.facilities:
        return
    fac = next(iter(config.facilities.values()))
    today = clock().astimezone(fac.timezone).date()
    with store.connection() as conn:
        if permits.get(conn, DEMO_PERMIT) is None:
            permits.insert(conn, Permit(permit_number=DEMO_PERMIT, plate=DEMO_PLATE, facility_id=fac.id,
                                        permit_type="Monthly", valid_from=today - timedelta(days=1),
                                        valid_until=today + timedelta(days=365), state=ACTIVE, issued_at=clock()))
