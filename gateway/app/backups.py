"""Backups: a consistent copy of the database while serving, the images beside it, a manifest with
every file's SHA-256, and the manifest's own checksum; kept ``[backup] keep`` deep; on a schedule
(``[backup] interval_h``, one node per interval on PostgreSQL) or now (SOAP ``RunBackup``,
``parkgate backup``). Restoring (``parkgate restore``) verifies the copy, refuses a database a
gateway serves, and migrates the copy up to the current schema.

A backup is written under ``<name>.partial`` and renamed when complete: a backup that died half
way is never listed, and is removed by the next one.
"""

import hashlib
import json
import logging
import os
import secrets
import shutil
import threading
import time
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from ..domain.errors import Conflict, NotFound
from ..store import audit, backup, leases, presence
from ..store.engine import Store
from .clock import Clock

log = logging.getLogger("parkgate")

MANIFEST, CHECKSUM = "manifest.json", "manifest.sha256"
PARTIAL = ".partial"


@dataclass(frozen=True)
class Backup:
    name: str
    path: Path
    created_at: datetime
    database: str
    revision: str
    size: int
    images: int
    checksum: str
    verified: bool
    node: str | None = None
    problem: str | None = None


class RestoreRefused(Exception):
    pass


def _sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def read(path: Path) -> Backup:
    """A backup as its manifest says, checked file by file against it."""
    problem = None
    manifest_bytes = (path / MANIFEST).read_bytes()
    manifest = json.loads(manifest_bytes)
    checksum = hashlib.sha256(manifest_bytes).hexdigest()
    try:
        if (path / CHECKSUM).read_text().split()[0] != checksum:
            problem = "the manifest does not match its checksum"
    except (OSError, IndexError):
        problem = "the manifest's checksum is missing"
    for name, meta in manifest["files"].items():
        if problem:
            break
        file = path / name
        if not file.is_file():
            problem = f"{name} is missing"
        elif file.stat().st_size != meta["size"] or _sha256(file) != meta["sha256"]:
            problem = f"{name} does not match its checksum"
    return Backup(name=path.name, path=path, created_at=datetime.fromisoformat(manifest["created_at"]),
                  database=manifest["database"], revision=manifest["revision"],
                  size=sum(m["size"] for m in manifest["files"].values()),
                  images=sum(1 for n in manifest["files"] if n.startswith("images/")), checksum=checksum,
                  verified=problem is None, node=manifest.get("node"), problem=problem)


