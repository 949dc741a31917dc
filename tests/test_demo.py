"""python -m s6 demo, driven in a real Chromium by Playwright: draw with the mouse, upload files, break it.

The server is the real command in a subprocess on a free local port; the page is read as a user
reads it. Locally, missing Gradio, Playwright or Chromium skip these tests; under CI they fail.
S6_SCREENSHOT=images/demo.png makes the drawing test save the README's screenshot there
(`S6_SCREENSHOT=images/demo.png pytest tests/test_demo.py -k "drawn and 7"`).
"""

from __future__ import annotations

import hashlib
import io
import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest
import torch
from conftest import ROOT, require, require_module
from PIL import Image

from s6.models.registry import DEFAULT_MODEL, recipe_for

pytestmark = pytest.mark.slow  # every test here starts a server or trains

# Chromium as root in a container, with nothing reaching out to the network
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]
# Strokes as (x, y) in fractions of the canvas, drawn with the mouse button held
STROKES = {
    "7": [[(0.25, 0.2), (0.75, 0.2), (0.45, 0.85)]],
    "0": [[(0.5, 0.15), (0.3, 0.3), (0.28, 0.6), (0.5, 0.85), (0.7, 0.6), (0.7, 0.3), (0.5, 0.15)]],
    "1": [[(0.5, 0.15), (0.5, 0.85)]],
}
CANVAS = 280  # pixels a side, as s6.inference.demo builds the sketchpad


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def chromium_path() -> str:
    path = os.environ.get("S6_CHROMIUM") or shutil.which("chromium") or shutil.which("chromium-browser")
    if path is None:
        require("Chromium (apt-get install chromium, or S6_CHROMIUM=path)")
    return path


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    """``python -m s6 demo`` on a free port, started in an empty folder outside the repository with no
    --checkpoint, so it serves the weights shipped inside the package; yields (url, port) once the page answers."""
    require_module("gradio", "Gradio (pip install -e '.[demo]')")
    port = free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "s6", "demo", "--port", str(port)],
        cwd=tmp_path_factory.mktemp("anywhere"), stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
        env={**os.environ, "GRADIO_ANALYTICS_ENABLED": "False"},
    )
    url = f"http://127.0.0.1:{port}/"
    deadline = time.monotonic() + 180
    while True:
        try:
            urllib.request.urlopen(url, timeout=5)
            break
        except OSError:
            if process.poll() is not None or time.monotonic() > deadline:
                process.kill()
                pytest.fail(f"the demo did not start:\n{process.communicate()[0]}")
            time.sleep(0.5)
    yield url, port
    process.terminate()
    process.wait(timeout=30)


@pytest.fixture(scope="module")
def browser():
    playwright_api = require_module("playwright.sync_api", "Playwright (pip install -e '.[browser]')")
    executable = chromium_path()
    with playwright_api.sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=executable, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


@pytest.fixture
def page(server, browser):
    """A fresh page of the demo, its sketchpad ready."""
    page = browser.new_page(viewport={"width": 880, "height": 900})  # GitHub's column: README shows its screenshot 1:1
    page.goto(server[0])
    page.wait_for_selector("#sketch canvas")
    yield page
    page.close()


def message(page) -> str:
    return page.inner_text("#message [data-testid='markdown']").strip()


def reply(page, act) -> str:
    """Do ``act``, then wait until the page's message changes and nothing is processing; the new message."""
    before = message(page)
    act()
    page.wait_for_function(
        """([old]) => {
            const text = document.querySelector("#message [data-testid='markdown']").innerText.trim();
            const busy = [...document.querySelectorAll("[data-testid='status-tracker']")]
                .some(t => !t.classList.contains("hide"));
            return text !== old && !busy;
        }""", arg=[before], timeout=60_000)
    return message(page)


def top_label(page) -> str:
    return page.inner_text("#guesses [data-testid='label-output-value']").strip()


def draw(page, strokes) -> None:
    page.get_by_role("button", name="Brush").click()
    box = page.locator("#sketch canvas").first.bounding_box()
    cx, cy = box["x"] + box["width"] / 2, box["y"] + box["height"] / 2
    for stroke in strokes:
        points = [(cx + (x - 0.5) * CANVAS, cy + (y - 0.5) * CANVAS) for x, y in stroke]
        page.mouse.move(*points[0])
        page.mouse.down()
        for point in points[1:]:
            page.mouse.move(*point, steps=15)
        page.mouse.up()


def upload(page, path: Path) -> None:
    page.set_input_files("#upload input[type='file']", str(path))


@pytest.mark.parametrize("digit", ["7", "0", "1"])
def test_a_digit_drawn_with_the_mouse_is_read_as_that_digit(page, digit):
    draw(page, STROKES[digit])
    text = reply(page, lambda: page.click("#read-drawing"))
    assert text.startswith(f"The model reads {digit} ")
    assert top_label(page) == digit
    _title, top, *rows = page.inner_text("#guesses").split("\n")
    assert top == digit and rows[0] == digit and len(rows) == 6  # three guesses, each a digit and a percentage
    assert len(set(rows[0::2])) == 3 and all(p.endswith("%") for p in rows[1::2])
    seen = page.locator("#seen img")
    assert seen.count() == 1 and seen.evaluate("img => img.naturalWidth") == 224  # the 28x28 input, 8x
    if digit == "7" and os.environ.get("S6_SCREENSHOT"):
        save_screenshot(page, Path(os.environ["S6_SCREENSHOT"]))


