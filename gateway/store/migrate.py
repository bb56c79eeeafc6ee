"""Schema migrations (Alembic): ``parkgate db upgrade`` and the upgrade at start-up."""

from pathlib import Path

from alembic import command
from alembic.config import Config as AlembicConfig

from .engine import ensure_sqlite_dir
from .keyring import KeyRing

MIGRATIONS = Path(__file__).resolve().parent / "migrations"


def alembic_config(url: str, keys: KeyRing | None = None) -> AlembicConfig:
    """``keys``: what the migrations seal existing plates with (default: the store's default ring)."""
    cfg = AlembicConfig()
    cfg.attributes["keys"] = keys
    cfg.set_main_option("script_location", str(MIGRATIONS))
    cfg.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return cfg


def upgrade(url: str, revision: str = "head", keys: KeyRing | None = None) -> None:
    ensure_sqlite_dir(url)
    command.upgrade(alembic_config(url, keys), revision)


def revision(url: str, message: str) -> None:
    """Autogenerate a migration from the difference between the models and the database."""
    command.revision(alembic_config(url), message=message, autogenerate=True)
