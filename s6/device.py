"""Where a run runs and what it runs: which device to train on, how to name it and its CPU path in results, how to
time work on it, and the code and versions that made a result (its provenance).

A metrics.json outlives the code that wrote it; with these fields a figure read months later still says which
machine, design, recipe and library made it, instead of being trusted to match today's.
"""

from __future__ import annotations

import os
import platform
import subprocess
from dataclasses import asdict
from pathlib import Path

import torch

from s6 import S6Error, __version__, plural
from s6.models.recipe import Recipe


def resolve_device(name: str | None) -> torch.device:
    """``cuda`` or ``cpu``; None picks CUDA when there is one."""
    if name is None:
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if name == "cuda" and not torch.cuda.is_available():
        raise S6Error("--device cuda: no CUDA GPU is available here; use --device cpu")
    if name not in ("cpu", "cuda"):
        raise S6Error(f"unknown device {name!r}; use cpu or cuda")
    return torch.device(name)


def cpu_path() -> str:
    """The vector path this process computes on: PyTorch's own kernels' (ATen's capability: AVX512, AVX2, ...), and
    oneDNN's cap when ONEDNN_MAX_CPU_ISA sets one. The same seed ends a few hundredths apart on two paths, so a
    figure without its path cannot be compared with another machine's."""
    path = f"ATen {torch.backends.cpu.get_cpu_capability()}"
    cap = os.environ.get("ONEDNN_MAX_CPU_ISA")
    return f"{path}, oneDNN max {cap.upper()}" if cap else path


def describe_device(device: torch.device) -> str:
    """A human name for the hardware and, on a CPU, its vector path: stored in metrics.json (and so in seeds.json)
    and in every benchmark's record, and printed in tables."""
    if device.type == "cuda":
        return f"cuda: {torch.cuda.get_device_name(device)}"
    cpu = platform.processor() or platform.machine()
    try:
        with open("/proc/cpuinfo") as f:
            cpu = next(line.split(":", 1)[1].strip() for line in f if line.startswith("model name"))
    except (OSError, StopIteration):
        pass
    return f"cpu: {cpu}, {plural(torch.get_num_threads(), 'thread')}, {cpu_path()}"


def sync(device: torch.device) -> None:
    """Wait for the device's queued work, so a timer measures the work and not just its launch."""
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def provenance(recipe: Recipe) -> dict:
    """The run's recipe in full, the s6 and torch versions, and the commit of the source (None outside a clone)."""
    return {"recipe": asdict(recipe), **versions()}


def versions() -> dict:
    """The s6 and torch versions, and the commit of the source (None outside a clone)."""
    # str(): torch.__version__ is a TorchVersion, which a checkpoint's safe (weights_only) loading refuses to read
    return {"s6": __version__, "torch": str(torch.__version__), "commit": source_commit()}


def source_commit(root: Path | None = None) -> str | None:
    """The git commit the s6 package runs from (or the repository at ``root``), with "+changes" when tracked files
    differ from it; None when it runs from an installed copy or git is missing (costs two git calls, about 10 ms,
    once per run)."""
    root = root or Path(__file__).resolve().parents[1]  # the repository: s6/device.py is one folder down
    if not (root / ".git").exists():
        return None
    try:
        head, changes = (subprocess.run(["git", "-C", str(root), *args], capture_output=True, text=True, timeout=30,
                                        check=True).stdout.strip()
                         for args in (["rev-parse", "HEAD"], ["status", "--porcelain", "--untracked-files=no"]))
    except (OSError, subprocess.SubprocessError):
        return None
    return head + ("+changes" if changes else "")
