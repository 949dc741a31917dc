"""Classify your own digit images with a trained checkpoint.

An image becomes an MNIST-like input the way MNIST itself was made:

1. grayscale (transparent pixels count as white paper);
2. polarity: MNIST digits are light on a dark background. If the image's border (its
   outermost 5% on every side) is brighter on average than mid-grey, the image is dark
   ink on light paper and is inverted;
3. contrast: the border's median becomes 0 (background), the brightest pixel 1;
4. the digit's bounding box (pixels above 0.2) is scaled to fit 20x20, keeping its aspect;
5. it is placed on a 28x28 black canvas with its centre of mass at the centre.
"""

from __future__ import annotations

import os
from pathlib import Path

import torch
import torch.nn.functional as F
from PIL import Image, ImageOps, UnidentifiedImageError

from s6 import S6Error
from s6.checkpoint import load_checkpoint
from s6.models import MODELS, build_model

INK = 0.2  # brightness (0..1, after inversion and contrast) above which a pixel is part of the digit


def load_image(path: str | os.PathLike) -> Image.Image:
    path = Path(path)
    try:
        with Image.open(path) as image:
            image.load()
    except FileNotFoundError:
        raise S6Error(f"{path}: no such file") from None
    except PermissionError:
        raise S6Error(f"{path}: permission denied") from None
    except (UnidentifiedImageError, OSError, ValueError):
        raise S6Error(f"{path}: not an image that Pillow can read (PNG or JPEG expected)") from None
    if image.mode in ("RGBA", "LA", "PA") or "transparency" in image.info:
        paper = Image.new("RGBA", image.size, "white")
        image = Image.alpha_composite(paper, image.convert("RGBA"))
    return ImageOps.grayscale(image)


def to_mnist(image: Image.Image, name: str = "image") -> torch.Tensor:
    """A grayscale PIL image -> float tensor (28, 28) in [0, 1], light digit on black, centred like MNIST."""
    pixels = torch.frombuffer(bytearray(image.tobytes()), dtype=torch.uint8)
    x = pixels.reshape(image.height, image.width).float() / 255.0
    band = max(1, round(0.05 * min(x.shape)))
    border = torch.cat([x[:band].flatten(), x[-band:].flatten(), x[:, :band].flatten(), x[:, -band:].flatten()])
    if border.mean() > 0.5:  # dark ink on light paper
        x = 1.0 - x
        border = 1.0 - border
    background = border.median()
    x = ((x - background) / max(float(x.max() - background), 1e-6)).clamp(0, 1)
    rows = (x > INK).any(1).nonzero().flatten()
    cols = (x > INK).any(0).nonzero().flatten()
    if len(rows) == 0 or float(x.max()) < 1e-3:
        raise S6Error(f"{name}: no digit found (the image is blank)")
    x = x[rows[0] : rows[-1] + 1, cols[0] : cols[-1] + 1]
    scale = 20.0 / max(x.shape)
    size = (max(1, round(x.shape[0] * scale)), max(1, round(x.shape[1] * scale)))
    x = F.interpolate(x[None, None], size=size, mode="bilinear", antialias=True, align_corners=False)[0, 0]
    canvas = torch.zeros(28, 28)
    top, left = (28 - size[0]) // 2, (28 - size[1]) // 2
    canvas[top : top + size[0], left : left + size[1]] = x
    ys, xs = torch.meshgrid(torch.arange(28.0), torch.arange(28.0), indexing="ij")
    mass = canvas.sum()
    dy = round(13.5 - float((canvas * ys).sum() / mass))
    dx = round(13.5 - float((canvas * xs).sum() / mass))
    shifted = torch.zeros(28, 28)
    src = canvas[max(0, -dy) : 28 - max(0, dy), max(0, -dx) : 28 - max(0, dx)]
    shifted[max(0, dy) : max(0, dy) + src.shape[0], max(0, dx) : max(0, dx) + src.shape[1]] = src
    return shifted


def load_classifier(path: str | os.PathLike) -> tuple[torch.nn.Module, dict]:
    """The model of a checkpoint, in eval mode, and the checkpoint itself."""
    checkpoint = load_checkpoint(path)
    name = checkpoint["model"]
    if name not in MODELS:
        raise S6Error(f"{path} holds a {name!r} model, which this s6 does not know ({', '.join(MODELS)})")
    model = build_model(name)
    try:
        model.load_state_dict(checkpoint["state_dict"])
    except RuntimeError:
        raise S6Error(f"{path}: its weights do not fit {name}'s layers (saved by another model or version)") from None
    return model.eval(), checkpoint


@torch.inference_mode()
def classify(model: torch.nn.Module, digits: torch.Tensor, mean: float, std: float) -> torch.Tensor:
    """Class probabilities (N, 10) for digits (N, 28, 28) in [0, 1]."""
    return model(((digits - mean) / std).unsqueeze(1)).softmax(1)


def format_prediction(name: str, probabilities: torch.Tensor, top: int = 1) -> str:
    """``my7.png: 7 (98.6%)``, with the next guesses after it when top > 1."""
    values, digits = probabilities.topk(top)
    guesses = ", ".join(f"{int(d)} ({_percent(float(v))})" for v, d in zip(values, digits))
    return f"{name}: {guesses}"


def _percent(p: float) -> str:
    """98.6%; below 0.1% as <0.1% and above 99.9% as >99.9%, rather than a misleading 0.0% or 100.0%."""
    if p < 0.001:
        return "<0.1%"
    if p > 0.999:
        return ">99.9%"
    return f"{100 * p:.1f}%"
