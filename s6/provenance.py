"""What produced a run, recorded in its metrics.json: the recipe, the versions, and the source's commit.

A metrics.json outlives the code that wrote it; with these fields a figure read months later still says which
design, recipe and library made it, instead of being trusted to match today's.
"""

from __future__ import annotations

import subprocess
from dataclasses import asdict
from pathlib import Path

import torch

from s6 import __version__
from s6.models.recipe import Recipe


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
    root = root or Path(__file__).resolve().parents[1]  # the repository: s6/provenance.py is one folder down
    if not (root / ".git").exists():
        return None
    try:
        head, changes = (subprocess.run(["git", "-C", str(root), *args], capture_output=True, text=True, timeout=30,
                                        check=True).stdout.strip()
                         for args in (["rev-parse", "HEAD"], ["status", "--porcelain", "--untracked-files=no"]))
    except (OSError, subprocess.SubprocessError):
        return None
    return head + ("+changes" if changes else "")
