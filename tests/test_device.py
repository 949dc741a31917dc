"""Every record names the CPU's vector path beside the CPU: the same seed ends a few hundredths apart on two paths."""

import os
import subprocess
import sys

import torch

from s6.device import describe_device


def describe_in_a_fresh_process(env: dict) -> str:
    """describe_device as a new run sees it: ATen reads ATEN_CPU_CAPABILITY once, when torch is imported."""
    code = "import torch; from s6.device import describe_device; print(describe_device(torch.device('cpu')))"
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                          env=env).stdout.strip()


def test_a_cpu_is_named_with_its_aten_capability():
    name = describe_device(torch.device("cpu"))
    assert name.startswith("cpu: ") and name.endswith(f", ATen {torch.backends.cpu.get_cpu_capability()}")


def test_a_pinned_path_is_what_the_record_names():
    """ATEN_CPU_CAPABILITY=default and ONEDNN_MAX_CPU_ISA pin a path lower than any x86 CPU's best: the record says
    the path the run took, not the CPU's best."""
    env = {**os.environ, "ATEN_CPU_CAPABILITY": "default", "ONEDNN_MAX_CPU_ISA": "sse41"}
    name = describe_in_a_fresh_process(env)  # torch calls that path "DEFAULT", and "NO AVX" before 2.4
    assert name.endswith((", ATen DEFAULT, oneDNN max SSE41", ", ATen NO AVX, oneDNN max SSE41")), name
