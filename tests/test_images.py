"""The pictures README shows of the workbook and the demo are of what is committed now: each PNG names, in a text
chunk, the SHA-256 of the file it shows; when that file changes, these fail until the picture is taken again
(the commands: docs/testing.md, "Images")."""

import hashlib

from conftest import ROOT
from PIL import Image

from s6.reading.shipped import SHIPPED


def shown(image: str, key: str) -> str | None:
    return Image.open(ROOT / "images" / image).text.get(key)


def test_the_demo_screenshot_shows_the_shipped_weights():
    expected = hashlib.sha256(SHIPPED.read_bytes()).hexdigest()
    assert shown("demo.png", "s6-weights-sha256") == expected, \
        'retake it: S6_SCREENSHOT=images/demo.png pytest tests/test_demo.py -k "drawn and 7"'


def test_the_workbook_screenshot_shows_the_committed_workbook():
    expected = hashlib.sha256((ROOT / "asgmt_backpropagation.xlsx").read_bytes()).hexdigest()
    assert shown("workbook_lr0.5.png", "s6-workbook-sha256") == expected, \
        "retake it: python tools/workbook_screenshot.py"


def test_every_image_in_images_is_named_in_the_docs_with_the_command_that_makes_it():
    table = (ROOT / "docs" / "testing.md").read_text().split("## Images", 1)[1]
    missing = [p.name for p in sorted((ROOT / "images").glob("*.png")) if f"`images/{p.name}`" not in table]
    assert missing == []
