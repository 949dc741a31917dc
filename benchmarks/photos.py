"""MNIST test digits rendered as phone photos of digits on paper: the test set for ``predict``.

A photo is reflectance times light. Each condition sets the page's reflectance, the ink's, and a
light field over the page; every photo then gets the same camera faults: a slight blur, sensor
noise and JPEG compression, with the digit small (a fifth to a third of the photo's height) and
off-centre. All draws come from one seeded generator, so a condition and a seed name one photo set.
``number_set`` writes several digits side by side (a number), ``small_set`` one digit a thirtieth of
the width of a large photo.
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


def _light_field(kind: str, g: torch.Generator, height: int = HEIGHT, width: int = WIDTH) -> torch.Tensor:
    """Brightness (height, width) of the light on the page, at most 1."""
    ys, xs = torch.meshgrid(torch.linspace(0, 1, height), torch.linspace(0, 1, width), indexing="ij")
    if kind == "even":
        return torch.full((height, width), 0.9)
    angle = float(torch.rand((), generator=g)) * 2 * math.pi
    along = (xs - 0.5) * math.cos(angle) + (ys - 0.5) * math.sin(angle)  # position along a random direction
    along = (along - along.min()) / (along.max() - along.min())
    if kind == "ramp":
        return 0.5 + 0.4 * along  # the page runs from about 110 to 190 out of 255
    if kind == "shadow":
        edge = 0.3 + 0.4 * float(torch.rand((), generator=g))  # where the shadow ends, along that direction
        return 0.9 - 0.45 * torch.sigmoid((edge - along) / 0.03)  # soft-edged, light cut in half
    raise ValueError(f"unknown light {kind!r}")


def render_photo(
    digit: torch.Tensor, condition: Condition, g: torch.Generator, canvas: tuple[int, int] = (WIDTH, HEIGHT),
    side: tuple[float, float] = (0.2, 0.33),
) -> Image.Image:
    """MNIST digits (28 * rows, 28 * n) uint8, side by side in rows, as a JPEG-compressed grayscale photo of a page.

    ``canvas`` is the photo's (width, height) in pixels; each digit's 28x28 box is ``side`` (a range) of its height.
    """
    width, height = canvas
    size = int(height * (side[0] + (side[1] - side[0]) * float(torch.rand((), generator=g))))  # box side, pixels
    size = min(size, int(0.95 * width * 28 / digit.shape[1]))  # a long number still fits across the page
    size = min(size, int(0.95 * height * 28 / digit.shape[0]))  # and a page of rows down it
    down, across = size * digit.shape[0] // 28, size * digit.shape[1] // 28
    alpha = F.interpolate(digit[None, None].float() / 255, size=(down, across), mode="bilinear", align_corners=False)
    top = int(float(torch.rand((), generator=g)) * (height - down))  # anywhere on the page
    left = int(float(torch.rand((), generator=g)) * (width - across))
    coverage = torch.zeros(height, width)
    coverage[top : top + down, left : left + across] = alpha[0, 0].clamp(0, 1)
    reflectance = condition.paper + (condition.ink - condition.paper) * coverage
    photo = reflectance * _light_field(condition.light, g, height, width)
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


def number_set(
    images: torch.Tensor, labels: torch.Tensor, condition: Condition, count: int, lengths: tuple[int, ...] = (2, 3, 4),
    seed: int = 0,
) -> list[tuple[Image.Image, str]]:
    """``count`` photos of numbers, each of 2 to 4 consecutive test digits side by side, with the number they show.

    The digits keep MNIST's own margins (about 4 pixels of 28 on each side), so they stand apart as handwritten
    digits in a row do; lengths cycle through ``lengths``.
    """
    g = torch.Generator().manual_seed(seed)
    photos, first = [], 0
    for i in range(count):
        n = lengths[i % len(lengths)]
        strip = torch.cat(list(images[first : first + n]), dim=1)  # (28, 28 * n)
        number = "".join(str(int(y)) for y in labels[first : first + n])
        photos.append((render_photo(strip, condition, g), number))
        first += n
    return photos


def small_set(
    images: torch.Tensor, labels: torch.Tensor, condition: Condition, count: int, seed: int = 0,
    canvas: tuple[int, int] = (2000, 1500), fraction: float = 1 / 30,
) -> list[tuple[Image.Image, int]]:
    """One digit a ``fraction`` of the width of a large photo (2000x1500: a 67-pixel digit box), anywhere on it."""
    g = torch.Generator().manual_seed(seed)
    side = canvas[0] * fraction / canvas[1]
    return [(render_photo(images[i], condition, g, canvas, (side, side)), int(labels[i])) for i in range(count)]