def save_screenshot(page, path: Path) -> None:
    """README's picture of the page, marked with the SHA-256 of the weights it shows (tests/test_images.py)."""
    from PIL.PngImagePlugin import PngInfo

    from s6.inference.shipped import SHIPPED

    info = PngInfo()
    info.add_text("s6-weights-sha256", hashlib.sha256(SHIPPED.read_bytes()).hexdigest())
    # Down to the upload box, the page's last part: Gradio's footer and the blank below would only add height.
    box = page.locator("#upload").bounding_box()
    clip = {"x": 0, "y": 0, "width": page.viewport_size["width"], "height": box["y"] + box["height"] + 24}
    Image.open(io.BytesIO(page.screenshot(clip=clip))).save(path, pnginfo=info, optimize=True)


def test_the_page_names_the_shipped_weights_when_started_outside_the_repository(page):
    epochs = recipe_for(DEFAULT_MODEL).epochs
    shown = f"Model: the weights shipped with s6: {DEFAULT_MODEL}, seed 1, epoch {epochs} of {epochs}"
    assert shown in page.inner_text("body")


def test_a_real_mnist_digit_uploaded_dark_on_light_is_read(page, mnist, tmp_path):
    index = 1  # the second test digit, a 2: not one of the drawn digits
    label = int(mnist.test_labels[index])
    digit = Image.fromarray(255 - mnist.test_images[index].numpy()).resize((112, 112), Image.LANCZOS)
    digit.save(tmp_path / "digit.png")
    text = reply(page, lambda: upload(page, tmp_path / "digit.png"))
    assert text.startswith(f"The model reads {label} ") and top_label(page) == str(label)


def test_an_uploaded_number_is_read_digit_by_digit(page, mnist, tmp_path):
    labels = "".join(str(int(mnist.test_labels[i])) for i in (0, 1))  # a 7 and a 2
    strip = torch.cat([255 - mnist.test_images[0], 255 - mnist.test_images[1]], dim=1)
    Image.fromarray(strip.numpy()).resize((224, 112), Image.LANCZOS).save(tmp_path / "number.png")
    text = reply(page, lambda: upload(page, tmp_path / "number.png"))
    assert text.startswith(f"The model reads {labels}, digit by digit ({labels[0]}: ")
    assert top_label(page) == labels


def test_an_empty_canvas_says_so(page):
    # Gradio sends no composite for a sketchpad never drawn on (measured: Gradio 6, Chromium), and the page says so
    assert reply(page, lambda: page.click("#read-drawing")) == "Draw a digit first."
    assert "Traceback" not in page.content()


def test_a_text_file_named_png_is_an_error_on_the_page_and_the_next_request_still_works(page, tmp_path):
    (tmp_path / "notes.png").write_text("this is not an image")
    text = reply(page, lambda: upload(page, tmp_path / "notes.png"))
    assert text == "notes.png: not an image that Pillow can read (PNG or JPEG expected)"
    assert "Traceback" not in page.content() and page.locator("#seen img").count() == 0
    draw(page, STROKES["7"])
    assert reply(page, lambda: page.click("#read-drawing")).startswith("The model reads 7 ")


@pytest.mark.parametrize("name, make, expected", [
    ("blank.png", lambda: Image.new("L", (300, 200), 255), "blank.png: no digit found"),
    ("grey.png", lambda: Image.new("RGB", (300, 200), (90, 90, 90)), "grey.png: no digit found"),
    ("huge.png", lambda: Image.new("L", (10000, 10000), 255), "huge.png: too large to open safely"),
])
def test_a_bad_upload_is_one_line_on_the_page(page, tmp_path, name, make, expected):
    make().save(tmp_path / name)
    assert reply(page, lambda: upload(page, tmp_path / name)).startswith(expected)
    assert "Traceback" not in page.content()


def test_the_page_is_served_on_127_0_0_1_only(server):
    """Linux's socket table: every socket listening on the demo's port is bound to the loopback address."""
    _, port = server
    tables = [Path("/proc/net/tcp"), Path("/proc/net/tcp6")]
    if not tables[0].exists():
        pytest.skip("reads Linux's /proc/net/tcp")
    listening = []
    for table in tables:
        for line in table.read_text().splitlines()[1:] if table.exists() else []:
            local, state = line.split()[1], line.split()[3]
            address, hex_port = local.rsplit(":", 1)
            if state == "0A" and int(hex_port, 16) == port:  # 0A: LISTEN
                listening.append(address)
    assert listening == ["0100007F"]  # 127.0.0.1, little-endian hex; no 0.0.0.0 (00000000) or :: socket


def test_demo_without_gradio_says_how_to_install_it():
    code = "import sys; sys.modules['gradio'] = None; from s6.cli import main; sys.exit(main(['demo']))"
    result = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert result.returncode == 1 and "Traceback" not in result.stderr
    assert result.stderr.strip().splitlines() == [
        "error: the demo needs Gradio, which the core install leaves out: pip install -e '.[demo]' "
        "(or pip install 'gradio>=6')"]


def test_demo_on_a_taken_port_is_one_line(server):
    _, port = server
    result = subprocess.run([sys.executable, "-m", "s6", "demo", "--port", str(port)], cwd=ROOT,
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 1
    assert result.stderr.strip() == f"error: cannot serve on 127.0.0.1:{port}: Address already in use; " \
                                    "try another --port or --host"


def test_a_missing_checkpoint_is_reported_before_a_taken_port(server, tmp_path):
    _, port = server
    result = subprocess.run([sys.executable, "-m", "s6", "demo", "--port", str(port), "--checkpoint",
                             str(tmp_path / "nope.pt")], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert result.returncode == 1 and "Traceback" not in result.stderr
    assert "nope.pt" in result.stderr and "Address already in use" not in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1
