"""s6: backpropagation by hand and a parameter-efficient MNIST CNN.

Here, what every part of the package shares: its version, its errors (one line each for the user), counts in
words, and files that must never be half-written (metrics, checkpoints and the workbook go to a temporary file
first, then are renamed into place).
"""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path

__version__ = "0.3.0"  # the minor number moves when a model's design does: 0.3 is the 5-epoch Model-2


class S6Error(Exception):
    """A problem the user can fix; the CLI prints it as one line and exits non-zero."""


class TrainingInterrupted(S6Error):
    """Ctrl-C during training; the last completed epoch is saved. The CLI exits with 130."""


def plural(count: int, word: str) -> str:
    """``1 epoch``, ``2 epochs``: counts in messages read as English."""
    return f"{count:,} {word}" if count == 1 else f"{count:,} {word}s"


def atomic_write_bytes(path: str | os.PathLike, data: bytes) -> None:
    """Write ``data`` to a temporary file beside ``path``, fsync it, then rename it into place.

    A crash at any moment leaves either the old file or the new one, never a mix.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(tmp, 0o666 & ~umask)  # mkstemp makes 0600; give the file normal permissions
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def save_json(path: str | os.PathLike, obj: object) -> None:
    atomic_write_bytes(path, (json.dumps(obj, indent=2) + "\n").encode())


def writable_dir(path: str | os.PathLike, what: str) -> Path:
    """Make folder ``path`` if needed and prove a file can be created in it; S6Error in one line if not.

    Called before long work starts, so a run never trains for minutes and then fails to save.
    ``what`` names the option in the message, e.g. "--out".
    """
    path = Path(path)
    if path.exists() and not path.is_dir():
        raise S6Error(f"{what} {path} is a file, not a folder")
    try:
        path.mkdir(parents=True, exist_ok=True)
    except OSError as e:  # name the folder that refused, not the one that is missing because of it
        refused = next(parent for parent in path.absolute().parents if parent.exists())
        raise S6Error(f"cannot create {what} {path}: {refused} does not let a folder be made in it "
                      f"({e.strerror or type(e).__name__})") from None
    try:
        with tempfile.TemporaryFile(dir=path):
            pass
    except OSError as e:
        raise S6Error(f"cannot write to {what} {path}: {e.strerror or type(e).__name__}") from None
    return path


def writable_file(path: str | os.PathLike, what: str) -> Path:
    """Check that file ``path`` can be written (its folder made if needed) before any work; S6Error if not."""
    path = Path(path)
    if path.is_dir():
        raise S6Error(f"{what} {path} is a folder; give a file name such as {path / 'book.xlsx'}")
    folder = next((parent for parent in path.parents if parent.exists()), None)  # the nearest that is there
    if folder is not None and not folder.is_dir():
        raise S6Error(f"cannot write {what} {path}: {folder} is a file, not a folder")
    try:
        writable_dir(path.parent, what)
    except S6Error:
        raise S6Error(f"cannot write {what} {path}: its folder {path.parent} is not writable") from None
    return path
