"""The package's layout keeps its promises: Part 1 stands alone, and only drawing code imports matplotlib."""

import subprocess
import sys

import pytest


def modules_after_import(*names: str) -> set[str]:
    """The modules loaded by importing ``names`` in a fresh interpreter."""
    code = "import sys\n" + "".join(f"import {name}\n" for name in names) + "print('\\n'.join(sys.modules))"
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    return set(result.stdout.split())


def test_part1_imports_nothing_from_part2():
    loaded = modules_after_import("s6.backprop.network", "s6.backprop.workbook", "s6.backprop.figures")
    part2 = {"s6.data", "s6.models", "s6.train", "s6.run", "s6.predict", "s6.checkpoint", "s6.recipe", "torch"}
    assert not loaded & part2, loaded & part2


@pytest.mark.parametrize("module", ["s6.cli", "s6.run", "s6.device", "s6.data", "s6.models", "s6.predict",
                                   "s6.backprop.workbook", "s6.results"])
def test_modules_that_do_not_draw_do_not_import_matplotlib(module):
    assert "matplotlib" not in modules_after_import(module)
