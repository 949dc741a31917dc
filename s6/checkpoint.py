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
