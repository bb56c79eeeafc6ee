"""The demo set-up that ``make run`` shows a newcomer: one user per role and a permit to try.

Demo users only authenticate while the gateway listens on a loopback address.
"""

import os
import secrets
from datetime import timedelta
from pathlib import Path

from sqlalchemy import select

from .auth import ROLES, add_user
from .store import PermitRecord, User

DEMO_PLATE = "DEMO123"
DEMO_PERMIT = "PRMT-DEMO-0001"


def credentials_file(config):
    return Path(config.database_url.removeprefix("sqlite:///")).parent / "demo-users.txt" \
        if config.database_url.startswith("sqlite:///") else Path("var/demo-users.txt")


def seed(config, store, clock):
    """Create the demo users and permit once; return the lines to print (every start)."""
    path = credentials_file(config)
    with store.transaction() as db:
        has_demo = db.scalar(select(User.username).where(User.demo.is_(True)).limit(1)) is not None
    if not has_demo:
        lines = []
        for role in ROLES:
            username, password = f"demo-{role}", secrets.token_urlsafe(12)
            add_user(store, username, password, role, allow_digest=True, demo=True, clock=clock)
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
    with store.transaction() as db:
        if db.get(PermitRecord, DEMO_PERMIT) is None:
            db.add(PermitRecord(permit_number=DEMO_PERMIT, plate=DEMO_PLATE, facility_id=fac.id,
                                permit_type="Monthly", valid_from=today - timedelta(days=1),
                                valid_until=today + timedelta(days=365), state="ACTIVE", issued_at=clock()))
