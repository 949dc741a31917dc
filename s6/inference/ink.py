"""An image -> its ink: where, and how strongly, a photo (or a scan, or a drawing) differs from its paper.

The first job of reading your own digits (s6.inference.digits does the second: finding the digits in the ink). A
photo of a digit on paper is far from an MNIST digit: the paper is grey, lit unevenly or shadowed, the digit is
small and dark on light. Here:

1. grayscale (transparent pixels count as white paper), shrunk to at most 256 pixels a side;
2. polarity, judged at up to 1024 pixels a side, where a small digit keeps its contrast: a coarse
   background (block medians, interpolated, at 1x1, 2x2 and 4x4 blocks) is subtracted; the ink is
   on the side of the larger departures from it, dark or light, whatever the paper's shade;
3. background: on an evenly lit page (its border hardly varies) one paper level; otherwise a
   morphological closing (dark ink) or opening (light ink) with a window wider than any stroke,
   which erases the strokes and keeps the light's gradients and shadow edges. The ink is what
   differs from it, for dark ink as a fraction of the local paper brightness, so a stroke in
   shadow counts as much as one in light.
"""

from __future__ import annotations

import os
import warnings
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from PIL import Image, ImageOps, UnidentifiedImageError

from s6 import S6Error

WORK_SIDE = 256  # longest side, in pixels, that preparation works at: plenty for a digit, fast on large photos
POLARITY_SIDE = 1024  # longest side, in pixels, at which dark or light ink is decided (see ink_is_dark)
EVEN = 0.08  # spread (0..1) of the border's brightness below which the page counts as evenly lit
MIN_CONTRAST = 0.08  # weakest ink, relative to the paper, that still counts as a digit rather than a blank page


def load_image(path: str | os.PathLike, name: str | None = None) -> Image.Image:
    """A grayscale image from a file (transparent pixels become white paper), or one line saying why not.

    Errors call the file ``name`` (default: its path), e.g. the name a user uploaded it under.
    Images over Pillow's limit of about 89 million pixels are refused before they are decoded: a
    small file can hold a huge, blank image whose pixels alone would fill the memory.
    """
    path = Path(path)
    name = name or str(path)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(path) as image:
                image.load()
    except (Image.DecompressionBombWarning, Image.DecompressionBombError):
        raise S6Error(f"{name}: too large to open safely (over {Image.MAX_IMAGE_PIXELS:,} pixels)") from None
    except FileNotFoundError:
        raise S6Error(f"{name}: no such file") from None
    except IsADirectoryError:
        raise S6Error(f"{name}: is a folder, not an image") from None
    except PermissionError:
        raise S6Error(f"{name}: permission denied") from None
    except (UnidentifiedImageError, OSError, ValueError):
        raise S6Error(f"{name}: not an image that Pillow can read (PNG or JPEG expected)") from None
    # A phone stores a portrait photo's pixels on their side, with an EXIF tag saying how to turn them: turned as
    # the tag says, the digit is upright (untouched, a 7 on its side was read as a 5).
    image = ImageOps.exif_transpose(image)
    if image.mode.startswith("I") or image.mode == "F":  # 16-bit or wider greys: scaled to 8 bits, not clipped
        image = eight_bit(image)
    if image.mode in ("RGBA", "LA", "PA") or "transparency" in image.info:
        paper = Image.new("RGBA", image.size, "white")
        image = Image.alpha_composite(paper, image.convert("RGBA"))
    return ImageOps.grayscale(image)


def eight_bit(image: Image.Image) -> Image.Image:
    """A grey image of 16-bit (or wider integer, or float) pixels as an 8-bit one, its range scaled. Pillow's own
    conversion clips every value above 255 to white, which would leave only pure black as ink (a 16-bit PNG of a 7
    was read as a 0)."""
    values = np.asarray(image, dtype=np.float64)
    if image.mode == "F":
        top = 1.0 if values.max() <= 1.0 else 255.0  # floats in [0, 1], or in 8-bit units
    else:
        top = 65535.0 if image.mode.startswith("I;16") or values.max() > 255 else 255.0
    return Image.fromarray(np.clip(np.rint(values / top * 255), 0, 255).astype(np.uint8), mode="L")


def pixels_of(image: Image.Image) -> torch.Tensor:
    """(H, W) float in [0, 1]."""
    pixels = torch.frombuffer(bytearray(image.tobytes()), dtype=torch.uint8)
    return pixels.reshape(image.height, image.width).float() / 255.0


def shrink(x: torch.Tensor, side: int = WORK_SIDE) -> torch.Tensor:
    """Scale down (never up) so the longest side is at most ``side``; a 12-megapixel photo costs no more than MNIST."""
    scale = side / max(x.shape)
    if scale >= 1:
        return x
    size = (max(1, round(x.shape[0] * scale)), max(1, round(x.shape[1] * scale)))
    return F.interpolate(x[None, None], size=size, mode="bilinear", antialias=True, align_corners=False)[0, 0]