class Backups:
    def __init__(self, store: Store, database_url: str, settings: Any, images_dir: Path | None, clock: Clock,
                 metrics: Any = None, node: str = "") -> None:
        self.store = store
        self.url = database_url
        self.settings = settings
        self.images_dir = images_dir
        self.clock = clock
        self.metrics = metrics
        self.node = node
        self._running = threading.Lock()

    @property
    def directory(self) -> Path:
        return Path(self.settings.directory)

    def run(self, username: str) -> Backup:
        """A backup now (blocking: seconds to minutes); Conflict while another one runs here."""
        if not self._running.acquire(blocking=False):
            raise Conflict("a backup is under way", "Backup")
        try:
            made = self._make()
        except Exception as e:
            if self.metrics is not None:
                self.metrics.backed_up(None, time.time())
            with self.store.connection() as conn:
                audit.record(conn, self.clock(), username, "Backup", "backup", f"failed: {type(e).__name__}",
                             kind="SYSTEM")
            raise
        finally:
            self._running.release()
        if self.metrics is not None:
            self.metrics.backed_up(made.size, time.time())
        with self.store.connection() as conn:
            audit.record(conn, self.clock(), username, "Backup", made.name,
                         f"{made.database} at {made.revision}, {made.size} bytes, {made.images} image(s)",
                         kind="SYSTEM")
        self.prune()
        return made

    def scheduled(self) -> Backup | None:
        """The scheduled backup, by one node per interval (the ``job:backup`` lease)."""
        hours = self.settings.interval_h
        if self.store.dialect != "sqlite" and not leases.claim(self.store, "job:backup", self.node, self.clock(),
                                                                max(hours * 3600 * 0.9, 60)):
            return None
        try:
            return self.run("backup")
        except Conflict:
            return None

    def _make(self) -> Backup:
        now = self.clock()
        name = f"parkgate-{now:%Y%m%dT%H%M%SZ}-{secrets.token_hex(2)}"
        self.directory.mkdir(parents=True, exist_ok=True)
        for stale in self.directory.glob(f"*{PARTIAL}"):
            shutil.rmtree(stale, ignore_errors=True)
        work = self.directory / (name + PARTIAL)
        work.mkdir()
        try:
            copy = backup.copy_database(self.url, work)
            files = {copy.name: copy}
            if self.images_dir is not None and self.images_dir.is_dir():
                for root, _dirs, names in os.walk(self.images_dir):
                    for n in names:
                        source = Path(root) / n
                        relative = Path("images") / source.relative_to(self.images_dir)
                        (work / relative).parent.mkdir(parents=True, exist_ok=True)
                        shutil.copy2(source, work / relative)
                        files[relative.as_posix()] = work / relative
            revision = backup.sqlite_revision(copy) if copy.name == backup.SQLITE_FILE else backup.revision(self.url)
            manifest = {"format": 1, "created_at": now.isoformat(), "database": self.store.dialect,
                        "revision": revision, "node": self.node or None,
                        "files": {n: {"sha256": _sha256(p), "size": p.stat().st_size}
                                  for n, p in sorted(files.items())}}
            data = json.dumps(manifest, indent=2, sort_keys=True).encode()
            (work / MANIFEST).write_bytes(data)
            (work / CHECKSUM).write_text(f"{hashlib.sha256(data).hexdigest()}  {MANIFEST}\n")
            for f in [*files.values(), work / MANIFEST, work / CHECKSUM]:
                with open(f, "rb") as fh:
                    os.fsync(fh.fileno())
            final = self.directory / name
            os.rename(work, final)
        except BaseException:
            shutil.rmtree(work, ignore_errors=True)
            raise
        log.info("backup %s written (%s)", name, self.store.dialect)
        return read(final)

    def listing(self) -> list[Backup]:
        """The backups kept, newest first, each verified."""
        if not self.directory.is_dir():
            return []
        found = []
        for p in self.directory.iterdir():
            if not p.is_dir() or p.name.endswith(PARTIAL):
                continue
            try:
                found.append((read(p), (p / MANIFEST).stat().st_mtime_ns))
            except FileNotFoundError:  # not a backup, or pruned by the job while we looked
                continue
        return [b for b, _ in sorted(found, key=lambda f: (f[0].created_at, f[1]), reverse=True)]

    def prune(self) -> list[str]:
        """Remove the oldest backups beyond ``keep``; the names removed."""
        kept = self.listing()
        removed = []
        for old in kept[self.settings.keep:]:
            shutil.rmtree(old.path, ignore_errors=True)
            removed.append(old.name)
        return removed

    def find(self, name_or_path: str) -> Path:
        path = Path(name_or_path)
        if not path.is_dir():
            path = self.directory / name_or_path
        if not (path / MANIFEST).exists():
            raise NotFound(f"no backup at {name_or_path}", "Backup")
        return path


def restore(path: Path, database_url: str, images_dir: Path | None, force: bool = False, keys: Any = None) -> Backup:
    """Verify the backup, refuse a database a gateway serves (or one with data, unless ``force``),
    put the copy in place with its images, and migrate it to the current schema."""
    from ..store.migrate import upgrade

    made = read(path)
    if not made.verified:
        raise RestoreRefused(f"the backup does not verify: {made.problem}")
    if presence.served(database_url):
        raise RestoreRefused("a gateway is serving that database: stop it first")
    if backup.has_data(database_url) and not force:
        raise RestoreRefused("the target database has data: give --force to replace it")
    copy = path / (backup.SQLITE_FILE if made.database == "sqlite" else backup.PG_FILE)
    backup.restore_database(copy, database_url)
    if images_dir is not None and (path / "images").is_dir():
        shutil.copytree(path / "images", images_dir, dirs_exist_ok=True)
    upgrade(database_url, keys=keys)
    return made
