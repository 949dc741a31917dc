"""The package's layout keeps its promises: Part 1 stands alone, and only drawing code imports matplotlib."""

import re
import subprocess
import sys
from pathlib import Path

import pytest


def modules_after_import(*names: str) -> set[str]:
    """The modules loaded by importing ``names`` in a fresh interpreter."""
    code = "import sys\n" + "".join(f"import {name}\n" for name in names) + "print('\\n'.join(sys.modules))"
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    return set(result.stdout.split())


def test_part1_imports_nothing_from_part2():
    loaded = modules_after_import("s6.backprop.network", "s6.backprop.workbook", "s6.backprop.figures")
    part2 = {"s6.mnist", "s6.batches", "s6.models", "s6.recipe", "s6.registry", "s6.train", "s6.run", "s6.predict",
             "s6.ink", "s6.digits", "s6.checkpoint", "torch"}
    assert not loaded & part2, loaded & part2


def test_no_s6_module_imports_the_experimental_layers():
    """s6.experimental serves the benchmarks' screens only: the package works without it."""
    package = ROOT / "s6"
    importers = [str(path.relative_to(ROOT)) for path in package.rglob("*.py")
                 if path.name != "experimental.py" and "s6.experimental" in path.read_text()]
    assert not importers, importers


NOT_DRAWING = ["s6.cli", "s6.run", "s6.device", "s6.mnist", "s6.batches", "s6.models", "s6.predict", "s6.digits",
               "s6.backprop.workbook", "s6.results"]


@pytest.fixture(scope="module")
def loaded_by_each():
    """For each module of NOT_DRAWING, what importing it alone loads: one fresh interpreter each, all started at
    once, since each spends most of its two seconds importing torch."""
    code = "import sys, importlib\nimportlib.import_module(sys.argv[1])\nprint('\\n'.join(sys.modules))"
    running = {m: subprocess.Popen([sys.executable, "-c", code, m], stdout=subprocess.PIPE, text=True)
               for m in NOT_DRAWING}
    return {m: set(process.communicate()[0].split()) for m, process in running.items()}


def test_prediction_does_not_import_the_download_module(loaded_by_each):
    """predict needs the model and its normalisation, not the code that finds and downloads MNIST."""
    assert "s6.predict" in loaded_by_each["s6.predict"] and "s6.mnist" not in loaded_by_each["s6.predict"]


@pytest.mark.parametrize("module", NOT_DRAWING)
def test_modules_that_do_not_draw_do_not_import_matplotlib(module, loaded_by_each):
    assert module in loaded_by_each[module]  # the import ran
    assert "matplotlib" not in loaded_by_each[module]


ROOT = Path(__file__).resolve().parent.parent
PAGES = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]


def github_anchor(heading: str) -> str:
    """The anchor GitHub gives a heading: lower case, punctuation dropped, each space a hyphen."""
    return re.sub(r"[^\w\- ]", "", heading.strip().lower()).replace(" ", "-")


def test_readme_is_a_front_page_of_at_most_14_kb():
    """The rest belongs in docs/: a front page that says each fact once stays short enough to read."""
    size = len((ROOT / "README.md").read_bytes())
    assert size <= 14_000, f"README.md is {size:,} bytes"


@pytest.mark.parametrize("page", PAGES, ids=lambda p: p.name)
def test_every_relative_link_names_a_file_and_heading_that_exist(page):
    broken = []
    for target in re.findall(r"\]\(([^)\s]+)\)", page.read_text()):
        if re.match(r"[a-z]+:", target):
            continue  # https:, mailto:: not this repository's
        path, _, anchor = target.partition("#")
        linked = (page.parent / path).resolve() if path else page
        if not linked.exists():
            broken.append(target)
        elif anchor and linked.suffix == ".md":
            headings = re.findall(r"^#+ (.+)$", linked.read_text(), flags=re.M)
            if anchor not in {github_anchor(h) for h in headings}:
                broken.append(target)
    assert not broken, f"{page.name}: {broken}"

