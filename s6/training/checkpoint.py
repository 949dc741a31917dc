"""Model checkpoints: written atomically (s6.atomic_write_bytes), read back with one clear line for every problem."""

from __future__ import annotations

import io
import os
import warnings
from pathlib import Path
from typing import TYPE_CHECKING

import torch
from torch import nn

from s6 import S6Error, __version__, atomic_write_bytes
from s6.models import MNIST_MEAN, MNIST_STD

if TYPE_CHECKING:
    from s6.training.train import OneCycleSGD


def save_torch(path: str | os.PathLike, obj: object) -> None:
    buffer = io.BytesIO()
    torch.save(obj, buffer)
    atomic_write_bytes(path, buffer.getvalue())


CHECKPOINT_FORMAT = 1  # bump when the layout below changes incompatibly


def save_run(
    path: Path, plan: dict, metrics: dict, model: nn.Module, optimizer: OneCycleSGD, loader_generator: torch.Generator,
    device: torch.device, average: nn.Module | None = None,
) -> None:
    """Write a run's checkpoint atomically: everything ``restore_run`` needs to continue it exactly,
    and what ``predict`` needs to use it (model name, weights, input normalisation). With a moving ``average`` of
    the weights, ``state_dict`` is the average (what the run scored, and what predict uses) and ``training`` holds
    the weights the optimiser steps and the average's count, to resume from."""
    save_torch(path, {
        "format": CHECKPOINT_FORMAT,
        "version": __version__,
        "model": plan["model"],
        "normalisation": {"mean": MNIST_MEAN, "std": MNIST_STD},
        "plan": plan,
        "epoch": len(metrics["epochs"]),
        "state_dict": (average.module if average is not None else model).state_dict(),
        **({"training": {"state_dict": model.state_dict(), "n_averaged": average.n_averaged}} if average is not None
           else {}),
        "optimizer": optimizer.state_dict(),
        "rng": {
            "torch": torch.get_rng_state(),
            "loader": loader_generator.get_state(),
            "cuda": torch.cuda.get_rng_state() if device.type == "cuda" else None,
        },
        "metrics": metrics,
    })


def restore_run(
    checkpoint: dict, model: nn.Module, optimizer: OneCycleSGD, loader_generator: torch.Generator,
    device: torch.device, average: nn.Module | None = None,
) -> None:
    """Put a saved run's weights (and their moving ``average``, if it keeps one), optimiser (its place in the
    schedule, its velocities) and random states back, so it continues bit for bit."""
    if average is not None:
        model.load_state_dict(checkpoint["training"]["state_dict"])
        average.module.load_state_dict(checkpoint["state_dict"])
        average.n_averaged.copy_(checkpoint["training"]["n_averaged"])
    else:
        model.load_state_dict(checkpoint["state_dict"])
    optimizer.load_state_dict(optimizer_state(checkpoint))
    torch.set_rng_state(checkpoint["rng"]["torch"])
    loader_generator.set_state(checkpoint["rng"]["loader"])
    if device.type == "cuda" and checkpoint["rng"].get("cuda") is not None:
        torch.cuda.set_rng_state(checkpoint["rng"]["cuda"])


def optimizer_state(checkpoint: dict) -> dict:
    """The optimiser's state as OneCycleSGD keeps it. A checkpoint written while s6 trained with torch.optim (until
    2026-12-03) holds SGD's and OneCycleLR's state dicts instead: the same numbers, read from where those kept them."""
    state = checkpoint["optimizer"]
    if "steps" in state:
        return state
    buffers = state["state"]
    return {"steps": checkpoint["scheduler"]["last_epoch"],
            "velocity": [buffers.get(i, {}).get("momentum_buffer") for i in state["param_groups"][0]["params"]]}


def checkpoint_file(path: str | os.PathLike) -> Path:
    """A run folder's checkpoint.pt, or the checkpoint file itself when given one."""
    path = Path(path)
    return path / "checkpoint.pt" if path.is_dir() else path


def load_checkpoint(path: str | os.PathLike) -> dict:
    """Read and sanity-check an s6 checkpoint; every problem becomes one S6Error line."""
    path = checkpoint_file(path)
    if not path.exists():
        raise S6Error(f"no checkpoint at {path}")
    try:
        with warnings.catch_warnings():  # e.g. a plain pickle's "Detected pickle protocol 4": the error says it all
            warnings.simplefilter("ignore")
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
