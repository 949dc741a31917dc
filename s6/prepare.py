"""Your own image -> MNIST-like 28x28 digits, left to right: what a model trained on MNIST can read.

A photo of a digit on paper is far from an MNIST digit: the paper is grey, lit unevenly or
shadowed, the digit is small, off-centre and dark on light. ``to_mnist`` turns any image into
what the model was trained on, in the steps MNIST itself was made with, plus the ones a photo needs:

1. grayscale (transparent pixels count as white paper), shrunk to at most 256 pixels a side;
2. polarity, judged at up to 1024 pixels a side, where a small digit keeps its contrast: a coarse
   background (block medians, interpolated, at 1x1, 2x2 and 4x4 blocks) is subtracted; the ink is
   on the side of the larger departures from it, dark or light, whatever the paper's shade;
3. background: on an evenly lit page (its border hardly varies) one paper level; otherwise a
   morphological closing (dark ink) or opening (light ink) with a window wider than any stroke,
   which erases the strokes and keeps the light's gradients and shadow edges. The ink is what
   differs from it, for dark ink as a fraction of the local paper brightness, so a stroke in
   shadow counts as much as one in light;
4. the digits' own strokes: the connected stroke with the most strong ink, and strokes of similar
   weight in the same row, are kept; specks, leftovers along the image's border and noise elsewhere
   are dropped. Strokes that overlap left to right are one digit; a gap between them separates two,
   so a number is read digit by digit, left to right;
5. a small find in a large photo (a digit that was a few pixels across after step 1) is prepared
   again, from steps 1 to 4, on a crop of the full-resolution image around it;
6. as MNIST: each digit's bounding box is scaled to fit 20x20, keeping its aspect, and placed on a
   28x28 black canvas with its centre of mass at the centre.
"""

from __future__ import annotations

import os
import warnings
from pathlib import Path

import torch
import torch.nn.functional as F
from PIL import Image, ImageOps, UnidentifiedImageError

from s6 import S6Error

WORK_SIDE = 256  # longest side, in pixels, that preparation works at: plenty for a digit, fast on large photos
POLARITY_SIDE = 1024  # longest side, in pixels, at which dark or light ink is decided (see ink_is_dark)
INK = 0.2  # ink strength (0..1) above which a pixel counts for the digit's bounding box
STROKE = 0.35  # ink strength (0..1) above which a pixel is part of a stroke, for finding the digit's strokes
STRONG = 0.6  # ink strength (0..1) of a stroke's confident pixels, which decide which strokes are the digit
EVEN = 0.08  # spread (0..1) of the border's brightness below which the page counts as evenly lit
MIN_CONTRAST = 0.08  # weakest ink, relative to the paper, that still counts as a digit rather than a blank page
SMALL = 0.25  # digits spanning less than this fraction of a shrunk image are prepared again from a full-size crop
LARGE = 4  # a photo shrunk this many times or more is large: there a stroke touching its border is not a digit
GAP = 0.1  # strokes this far apart left to right (in digit heights) or closer are parts of one digit


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
    if image.mode in ("RGBA", "LA", "PA") or "transparency" in image.info:
        paper = Image.new("RGBA", image.size, "white")
        image = Image.alpha_composite(paper, image.convert("RGBA"))
    return ImageOps.grayscale(image)


def to_mnist(image: Image.Image, name: str = "image") -> torch.Tensor:
    """A grayscale PIL image of one digit -> float tensor (28, 28) in [0, 1], light digit on black, centred like
    MNIST. Where the image holds several digits, the one with the most ink."""
    pixels = _pixels(image)
    ink = ink_strength(_shrink(pixels), ink_is_dark(pixels), name)
    return centre_like_mnist(ink * digit_mask(ink))


