"""Shared fixtures: the real MNIST copy and a real spreadsheet engine.

Locally a missing one skips its tests; under CI (CI=true) it fails them instead, so a
green CI run always means the real data and the real recalculation were exercised.
"""

from __future__ import annotations

import contextlib
import csv
import importlib
import io
import os
import re
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
# The proof beside the product: tools/ and benchmarks/ are folders of scripts, not packages, and each imports its
# neighbours by name (report, printout, screening...); their tests do the same.
sys.path[:0] = [str(ROOT / "tools"), str(ROOT / "benchmarks")]


def require(what: str) -> None:
    if os.environ.get("CI"):
        pytest.fail(f"{what} is required under CI")
    pytest.skip(f"{what} not available")


def require_module(name: str, what: str):
    """The module ``name``, imported; else skip (locally) or fail (under CI), naming ``what`` to install."""
    try:
        return importlib.import_module(name)
    except ImportError:
        require(what)


def folder_bytes(folder: Path) -> dict[str, bytes] | None:
    """Every file under ``folder`` (by its path inside it) with its bytes; None when there is no such folder. Taken
    before and after a command, it shows the command left the folder as it was."""
    if not folder.is_dir():
        return None
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


def mnist_root(environ: dict, repository: Path) -> Path | None:
    """Where the tests find MNIST, as `s6 train` does: $S6_DATA_DIR, else the repository's ./data, which README's
    train command fills. None when the files are not there: tests never download."""
    path = Path(environ.get("S6_DATA_DIR") or repository / "data")
    return path.resolve() if (path / "MNIST" / "raw" / "t10k-labels-idx1-ubyte").exists() else None


@pytest.fixture(scope="session")
def data_dir() -> Path:
    """The MNIST root (ROOT/MNIST/raw/*-ubyte)."""
    path = mnist_root(os.environ, ROOT)
    if path is None:
        require("MNIST at $S6_DATA_DIR or ./data")
    return path


@pytest.fixture(scope="session")
def mnist(data_dir):
    from s6.training.data import load_mnist

    return load_mnist(data_dir, download=False)


@pytest.fixture(scope="session")
def soffice() -> str:
    path = shutil.which("soffice") or shutil.which("libreoffice")
    if path is None:
        require("LibreOffice (soffice)")
    return path


FORMULA_VALUE = re.compile(rb"(<f>[^<]*</f>)(?:<v>[^<]*</v>|<v\s*/>)")  # a formula cell's stored value


def without_stored_values(book: Path, copy: Path) -> Path:
    """A copy of ``book`` whose formula cells hold their formulas only, every stored value removed.

    LibreOffice shows an .xlsx's stored values as they are and recomputes only cells that have none, so a wrong
    formula under a right stored value would pass any check of what it shows; without them it must compute each
    one from its formula."""
    with zipfile.ZipFile(book) as source, zipfile.ZipFile(copy, "w", zipfile.ZIP_DEFLATED) as target:
        for item in source.infolist():
            data = source.read(item.filename)
            if item.filename.startswith("xl/worksheets/sheet"):
                data = FORMULA_VALUE.sub(rb"\1", data)
                assert b"</f><v" not in data, f"{item.filename}: a formula's stored value was left"
            target.writestr(item, data)
    return copy


@pytest.fixture
def recalculate(soffice, tmp_path):
    """Open an .xlsx in headless LibreOffice with its stored values removed, so every formula is computed, and
    return {sheet: rows of strings}."""

    def run(book: Path) -> dict[str, list[list[str]]]:
        out = tmp_path / "csv"
        profile = (tmp_path / "lo-profile").as_uri()
        (tmp_path / "formulas-only").mkdir(exist_ok=True)
        formulas = without_stored_values(book, tmp_path / "formulas-only" / book.name)
        subprocess.run(
            [soffice, f"-env:UserInstallation={profile}", "--headless", "--convert-to",
             "csv:Text - txt - csv (StarCalc):44,34,UTF8,1,,0,false,true,false,false,false,-1",
             "--outdir", str(out), str(formulas)],
            check=True, capture_output=True, timeout=180,
        )
        sheets = {}
        for path in out.glob(f"{book.stem}-*.csv"):
            with open(path, newline="", encoding="utf-8") as f:
                sheets[path.stem[len(book.stem) + 1:]] = list(csv.reader(f))
        return sheets

    return run


def run_cli(*args: str, cwd: Path | None = None, env: dict | None = None) -> subprocess.CompletedProcess:
    """``python -m s6 ARGS`` in a subprocess, as a user would type it."""
    return subprocess.run(
        [sys.executable, "-m", "s6", *args], cwd=cwd or ROOT, capture_output=True, text=True,
        env={**os.environ, **(env or {})}, timeout=900,
    )


def run_main(*args: str, cwd: Path | None = None, env: dict | None = None) -> subprocess.CompletedProcess:
    """``s6.cli.main(ARGS)`` in this process, returned as ``run_cli`` returns it: for tests of what a command says
    and does, not of the process around it, without a new interpreter's torch import (about 2 s each).

    An exception that escapes ``main`` escapes here too and fails the test, as a traceback would have."""
    from s6.cli import main

    out, err = io.StringIO(), io.StringIO()
    before_cwd, before_env = Path.cwd(), dict(os.environ)
    os.chdir(cwd or ROOT)
    os.environ.update(env or {})
    try:
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            try:
                code = main(list(args))
            except SystemExit as e:  # argparse: --help, --version and bad arguments
                code = e.code if isinstance(e.code, int) else int(e.code is not None)
    finally:
        os.chdir(before_cwd)
        os.environ.clear()
        os.environ.update(before_env)
    return subprocess.CompletedProcess(["s6", *args], code, out.getvalue(), err.getvalue())


def torch_one_cycle_sgd(model, recipe, total_steps: int):
    """torch.optim's SGD under OneCycleLR, set as s6 trained with them until 2026-12-03: the reference that
    s6.training.train.OneCycleSGD must equal bit for bit."""
    import torch

    optimizer = torch.optim.SGD(model.parameters(), lr=recipe.max_lr, momentum=recipe.momentum[1],
                                nesterov=recipe.nesterov, weight_decay=recipe.weight_decay)
    scheduler = torch.optim.lr_scheduler.OneCycleLR(
        optimizer, max_lr=recipe.max_lr, total_steps=total_steps, pct_start=max(recipe.warmup, 2 / total_steps),
        anneal_strategy=recipe.anneal, div_factor=recipe.start_div, final_div_factor=recipe.end_div,
        base_momentum=recipe.momentum[0], max_momentum=recipe.momentum[1],
    )
    return optimizer, scheduler


def register_model(monkeypatch, name: str, display: str, network: type, recipe, goal=None, role: str = "") -> None:
    """Register a throwaway model for one test, as a new model is added: a module that writes ``Net`` and
    ``RECIPE`` (here made in memory, under the name ``tests_NAME``) and an ``Entry`` naming it."""
    import types

    from s6.models.registry import REGISTRY, Entry

    module = types.ModuleType(f"tests_{name}")
    module.Net, module.RECIPE = network, recipe
    monkeypatch.setitem(sys.modules, module.__name__, module)
    monkeypatch.setitem(REGISTRY, name, Entry(display, module.__name__, goal, role))


def recipe(**given):
    """A complete Recipe (every field is required): Model-2's, with the settings ``given`` instead."""
    from dataclasses import replace

    from s6.models.registry import recipe_for

    return replace(recipe_for("model2"), **given)
