"""Which device to train on, how to name it in results, and how to time work on it."""

from __future__ import annotations

import os
import platform

import torch

from s6 import S6Error, plural


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
