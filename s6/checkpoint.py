"""Model checkpoints: written atomically (see s6.files), read back with one clear line for every problem."""

from __future__ import annotations

import io
import os
from pathlib import Path

import torch

from s6 import S6Error
from s6.files import atomic_write_bytes


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
    except Exception:  # torch raises RuntimeError, ValueError, EOFError, UnpicklingError, KeyError... by damage
        raise S6Error(f"{path} {_what_is_wrong(path)}") from None
    if not isinstance(checkpoint, dict) or "state_dict" not in checkpoint or "model" not in checkpoint:
        raise S6Error(f"{path} is not an s6 checkpoint")
    if checkpoint.get("format") != CHECKPOINT_FORMAT:
        raise S6Error(
            f"{path} has checkpoint format {checkpoint.get('format')!r} (s6 {checkpoint.get('version', '?')}); "
            f"this s6 reads format {CHECKPOINT_FORMAT}: retrain, or use the s6 version that wrote it"
        )
    return checkpoint


def _what_is_wrong(path: Path) -> str:
    """Why torch could not read a file, in words: checkpoints are zip archives, so the first bytes tell."""
    with open(path, "rb") as f:
        start = f.read(4)
    if not start:
        return "is empty (0 bytes): not a checkpoint, or one whose writing never began"
    if start == b"PK\x03\x04":
        return "is truncated or damaged: it starts like a PyTorch checkpoint but cannot be read to the end"
    return "is not a PyTorch checkpoint file (it holds some other kind of data)"
