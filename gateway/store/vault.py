"""Pictures on disk, sealed: ``[storage] images_dir`` holds each picture once, encrypted with the key
ring (AES-GCM, the key id in the file, bound to its name: a file renamed does not open), under a
keyed digest of its bytes as its name. Whoever keeps
lane pictures on disk keeps them here (``put`` the bytes, keep the name, ``get`` them back);
retention removes files by age and backups copy them as they are, sealed.
"""

import os
from collections.abc import Iterator
from pathlib import Path

from .keyring import KeyRing, seal_head

SUFFIX = ".sealed"


class ImageVault:
    def __init__(self, *, directory: Path, keys: KeyRing) -> None:
        self.directory = directory
        self.keys = keys

    def path(self, name: str) -> Path:
        if not name.isalnum():
            raise ValueError("a picture's name is its digest")
        return self.directory / name[:2] / f"{name}{SUFFIX}"

    def put(self, data: bytes) -> str:
        """Seal and keep a picture (once: the same bytes have the same name); its name."""
        name = self.keys.name_of(data)
        path = self.path(name)
        if not path.exists():
            self._write(path, self.keys.seal(data, _place(name)))
        return name

    def get(self, name: str) -> bytes:
        return self.keys.open(self.path(name).read_bytes(), _place(name))

    def remove(self, name: str) -> bool:
        try:
            self.path(name).unlink()
        except FileNotFoundError:
            return False
        return True

    def names(self) -> Iterator[str]:
        if self.directory.is_dir():
            for path in sorted(self.directory.glob(f"*/*{SUFFIX}")):
                yield path.name[:-len(SUFFIX)]

    def head_of(self, name: str) -> str | None:
        """The id of the key the picture is sealed with, and its format (``k2@2``)."""
        with open(self.path(name), "rb") as f:
            return seal_head(f.read(24))

    def reseal(self, name: str) -> bool:
        """Seal the picture again under the current key, bound to its name, unless it is already;
        whether it was."""
        path = self.path(name)
        sealed = path.read_bytes()
        if self.keys.is_current(sealed):
            return False
        kept = path.stat()
        self._write(path, self.keys.seal(self.keys.open(sealed, _place(name)), _place(name)))
        os.utime(path, ns=(kept.st_atime_ns, kept.st_mtime_ns))   # retention goes by the picture's age
        return True

    @staticmethod
    def _write(path: Path, sealed: bytes) -> None:
        """Aside, then into place: a reader sees the old file or the new one."""
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "wb") as f:
            f.write(sealed)
        os.replace(tmp, path)


def _place(name: str) -> bytes:
    return f"picture:{name}".encode()