def to_mnist_digits(image: Image.Image, name: str = "image") -> list[torch.Tensor]:
    """A grayscale PIL image -> each digit in it as a (28, 28) tensor like ``to_mnist``'s, left to right.

    The image is searched at the working size first; when what it finds spans less than SMALL of it and the
    image was shrunk, the search is repeated on a crop of the full-resolution image around the find, so a digit
    that became a few pixels across is prepared from its own pixels.
    """
    pixels = _pixels(image)
    x = _shrink(pixels)
    dark = ink_is_dark(pixels)  # the page's, so the crop below keeps it
    ink = ink_strength(x, dark, name)
    large = max(pixels.shape) >= LARGE * max(x.shape)
    masks = (large and digit_masks(ink, border=float("inf"))) or digit_masks(ink)  # in a large photo, a shadow's edge
    if x.shape != pixels.shape:                                           # along the border outweighs a small digit
        rows, cols = _bounds(sum(masks) > 0)
        extent = max(rows[1] - rows[0], cols[1] - cols[0]) + 1
        if extent < SMALL * max(x.shape):
            scale = pixels.shape[0] / x.shape[0]
            margin = extent  # a digit's own size of paper on every side: enough to see the page around it
            top, bottom = [round(scale * v) for v in (max(0, rows[0] - margin), rows[1] + 1 + margin)]
            left, right = [round(scale * v) for v in (max(0, cols[0] - margin), cols[1] + 1 + margin)]
            x = _shrink(pixels[top:bottom, left:right])
            ink = ink_strength(x, dark, name)
            masks = digit_masks(ink)
    return [centre_like_mnist(ink * mask) for mask in masks]


def _bounds(mask: torch.Tensor) -> tuple[tuple[int, int], tuple[int, int]]:
    """((first row, last row), (first column, last column)) of a non-empty boolean mask."""
    rows, cols = mask.any(1).nonzero().flatten(), mask.any(0).nonzero().flatten()
    return (int(rows[0]), int(rows[-1])), (int(cols[0]), int(cols[-1]))


def _pixels(image: Image.Image) -> torch.Tensor:
    """(H, W) float in [0, 1]."""
    pixels = torch.frombuffer(bytearray(image.tobytes()), dtype=torch.uint8)
    return pixels.reshape(image.height, image.width).float() / 255.0


def _shrink(x: torch.Tensor, side: int = WORK_SIDE) -> torch.Tensor:
    """Scale down (never up) so the longest side is at most ``side``; a 12-megapixel photo costs no more than MNIST."""
    scale = side / max(x.shape)
    if scale >= 1:
        return x
    size = (max(1, round(x.shape[0] * scale)), max(1, round(x.shape[1] * scale)))
    return F.interpolate(x[None, None], size=size, mode="bilinear", antialias=True, align_corners=False)[0, 0]