def max_filter(x: torch.Tensor, k: int) -> torch.Tensor:
    """Maximum over a k x k window (k odd), as two 1-D passes: k + k comparisons per pixel instead of k * k.

    The image's edge pixels are repeated outwards, so light that brightens towards an edge stays a
    smooth gradient there instead of turning into a false stroke along the border.
    """
    y = F.pad(x[None, None], (k // 2, k // 2, k // 2, k // 2), mode="replicate")
    y = F.max_pool2d(y, (k, 1), stride=1)
    return F.max_pool2d(y, (1, k), stride=1)[0, 0]


def min_filter(x: torch.Tensor, k: int) -> torch.Tensor:
    return -max_filter(-x, k)


def _coarse_background(x: torch.Tensor, blocks: int = 4) -> torch.Tensor:
    """The median of each of blocks x blocks tiles, interpolated back to full size: the page, for either ink."""
    h, w = x.shape
    blocks = min(blocks, h, w)
    bh, bw = h // blocks, w // blocks
    tiles = x[: bh * blocks, : bw * blocks].reshape(blocks, bh, blocks, bw).permute(0, 2, 1, 3)
    medians = tiles.reshape(blocks, blocks, -1).median(dim=2).values
    return F.interpolate(medians[None, None], size=(h, w), mode="bilinear", align_corners=False)[0, 0]


def _darker_than_paper(x: torch.Tensor, blocks: int) -> float:
    """Evidence in [-1, 1] that the ink is darker than the paper: how much further the image departs
    below a background of blocks x blocks medians than above it. One block sees a shadowed page as
    ink; four blocks can mistake a digit that fills the frame for paper. Their sum over 1, 2 and 4
    blocks is what judged best in the measurements (docs/predict.md, "Why the ink's polarity ...")."""
    departure = x - _coarse_background(x, blocks)
    below, above = float(-departure.min()), float(departure.max())
    return (below - above) / max(below + above, 1e-6)


def _border(x: torch.Tensor) -> torch.Tensor:
    """The outermost 5% of the image on every side, where a photo shows paper, as one flat tensor."""
    band = max(1, round(0.05 * min(x.shape)))
    return torch.cat([x[:band].flatten(), x[-band:].flatten(), x[:, :band].flatten(), x[:, -band:].flatten()])


def _paper(smooth: torch.Tensor, dark_ink: bool) -> torch.Tensor:
    """The page's brightness (H, W) without the digit.

    Evenly lit (the border's brightness varies by less than EVEN): the border's median, everywhere,
    so the strokes are left exactly as they are. Otherwise a morphological closing (dark ink) or
    opening (light ink) with a window wider than any stroke: it erases the strokes and keeps the
    light's gradients and shadow edges.
    """
    border = _border(smooth)
    if float(border.quantile(0.95) - border.quantile(0.05)) < EVEN:
        return torch.full_like(smooth, float(border.median()))
    window = max(3, max(smooth.shape) // 3) | 1  # odd, wider than any stroke
    if dark_ink:
        return min_filter(max_filter(smooth, window), window)
    return max_filter(min_filter(smooth, window), window)


def _smooth(x: torch.Tensor) -> torch.Tensor:
    """A 3x3 mean: sensor noise averaged away, strokes kept."""
    return F.avg_pool2d(x[None, None], 3, stride=1, padding=1, count_include_pad=False)[0, 0]


def ink_is_dark(pixels: torch.Tensor) -> bool:
    """Whether the ink is darker than the paper, judged on the image shrunk to at most POLARITY_SIDE.

    Not at WORK_SIDE: there a digit a thirtieth of a 2000-pixel photo's width is 8 pixels across, its
    strokes blur to a fraction of their contrast, and the edge of a shadow over the page outweighs them
    (measured: docs/predict.md, "Why the ink's polarity is judged as it is").
    """
    smooth = _smooth(shrink(pixels, POLARITY_SIDE))
    return sum(_darker_than_paper(smooth, blocks) for blocks in (1, 2, 4)) > 0


def ink_strength(x: torch.Tensor, dark_ink: bool, name: str = "image") -> torch.Tensor:
    """Ink (H, W) in [0, 1], paper 0, from a grayscale image in either polarity under uneven light.

    Dark ink counts as a fraction of the paper's brightness where it lies, so a stroke in shadow is
    as strong as one in light. Raises S6Error when nothing stands out from the paper.
    """
    smooth = _smooth(x)
    departure = x - _coarse_background(smooth, 4)
    noise = 1.4826 * float((departure - departure.median()).abs().median())  # robust sigma of the paper's grain
    paper = _paper(smooth, dark_ink)
    if dark_ink:
        level = paper.clamp(min=1e-3)
        strength = ((paper - x) / level).clamp(min=0)
        floor = 4 * noise / float(level.median())
    else:
        strength = (x - paper).clamp(min=0)
        floor = 4 * noise
    peak = float(strength.max())
    if peak - floor < MIN_CONTRAST:
        raise S6Error(f"{name}: no digit found (the image is blank or has no contrast)")
    core = strength[strength > floor + 0.5 * (peak - floor)]
    top = float(core.quantile(0.9))  # the strokes' typical strength, robust to a few hot pixels
    return ((strength - floor) / max(top - floor, 1e-6)).clamp(0, 1)


