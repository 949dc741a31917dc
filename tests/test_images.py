"""The pictures README shows of the workbook and the demo are of what is committed now: each PNG names, in a text
chunk, the SHA-256 of the file it shows; when that file changes, these fail until the picture is taken again
(the commands: docs/testing.md, "Images")."""

import hashlib
import importlib.util
import re

from conftest import ROOT
from PIL import Image

from s6.reading.shipped import SHIPPED


def shown(image: str, key: str) -> str | None:
    return Image.open(ROOT / "images" / image).text.get(key)


def test_the_demo_screenshot_shows_the_shipped_weights():
    expected = hashlib.sha256(SHIPPED.read_bytes()).hexdigest()
    assert shown("demo.png", "s6-weights-sha256") == expected, \
        'retake it: S6_SCREENSHOT=images/demo.png pytest tests/test_demo.py -k "drawn and 7"'


def test_the_workbook_screenshots_show_the_committed_workbook_at_a_width_github_can_show():
    spec = importlib.util.spec_from_file_location("workbook_screenshot", ROOT / "tools" / "workbook_screenshot.py")
    tool = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(tool)
    expected = hashlib.sha256((ROOT / "asgmt_backpropagation.xlsx").read_bytes()).hexdigest()
    for view in tool.VIEWS:
        path = tool.view_path(ROOT / "images", "LR=0.5", view)
        assert shown(path.name, "s6-workbook-sha256") == expected, "retake them: python tools/workbook_screenshot.py"
        assert Image.open(path).width <= tool.MAX_WIDTH, path.name  # at its own size, readable in GitHub's column


def test_the_backprop_figures_are_what_the_derivation_draws_now(tmp_path):
    """Part 1's figures, redrawn from s6.backprop now, are the committed ones pixel for pixel."""
    import numpy as np

    from s6.backprop.figures import write_backprop_figures

    for path in write_backprop_figures(tmp_path):
        committed = np.asarray(Image.open(ROOT / "images" / path.name).convert("RGB"))
        assert np.array_equal(np.asarray(Image.open(path).convert("RGB")), committed), \
            f"redraw it: python -m s6 backprop-figures ({path.name})"


def test_every_image_in_images_is_named_in_the_docs_with_the_command_that_makes_it():
    table = (ROOT / "docs" / "testing.md").read_text().split("## Images", 1)[1]
    missing = [p.name for p in sorted((ROOT / "images").glob("*.png")) if f"`images/{p.name}`" not in table]
    assert missing == []


def test_the_formula_views_caption_names_each_column_the_formulas_use_by_its_letter():
    """README reads the formula picture's cell references for the reader (Q = a_h2, ...): each must be that column."""
    from openpyxl.utils import get_column_letter

    from s6.backprop.network import COLUMNS

    caption = re.search(r"Behind them, live formulas.*?\n\n", (ROOT / "README.md").read_text(), re.S)[0]
    named = re.findall(r"\b([A-Z]{1,2}) = (\w+)", caption) + re.findall(r"\bhas ([A-Z]{1,2}), (\w+)\)", caption)
    assert len(named) == 9
    for letter, name in named:
        assert get_column_letter(COLUMNS.index(name) + 1) == letter, (letter, name)
