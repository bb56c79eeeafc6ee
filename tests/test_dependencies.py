"""The declared dependencies admit what is installed and tested, and bound the libraries whose
internals the gateway relies on (a release that changes them must be a deliberate upgrade)."""

import configparser
from importlib import metadata
from pathlib import Path

from packaging.requirements import Requirement
from packaging.version import Version

SETUP_CFG = Path(__file__).resolve().parents[1] / "setup.cfg"

#: Libraries whose private or version-specific API is used, and where.
INTERNALS = {
    "spyne": "gateway/soap/protocol.py subclasses Soap11/Soap12 and reads their attribute cache",
    "sqlalchemy": "gateway/store/prepared.py runs compiled statements on the DBAPI cursor",
    "urllib3": "recognition/fetch.py connects to the address it checked (_dns_host)",
    "pymodbus": "plc/ uses the 3.x device API (device_id=, ModbusDeviceContext), gone in 4.0",
}


def declared():
    cfg = configparser.ConfigParser()
    cfg.read(SETUP_CFG)
    lines = [line.strip() for line in cfg["options"]["install_requires"].splitlines() if line.strip()]
    return {Requirement(line).name.lower(): Requirement(line) for line in lines}


def test_every_declared_range_admits_the_installed_version():
    for name, requirement in declared().items():
        assert requirement.specifier.contains(metadata.version(name), prereleases=True), requirement


def test_libraries_whose_internals_are_used_have_a_ceiling():
    requirements = declared()
    for name, why in INTERNALS.items():
        assert any(spec.operator in ("<", "<=", "~=") for spec in requirements[name].specifier), f"{name}: {why}"


def test_floors_match_the_apis_used():
    requirements = declared()
    assert not requirements["pymodbus"].specifier.contains(Version("3.11.0"))  # device_id= came with 3.12
    assert requirements["pymodbus"].specifier.contains(Version("3.12.0"))
    assert "requests" in requirements and "urllib3" in requirements  # imported directly, not only through zeep
