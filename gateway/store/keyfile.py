"""Key files made on first use by whichever process needs one first.

Several processes (gateway nodes, CLI commands, test workers) can start at once on a fresh
installation, and each would make the key it needs. The file is written aside and linked into
place, so a process never reads a key file that another is still writing (it read an empty one).
"""

import os
import tempfile
from pathlib import Path


def make_once(path: Path, data: bytes) -> bool:
    """``data`` at ``path`` (0600, on disk) unless a file is there: whether this call made it. When two
    make it at once, one file stands and both then read that one."""
    if path.exists():
        return False
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, name = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".new")   # 0600
    aside = Path(name)
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.link(aside, path)
    except FileExistsError:
        return False   # another process made it first: theirs stands
    finally:
        aside.unlink()
    return True
