"""The relays as an operator meets them: [[relay]] settings checked by name at start and
documented, every one, with its default; `parkgate outbox status` saying how the queues stand."""

import re
import subprocess
import sys
from datetime import datetime, timedelta, timezone

import pytest

from adapters.destinations import SETTINGS
from adapters.destinations import parse as parse_destinations
from conftest import migrated_with_users
from gateway import config as configuration
from gateway.service import outbox as make_outbox
from gateway.store.engine import Store
from gateway.store.schema import OutboxMessage


def test_relay_settings_are_checked_by_name():
    with pytest.raises(ValueError, match=r"relay\[0\]\.max_attempts is no longer a setting: .*max_age_s"):
        parse_destinations([dict(name="a", kind="xml", url="http://x/", max_attempts=20)], ".")
    with pytest.raises(ValueError, match=r"relay\[0\]\.timeout is not a relay setting"):
        parse_destinations([dict(name="a", kind="xml", url="http://x/", timeout=20)], ".")
    [d] = parse_destinations([dict(name="a", kind="xml", url="http://x/")], ".")
    assert (d.max_age, d.backoff, d.backoff_max) == (timedelta(days=7), 1.0, 60.0)


def test_every_relay_setting_is_documented_with_its_default():
    """The README's table and parkgate.toml's commented [[relay]] list every key; the example
    parses, and the numbers it shows are the defaults."""
    readme = (configuration.REPO_ROOT / "README.md").read_text()
    assert [key for key in SETTINGS if f"| `{key}` |" not in readme] == []
    toml = configuration.DEFAULT_CONFIG.read_text()
    example = toml[toml.index("# [[relay]]"):]
    assert sorted(re.findall(r"^# (\w+) = ", example, re.M)) == sorted(SETTINGS)
    raw = configuration.tomllib.loads("\n".join(line[2:] for line in example.splitlines()
                                                if line.startswith("# ") and not line.startswith("#  ")))["relay"]
    [shown] = parse_destinations(raw, ".")
    [default] = parse_destinations([dict(name="d", kind="xml", url="http://x/")], ".")
    for attribute in ("documents", "facilities", "timeout", "max_age", "backoff", "backoff_max", "batch_window",
                      "batch_max", "lease"):
        assert getattr(shown, attribute) == getattr(default, attribute), attribute


def test_outbox_status_says_how_each_queue_stands(tmp_path, request):
    config = tmp_path / "parkgate.toml"
    config.write_text('[database]\nurl = "sqlite:///%s"\n'
                      '[[relay]]\nname = "feed"\nkind = "xml"\nurl = "http://127.0.0.1:9/"\n'
                      '[[relay]]\nname = "quiet"\nkind = "json"\nurl = "http://127.0.0.1:9/"\n' % (tmp_path / "db"))
    cfg = configuration.load(config)
    migrated_with_users(cfg.database_url, request)
    store = Store(cfg.database_url)
    now = datetime.now(timezone.utc)
    with store.transaction() as db:
        for n, (state, age, error) in enumerate([("PENDING", 3600, "HTTP 503"), ("PENDING", 60, None),
                                                 ("DELIVERED", 7200, None), ("SKIPPED", 7200, None),
                                                 ("DEAD", 7200, "refused: HTTP 400")]):
            db.add(OutboxMessage(destination="feed", kind="ParkingEvent", key=f"K{n}", facility_id="F",
                                 document="<x/>", created_at=now - timedelta(seconds=age), state=state,
                                 attempts=1, next_attempt_at=now, last_error=error))
    make_outbox(store, cfg, lambda: datetime.now(timezone.utc)).claim("feed", "node-7", 300)
    store.dispose()

    out = subprocess.run([sys.executable, "-m", "gateway", "--config", str(config), "outbox", "status"],
                         capture_output=True, text=True, check=True, timeout=60, cwd=configuration.REPO_ROOT).stdout
    header, feed, quiet = out.splitlines()
    assert header.split() == ["destination", "kind", "pending", "oldest", "delivered", "skipped", "dead", "node",
                              "last", "error"]
    name, kind, pending, oldest, delivered, skipped, dead, node, *error = feed.split()
    assert (name, kind, pending, delivered, skipped, dead, node) == ("feed", "xml", "2", "1", "1", "1", "node-7")
    assert 3600 <= int(oldest.rstrip("s")) < 3700
    assert " ".join(error) == "refused: HTTP 400"  # the latest error
    assert quiet.split() == ["quiet", "json", "0", "-", "0", "0", "0", "-"]
