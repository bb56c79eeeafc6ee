"""The [[relay]] settings: checked by name at start, and documented, every one, with its default."""

import re
from datetime import timedelta

import pytest

from adapters.destinations import SETTINGS, parse as parse_destinations
from gateway import config as configuration


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