def _max_filter(x: torch.Tensor, k: int) -> torch.Tensor:
    """Maximum over a k x k window (k odd), as two 1-D passes: k + k comparisons per pixel instead of k * k.

    The image's edge pixels are repeated outwards, so light that brightens towards an edge stays a
    smooth gradient there instead of turning into a false stroke along the border.
    """
    y = F.pad(x[None, None], (k // 2, k // 2, k // 2, k // 2), mode="replicate")
    y = F.max_pool2d(y, (k, 1), stride=1)
    return F.max_pool2d(y, (1, k), stride=1)[0, 0]


def _min_filter(x: torch.Tensor, k: int) -> torch.Tensor:
    return -_max_filter(-x, k)


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
        return _min_filter(_max_filter(smooth, window), window)
    return _max_filter(_min_filter(smooth, window), window)


def _smooth(x: torch.Tensor) -> torch.Tensor:
    """A 3x3 mean: sensor noise averaged away, strokes kept."""
    return F.avg_pool2d(x[None, None], 3, stride=1, padding=1, count_include_pad=False)[0, 0]


def ink_is_dark(pixels: torch.Tensor) -> bool:
    """Whether the ink is darker than the paper, judged on the image shrunk to at most POLARITY_SIDE.

    Not at WORK_SIDE: there a digit a thirtieth of a 2000-pixel photo's width is 8 pixels across, its
    strokes blur to a fraction of their contrast, and the edge of a shadow over the page outweighs them
    (measured: docs/predict.md, "Why the ink's polarity is judged as it is").
    """
    smooth = _smooth(_shrink(pixels, POLARITY_SIDE))
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


def _components(mask: torch.Tensor) -> torch.Tensor:
    """8-connected components of a boolean mask: each pixel gets its component's largest flat index + 1, else 0."""
    h, w = mask.shape
    labels = torch.where(mask, torch.arange(1, h * w + 1, dtype=torch.float32).reshape(h, w), torch.zeros(()))
    for _ in range(h * w):  # each pass spreads the largest label one pixel; stops when nothing changes
        spread = F.max_pool2d(labels[None, None], 3, stride=1, padding=1)[0, 0] * mask
        if torch.equal(spread, labels):
            break
        labels = spread
    return labels


def _stroke_scores(ink: torch.Tensor, border: float = 3.0) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """(labels of the connected strokes, their ids, each id's score): the ink of a stroke's strong pixels, divided
    by ``border`` for a stroke that touches the image's border (infinity: such strokes score 0); the paper, 0."""
    labels = _components(ink > STROKE)
    ids, inverse = labels.flatten().unique(return_inverse=True)
    mass = torch.zeros(len(ids)).index_add_(0, inverse, (ink * (ink > STRONG)).flatten())
    edge = torch.cat([labels[0], labels[-1], labels[:, 0], labels[:, -1]]).unique()
    mass[torch.isin(ids, edge)] /= border
    mass[ids == 0] = 0
    return labels, ids, mass


def digit_mask(ink: torch.Tensor) -> torch.Tensor:
    """1 on the digit's strokes (and a 1-pixel rim for their soft edges), 0 on specks and marks elsewhere.

    Each connected stroke scores the ink of its strong pixels (above STRONG): a pen stroke is mostly
    strong, while what is left of a soft shadow edge is wide but faint. A stroke that touches the
    image's border scores a third: that is where such leftovers gather, and rarely where a digit is.
    Keeps the best stroke, and every other stroke with at least a tenth of its score that lies within
    half the digit's height of it (a broken 4 or 5 stays whole).
    """
    labels, ids, mass = _stroke_scores(ink)
    main = int(mass.argmax())
    keep = labels == ids[main]
    rows, cols = keep.any(1).nonzero().flatten(), keep.any(0).nonzero().flatten()
    reach = 0.5 * float(rows[-1] - rows[0] + 1)
    top, bottom, left, right = rows[0] - reach, rows[-1] + reach, cols[0] - reach, cols[-1] + reach
    for i, label in enumerate(ids.tolist()):
        if label == 0 or i == main or mass[i] < 0.1 * mass[main]:
            continue
        ys, xs = (labels == label).nonzero().unbind(1)
        if ys.min() <= bottom and ys.max() >= top and xs.min() <= right and xs.max() >= left:
            keep |= labels == label
    return _max_filter(keep.float(), 3)


def digit_masks(ink: torch.Tensor, border: float = 3.0) -> list[torch.Tensor]:
    """A mask per digit (as ``digit_mask``'s), left to right.

    The strokes that count are the best stroke (as in ``digit_mask``) and every stroke with at least 4% of its
    score whose rows overlap the best one's, widened by half its height: the row a number is written in.
    Strokes are then joined left to right while they overlap or lie within GAP digit heights of each other (the
    pieces of a broken 4 or 5 overlap); each run of joined strokes is a digit. A digit is kept when it is at
    least half as tall as the best stroke: a speck or a stray mark in the row is not a digit. ``border``
    divides the score of strokes that touch the image's border; with none left to choose from, the list is empty.
    """
    labels, ids, mass = _stroke_scores(ink, border)
    main = int(mass.argmax())
    if mass[main] <= 0:
        return []
    (top, bottom), _ = _bounds(labels == ids[main])
    height = bottom - top + 1
    strokes = []  # (left, right, top, bottom, score, label) of each stroke in the main one's row
    for i, label in enumerate(ids.tolist()):
        if label == 0 or mass[i] < 0.04 * mass[main]:  # a thin 1 beside a bold 8 has a tenth of its ink
            continue
        (t, b), (left, right) = _bounds(labels == label)
        if b >= top - 0.5 * height and t <= bottom + 0.5 * height:
            strokes.append((left, right, t, b, float(mass[i]), label))
    digits: list[list[tuple]] = []
    for stroke in sorted(strokes):
        if digits and stroke[0] <= max(s[1] for s in digits[-1]) + GAP * height:
            digits[-1].append(stroke)
        else:
            digits.append([stroke])
    masks = []
    for group in digits:
        tall = max(s[3] for s in group) - min(s[2] for s in group) + 1
        if any(s[5] == ids[main] for s in group) or tall >= 0.5 * height:
            keep = torch.isin(labels, torch.tensor([s[5] for s in group], dtype=labels.dtype))
            masks.append(_max_filter(keep.float(), 3))
    return masks


def centre_like_mnist(x: torch.Tensor) -> torch.Tensor:
    """Ink (H, W) in [0, 1] -> (28, 28): bounding box scaled to fit 20x20, centre of mass at the centre."""
    rows = (x > INK).any(1).nonzero().flatten()
    cols = (x > INK).any(0).nonzero().flatten()
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
