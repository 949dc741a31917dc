"""The pictures README shows of the workbook and the demo are of what is committed now: each PNG names, in a text
chunk, the SHA-256 of the file it shows; when that file changes, these fail until the picture is taken again
(the commands: docs/testing.md, "Images")."""

import hashlib
import importlib.util
import re

import pytest
from conftest import ROOT
from PIL import Image

from s6.inference.shipped import SHIPPED


def shown(image: str, key: str) -> str | None:
    return Image.open(ROOT / "images" / image).text.get(key)


def test_the_demo_screenshot_shows_the_shipped_weights():
    expected = hashlib.sha256(SHIPPED.read_bytes()).hexdigest()
    assert shown("demo.png", "s6-weights-sha256") == expected, \
        'retake it: S6_SCREENSHOT=images/demo.png pytest tests/test_demo.py -k "drawn and 7"'


def screenshot_tool():
    spec = importlib.util.spec_from_file_location("workbook_screenshot", ROOT / "tools" / "workbook_screenshot.py")
    tool = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(tool)
    return tool


def test_the_workbook_screenshots_show_the_committed_workbook_at_a_width_github_can_show():
    tool = screenshot_tool()
    expected = hashlib.sha256((ROOT / "asgmt_backpropagation.xlsx").read_bytes()).hexdigest()
    paths = [tool.view_path(ROOT / "images", "LR=0.5", view) for view in tool.VIEWS]
    for path in [*paths, tool.summary_path(ROOT / "images")]:
        assert shown(path.name, "s6-workbook-sha256") == expected, "retake them: python tools/workbook_screenshot.py"
        assert Image.open(path).width <= tool.MAX_WIDTH, path.name  # at its own size, readable in GitHub's column


def test_the_backprop_figures_are_what_the_derivation_draws_now(tmp_path):
    """Part 1's figures, redrawn from s6.backprop now, on any matplotlib: the committed PNG names the SHA-256 of the
    text and data it shows, which must be today's, and is the same size. Its pixels are compared only where this
    matplotlib is the one that drew it (each PNG names it): another version places text and antialiases edges a
    pixel apart, so there the pixels are skipped, and the test says so."""
    import matplotlib
    import numpy as np

    from s6.backprop.figures import write_backprop_figures

    mine, other = f"Matplotlib version{matplotlib.__version__},", set()
    for path in write_backprop_figures(tmp_path):
        committed, drawn = Image.open(ROOT / "images" / path.name), Image.open(path)
        assert committed.text.get("s6-drawn-sha256") == drawn.text["s6-drawn-sha256"], \
            f"it shows other numbers or words than the derivation now: python -m s6 backprop-figures ({path.name})"
        assert abs(drawn.width - committed.width) <= 0.03 * committed.width, path.name
        assert abs(drawn.height - committed.height) <= 0.03 * committed.height, path.name
        software = committed.text.get("Software", "")  # "Matplotlib version3.11.2, https://matplotlib.org/"
        if not software.startswith(mine):
            other.add(f"matplotlib {software.removeprefix('Matplotlib version').split(',')[0] or '(unnamed)'}")
            continue
        assert np.array_equal(np.asarray(drawn.convert("RGB")), np.asarray(committed.convert("RGB"))), \
            f"redraw it: python -m s6 backprop-figures ({path.name})"
    if other:
        pytest.skip(f"the committed figures were drawn by {', '.join(sorted(other))}; this is matplotlib "
                    f"{matplotlib.__version__}: their words, data and sizes match, their pixels are not compared")


def test_a_figure_drawn_with_other_numbers_is_told_apart_from_the_committed_one():
    """The hash the test above compares changes with a single digit or point the figure shows."""
    from s6.backprop.figures import drawn, lr_comparison, network
    from s6.backprop.network import Inputs, forward_backward

    inputs = Inputs()
    v = forward_backward(inputs.i1, inputs.i2, inputs.t1, inputs.t2, inputs.w)
    assert drawn(network(v)) == drawn(network(v))
    assert drawn(network(v)) != drawn(network({**v, "w5": 0.41}))
    assert drawn(lr_comparison(inputs, 100)) != drawn(lr_comparison(inputs, 99))


def test_every_figure_readme_shows_fits_githubs_column_at_its_own_size():
    """At most 900 pixels wide, so GitHub's column (about 880) shows subscripts and labels nearly unshrunk; the
    workbook's views, LibreOffice's rendering of whole table rows, may take up to the screenshot tool's 1,000."""
    shown_in_readme = re.findall(r"!\[[^\]]*\]\(images/([^)]+\.png)\)", (ROOT / "README.md").read_text())
    assert "backprop_step1.png" in shown_in_readme and "demo.png" in shown_in_readme
    wide = {name: Image.open(ROOT / "images" / name).width for name in shown_in_readme
            if not name.startswith("workbook_")}
    assert {name: width for name, width in wide.items() if width > 900} == {}


def test_every_image_in_images_is_named_in_the_docs_with_the_command_that_makes_it():
    table = (ROOT / "docs" / "testing.md").read_text().split("## Images", 1)[1]
    missing = [p.name for p in sorted((ROOT / "images").glob("*.png")) if f"`images/{p.name}`" not in table]
    assert missing == []


def test_the_formula_views_legend_names_each_column_the_formulas_read_and_the_picture_shows_it():
    """README reads the formula picture's cell references for the reader ($B$1 = η, P = h2, ...): each letter must be
    that column, each column must be in the picture, and every column a shown formula reads must be named."""
    import openpyxl
    from openpyxl.utils import get_column_letter

    from s6.backprop.network import COLUMNS
    from s6.backprop.workbook import HEADER_ROW, LR_CELL

    tool = screenshot_tool()
    legend = re.search(r"<!-- legend -->(.*?)<!-- /legend -->", (ROOT / "README.md").read_text(), re.S)[1]
    named = dict(re.findall(r"\b([A-Z]{1,2}) = ([\w/]+)", legend))
    assert f"`{LR_CELL}` = η" in legend
    for letter, name in named.items():
        assert get_column_letter(COLUMNS.index(name) + 1) == letter, (letter, name)
        assert name in tool.VIEWS["formulas"], f"{name} ({letter}) is named but not in the picture"
    sheet = openpyxl.load_workbook(ROOT / "asgmt_backpropagation.xlsx")["LR=0.5"]
    read = set()
    for name in tool.FORMULAS:
        column = COLUMNS.index(name) + 1
        for row in range(HEADER_ROW + 1, HEADER_ROW + 1 + tool.FORMULA_ROWS):
            formula = sheet.cell(row, column).value.replace(LR_CELL, "")  # η, named on its own
            formula = re.sub(r"\w+!\$?[A-Z]+\$?\d+", "", formula)  # another sheet's cell (Inputs!$B$8)
            read |= set(re.findall(r"\b([A-Z]{1,2})\d+", formula))
    shown_as_formulas = {get_column_letter(COLUMNS.index(name) + 1) for name in tool.FORMULAS}
    assert read and read | shown_as_formulas <= set(named), sorted(read | shown_as_formulas - set(named))
