"""The package's layout keeps its promises: Part 1 stands alone, and only drawing code imports matplotlib."""

import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


def modules_after_import(*names: str) -> set[str]:
    """The modules loaded by importing ``names`` in a fresh interpreter."""
    code = "import sys\n" + "".join(f"import {name}\n" for name in names) + "print('\\n'.join(sys.modules))"
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    return set(result.stdout.split())


PART2 = ("s6.models", "s6.training", "s6.inference", "s6.results")  # Part 2's folders, from the bottom layer up


def test_part1_imports_nothing_from_part2():
    loaded = modules_after_import("s6.backprop.network", "s6.backprop.workbook", "s6.backprop.figures")
    assert not {m for m in loaded if m.startswith(PART2) or m == "torch"}


def test_part2_folders_import_only_downwards():
    """models <- training <- inference, results: a folder imports its own modules and those of the folders below
    it, never one above or beside it (inference and results stand side by side), so s6 train goes down the layers."""
    rank = {"s6.models": 0, "s6.training": 1, "s6.inference": 2, "s6.results": 2}
    upward = []
    for path in (ROOT / "s6").glob("*/*.py"):
        here = "s6." + path.parent.name
        if here not in rank:
            continue
        for target in re.findall(r"^\s*from (s6\.\w+)[\w.]* import", path.read_text(), re.M):
            if target in rank and target != here and rank[target] >= rank[here]:
                upward.append(f"{path.relative_to(ROOT)} imports {target}")
    assert not upward, upward


NOT_DRAWING = ["s6.cli", "s6.training.run", "s6.device", "s6.training.data", "s6.training.train",
               "s6.models.model2", "s6.inference.predict", "s6.inference.digits", "s6.backprop.workbook",
               "s6.results.seeds"]


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
    loaded = loaded_by_each["s6.inference.predict"]
    assert "s6.inference.predict" in loaded and "s6.training.data" not in loaded


@pytest.mark.parametrize("module", NOT_DRAWING)
def test_modules_that_do_not_draw_do_not_import_matplotlib(module, loaded_by_each):
    assert module in loaded_by_each[module]  # the import ran
    assert "matplotlib" not in loaded_by_each[module]


PAGES = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]


def github_anchor(heading: str) -> str:
    """The anchor GitHub gives a heading: lower case, punctuation dropped, each space a hyphen."""
    return re.sub(r"[^\w\- ]", "", heading.strip().lower()).replace(" ", "-")


def test_readmes_first_screen_leads_to_the_commands_that_install_train_and_test():
    """What a newcomer meets first: the paragraph above the first heading links the quick start, and there, in
    code blocks, are the install, the default run and the test command, in that order. (The page's 17 kB limit is
    a rule of the project's, checked by .ci/run.)"""
    text = (ROOT / "README.md").read_text()
    assert "](#quick-start)" in text.split("\n## ")[0]
    quick = text.split("\n## Quick start\n")[1].split("\n## ")[0]
    commands = [line for block in re.findall(r"```bash\n(.*?)```", quick, re.S) for line in block.splitlines()]
    assert commands == ["pip install -r requirements.txt", "python -m s6 train --model model2", "pytest"]


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
