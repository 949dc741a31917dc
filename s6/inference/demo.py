"""Draw a digit: a local web page (Gradio) that shows what the trained model reads.

The page has a sketchpad and an upload box. Both go through exactly what ``python -m s6 predict``
does (``s6.inference.predict.Classifier``): the same preparation into a 28x28 MNIST-like digit, then the
model. The page shows the three likeliest digits with their probabilities and, enlarged, the
28x28 image the model received, so a wrong answer can be understood (a stroke too thin, a digit
cut in two). A problem with the input (an empty canvas, a blank page, a file that is not an
image) is a message on the page; the server goes on serving.

Gradio is an optional extra, left out of the core install because it brings 32 more packages and
about 150 MB (Gradio, FastAPI, pandas...): ``pip install -e '.[demo]'``.
"""

from __future__ import annotations

import socket
from functools import partial
from pathlib import Path
from typing import Any

import numpy as np
import torch
from PIL import Image

from s6 import S6Error
from s6.inference.ink import load_image
from s6.inference.predict import Classifier, number_of

INSTALL_HINT = "pip install -e '.[demo]' (or pip install 'gradio>=6')"
SHOWN = 8  # the 28x28 input is drawn 8x larger (224x224), each pixel a sharp square
TOP = 3  # guesses shown
MAX_UPLOAD = "20mb"  # larger uploads are refused by the server before they reach the model

Reply = tuple[dict[str, float] | None, np.ndarray | None, str]  # (top guesses, what the model saw, message)


def require_gradio() -> Any:
    """The gradio module, or one line saying how to install it."""
    try:
        import gradio
    except ImportError:
        raise S6Error(f"the demo needs Gradio, which the core install leaves out: {INSTALL_HINT}") from None
    return gradio


def read(classifier: Classifier, image: Image.Image, name: str) -> Reply:
    """The page's answer for one grayscale image: top guesses, the enlarged 28x28 input(s), a sentence.

    Several digits (a number) are read left to right: the sentence gives each digit's confidence, the guesses
    the number with the product of those, and the picture the 28x28 digits side by side.
    """
    try:
        probabilities, digits = classifier(image, name)
    except S6Error as e:
        return None, None, f"**{e}**"
    seen = (torch.cat(list(digits), dim=1) * 255).round().to(torch.uint8).numpy()
    seen = seen.repeat(SHOWN, axis=0).repeat(SHOWN, axis=1)
    if len(probabilities) == 1:
        values, best = probabilities[0].topk(TOP)
        guesses = {str(int(d)): float(v) for v, d in zip(values, best)}
        return guesses, seen, f"The model reads **{int(best[0])}** ({100 * float(values[0]):.1f}%)."
    values, best = probabilities.max(1)
    number = number_of(probabilities)
    each = ", ".join(f"{int(d)}: {100 * float(v):.1f}%" for v, d in zip(values, best))
    return {number: float(values.prod())}, seen, f"The model reads **{number}**, digit by digit ({each})."


def read_sketch(classifier: Classifier, value: dict | None) -> Reply:
    """A sketchpad's value: Gradio's dict of background, layers and their composite (grayscale, white paper)."""
    composite = (value or {}).get("composite")
    if composite is None:
        return None, None, "**Draw a digit first.**"
    return read(classifier, composite, "your drawing")


def read_upload(classifier: Classifier, path: str | None) -> Reply:
    """An uploaded file, opened exactly as ``predict`` opens one."""
    if path is None:
        return None, None, "**Choose an image file (PNG or JPEG).**"
    name = Path(path).name  # as uploaded: the server's temporary folder means nothing to the user
    try:
        image = load_image(path, name)
    except S6Error as e:
        return None, None, f"**{e}**"
    return read(classifier, image, name)


def build_app(classifier: Classifier) -> Any:
    """The page: sketchpad and upload on the left, the model's answer on the right."""
    gr = require_gradio()
    with gr.Blocks(title="s6: draw a digit", analytics_enabled=False) as app:
        gr.Markdown(f"# Draw a digit\nModel: {classifier.describe()}.")
        with gr.Row():
            with gr.Column():
                sketch = gr.Sketchpad(
                    label="Pick the pen, draw a digit (or a few, side by side)",
                    type="pil", image_mode="L", canvas_size=(280, 280), layers=False, elem_id="sketch",
                    brush=gr.Brush(default_size=20, colors=["#000000"], color_mode="fixed"),
                )
                read_drawing = gr.Button("Read my drawing", variant="primary", elem_id="read-drawing")
                upload = gr.File(label="...or upload a photo or scan (PNG or JPEG, either polarity)",
                                 file_types=["image"], type="filepath", elem_id="upload")
            with gr.Column():
                message = gr.Markdown("Pick the pen at the canvas's left, draw a digit large with the mouse or a "
                                      "finger and press *Read my drawing*; or upload an image.",
                                      elem_id="message")
                guesses = gr.Label(num_top_classes=TOP, label="The model's top 3", elem_id="guesses")
                seen = gr.Image(label="What the model received: 28x28 pixels, enlarged", interactive=False,
                                elem_id="seen", format="png")
        answer = [guesses, seen, message]
        read_drawing.click(partial(read_sketch, classifier), sketch, answer)
        upload.upload(partial(read_upload, classifier), upload, answer)
    return app


def check_address(host: str, port: int) -> None:
    """Fail in one line, before the slow start, when the address cannot be served (in use, or no such host)."""
    try:
        with socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET) as probe:
            probe.bind((host, port))
    except OSError as e:
        raise S6Error(f"cannot serve on {host}:{port}: {e.strerror or e}; try another --port or --host") from None


def serve(checkpoint: str | None, host: str, port: int, share: bool) -> None:
    """Run the page until Ctrl-C: on ``host`` only (127.0.0.1 by default), a public link only with ``share``."""
    require_gradio()
    classifier = Classifier(checkpoint)  # a missing checkpoint is the first thing to fix, whatever the port
    check_address(host, port)
    print(f"using {classifier.describe()}")
    app = build_app(classifier)
    try:  # quiet, and not blocking yet: Gradio's own hints speak of launch(), where ours speak of options
        app.launch(server_name=host, server_port=port, share=share, max_file_size=MAX_UPLOAD, quiet=True,
                   prevent_thread_lock=True)
    except OSError as e:  # taken in the moment since check_address
        raise S6Error(f"cannot serve on {host}:{port}: {e.strerror or 'taken'}; try another --port") from None
    where = "this machine only" if host in ("127.0.0.1", "localhost", "::1") else f"every machine that reaches {host}"
    print(f"serving the page at {app.local_url} ({where}); Ctrl-C stops it")
    if share:
        print(f"public link: {app.share_url}" if app.share_url else "no public link: Gradio's server did not answer")
    app.block_thread()
