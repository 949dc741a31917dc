"""MNIST test digits rendered as phone photos of a digit on paper: the test set for ``predict``.

A photo is reflectance times light. Each condition sets the page's reflectance, the ink's, and a
light field over the page; every photo then gets the same camera faults: a slight blur, sensor
noise and JPEG compression, with the digit small (a fifth to a third of the photo's height) and
off-centre. All draws come from one seeded generator, so a condition and a seed name one photo set.
"""

from __future__ import annotations

import io
import math
from dataclasses import dataclass

import torch
import torch.nn.functional as F
from PIL import Image

WIDTH, HEIGHT = 320, 240  # pixels of each photo (landscape, like a phone's, scaled down)


@dataclass(frozen=True)
class Condition:
    """How a page looks: reflectances in [0, 1] and the kind of light falling on it."""

    paper: float  # reflectance of the page
    ink: float  # reflectance of the digit's strokes
    light: str  # "even", "ramp" (brightness rising across the page) or "shadow" (a soft shadow over part of it)


CONDITIONS = {
    "white paper, even light": Condition(paper=0.85, ink=0.12, light="even"),
    "paper lit unevenly": Condition(paper=0.85, ink=0.12, light="ramp"),
    "dark-grey paper": Condition(paper=0.42, ink=0.06, light="even"),
    "shadow across the page": Condition(paper=0.85, ink=0.12, light="shadow"),
    "light ink on a dark board": Condition(paper=0.18, ink=0.85, light="even"),
}


def _light_field(kind: str, g: torch.Generator) -> torch.Tensor:
    """Brightness (HEIGHT, WIDTH) of the light on the page, at most 1."""
    ys, xs = torch.meshgrid(torch.linspace(0, 1, HEIGHT), torch.linspace(0, 1, WIDTH), indexing="ij")
    if kind == "even":
        return torch.full((HEIGHT, WIDTH), 0.9)
    angle = float(torch.rand((), generator=g)) * 2 * math.pi
    along = (xs - 0.5) * math.cos(angle) + (ys - 0.5) * math.sin(angle)  # position along a random direction
    along = (along - along.min()) / (along.max() - along.min())
    if kind == "ramp":
        return 0.5 + 0.4 * along  # the page runs from about 110 to 190 out of 255
    if kind == "shadow":
        edge = 0.3 + 0.4 * float(torch.rand((), generator=g))  # where the shadow ends, along that direction
        return 0.9 - 0.45 * torch.sigmoid((edge - along) / 0.03)  # soft-edged, light cut in half
    raise ValueError(f"unknown light {kind!r}")


def render_photo(digit: torch.Tensor, condition: Condition, g: torch.Generator) -> Image.Image:
    """One MNIST digit (28, 28) uint8 as a JPEG-compressed grayscale photo of a page."""
    size = int(HEIGHT * (0.2 + 0.13 * float(torch.rand((), generator=g))))  # digit box side, pixels
    alpha = F.interpolate(digit[None, None].float() / 255, size=(size, size), mode="bilinear", align_corners=False)
    top = int(float(torch.rand((), generator=g)) * (HEIGHT - size))  # anywhere on the page
    left = int(float(torch.rand((), generator=g)) * (WIDTH - size))
    coverage = torch.zeros(HEIGHT, WIDTH)
    coverage[top : top + size, left : left + size] = alpha[0, 0].clamp(0, 1)
    reflectance = condition.paper + (condition.ink - condition.paper) * coverage
    photo = reflectance * _light_field(condition.light, g)
    blur = torch.tensor([0.25, 0.5, 0.25])  # the lens: a slight blur
    photo = F.conv2d(photo[None, None], (blur[:, None] * blur[None, :])[None, None], padding=1)[0, 0]
    photo = photo + 0.025 * torch.randn(photo.shape, generator=g)  # sensor noise, about 6 grey levels
    pixels = (photo.clamp(0, 1) * 255).round().to(torch.uint8)
    buffer = io.BytesIO()
    Image.fromarray(pixels.numpy(), mode="L").save(buffer, format="JPEG", quality=75)
    buffer.seek(0)
    return Image.open(buffer).convert("L")


def photo_set(
    images: torch.Tensor, labels: torch.Tensor, condition: Condition, count: int, seed: int = 0
) -> list[tuple[Image.Image, int]]:
    """The first ``count`` digits of ``images`` as photos under ``condition``, with their labels."""
    g = torch.Generator().manual_seed(seed)
    return [(render_photo(images[i], condition, g), int(labels[i])) for i in range(count)]
