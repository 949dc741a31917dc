"""Files that must never be half-written: metrics and checkpoints go to a temporary file first."""

from __future__ import annotations

import io
import json
import os
import tempfile
from pathlib import Path

import torch

from s6 import S6Error


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


def save_torch(path: str | os.PathLike, obj: object) -> None:
    buffer = io.BytesIO()
    torch.save(obj, buffer)
    atomic_write_bytes(path, buffer.getvalue())


CHECKPOINT_FORMAT = 1  # bump when the layout below changes incompatibly


def load_checkpoint(path: str | os.PathLike) -> dict:
    """Read and sanity-check an s6 checkpoint; every problem becomes one S6Error line."""
    path = Path(path)
    if path.is_dir():
        path = path / "checkpoint.pt"
    if not path.exists():
        raise S6Error(f"no checkpoint at {path}")
    try:
        checkpoint = torch.load(path, map_location="cpu", weights_only=True)
    except PermissionError:
        raise S6Error(f"cannot read checkpoint {path}: permission denied") from None
    except Exception as e:  # truncated zip, not a torch file, unpickling refused, ...
        raise S6Error(f"{path} is not a readable s6 checkpoint ({type(e).__name__})") from None
    if not isinstance(checkpoint, dict) or "state_dict" not in checkpoint or "model" not in checkpoint:
        raise S6Error(f"{path} is not an s6 checkpoint")
    if checkpoint.get("format") != CHECKPOINT_FORMAT:
        raise S6Error(
            f"{path} has checkpoint format {checkpoint.get('format')!r} (s6 {checkpoint.get('version', '?')}); "
            f"this s6 reads format {CHECKPOINT_FORMAT}: retrain, or use the s6 version that wrote it"
        )
    return checkpoint
