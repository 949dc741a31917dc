"""Ink -> MNIST-like 28x28 digits, left to right: what a model trained on MNIST can read.

The second job of reading your own digits, after s6.inference.ink has found the ink:

4. the digits' own strokes: the connected stroke with the most strong ink, and strokes of similar
   weight in the same row, are kept; specks, leftovers along the image's border and noise elsewhere
   are dropped. Strokes that overlap left to right are one digit; a gap between them separates two,
   so a number is read digit by digit, left to right;
5. a small find in a large photo (a digit that was a few pixels across after the image was shrunk) is
   prepared again, ink included, on a crop of the full-resolution image around it;
6. as MNIST: each digit's bounding box is scaled to fit 20x20, keeping its aspect, and placed on a
   28x28 black canvas with its centre of mass at the centre.

``to_mnist_digits`` does all six steps; ``python -m s6 predict``, the demo page and the photo benchmark all read
an image through it (s6.inference.predict.Classifier).
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from PIL import Image

from s6 import S6Error
from s6.inference.ink import ink_is_dark, ink_strength, max_filter, pixels_of, shrink

INK = 0.2  # ink strength (0..1) above which a pixel counts for the digit's bounding box
STROKE = 0.35  # ink strength (0..1) above which a pixel is part of a stroke, for finding the digit's strokes
STRONG = 0.6  # ink strength (0..1) of a stroke's confident pixels, which decide which strokes are the digit
SMALL = 0.25  # digits spanning less than this fraction of a shrunk image are prepared again from a full-size crop
LARGE = 4  # a photo shrunk this many times or more is large: there a stroke touching its border is not a digit
GAP = 0.1  # strokes this far apart left to right (in digit heights) or closer are parts of one digit


def to_mnist_digits(image: Image.Image, name: str = "image") -> list[torch.Tensor]:
    """A grayscale PIL image -> each digit in it, left to right, as a (28, 28) float tensor in [0, 1]: a light digit
    on black, centred like MNIST.

    The image is searched at the working size first; when what it finds spans less than SMALL of it and the
    image was shrunk, the search is repeated on a crop of the full-resolution image around the find, so a digit
    that became a few pixels across is prepared from its own pixels.
    """
    pixels = pixels_of(image)
    x = shrink(pixels)
    dark = ink_is_dark(pixels)  # the page's, so the crop below keeps it
    ink = ink_strength(x, dark, name)
    large = max(pixels.shape) >= LARGE * max(x.shape)
    # In a large photo a shadow's edge along the border outweighs a small digit: there, first, border strokes score 0.
    masks = (large and digit_masks(ink, float("inf"), name)) or digit_masks(ink, name=name)
    if x.shape != pixels.shape:
        rows, cols = bounds(sum(masks) > 0)
        extent = max(rows[1] - rows[0], cols[1] - cols[0]) + 1
        if extent < SMALL * max(x.shape):
            scale = pixels.shape[0] / x.shape[0]
            margin = extent  # a digit's own size of paper on every side: enough to see the page around it
            top, bottom = (round(scale * v) for v in (max(0, rows[0] - margin), rows[1] + 1 + margin))
            left, right = (round(scale * v) for v in (max(0, cols[0] - margin), cols[1] + 1 + margin))
            x = shrink(pixels[top:bottom, left:right])
            ink = ink_strength(x, dark, name)
            masks = digit_masks(ink, name=name)
    return [centre_like_mnist(ink * mask) for mask in masks]


def bounds(mask: torch.Tensor) -> tuple[tuple[int, int], tuple[int, int]]:
    """((first row, last row), (first column, last column)) of a non-empty boolean mask."""
    rows, cols = mask.any(1).nonzero().flatten(), mask.any(0).nonzero().flatten()
    return (int(rows[0]), int(rows[-1])), (int(cols[0]), int(cols[-1]))


def _components(mask: torch.Tensor) -> torch.Tensor:
    """8-connected components of a boolean mask: each pixel gets its component's largest flat index + 1, else 0.

    Each pass spreads the largest label one pixel, then lets each pixel take the label of the pixel its label
    names (pixel label - 1, in its own component): a label jumps along a stroke instead of crawling, so a long
    stroke needs far fewer passes (a 101x101 snake: 104 instead of 2,552; predict on a photo, about a third
    faster). The result is the same fixed point: every pixel of a component holds that component's largest label.
    """
    h, w = mask.shape
    labels = torch.where(mask, torch.arange(1, h * w + 1, dtype=torch.float32).reshape(h, w), torch.zeros(()))
    for _ in range(h * w):  # stops when nothing changes
        spread = F.max_pool2d(labels[None, None], 3, stride=1, padding=1)[0, 0] * mask
        named = spread.flatten()[(spread.long() - 1).clamp(min=0)].reshape(h, w) * mask  # the named pixel's label
        spread = torch.maximum(spread, named)
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


def digit_masks(ink: torch.Tensor, border: float = 3.0, name: str = "image") -> list[torch.Tensor]:
    """A mask per digit, left to right: 1 on its strokes (and a 1-pixel rim for their soft edges), 0 elsewhere.

    Each connected stroke scores the ink of its strong pixels (above STRONG): a pen stroke is mostly strong,
    while what is left of a soft shadow edge is wide but faint. A stroke that touches the image's border scores a
    ``border``-th (a third; infinity: nothing), since that is where such leftovers gather, and rarely where a digit
    is. The strokes that count are the best stroke and every stroke with at least 4% of its score whose rows
    overlap the best one's, widened by half its height: the row a number is written in. Strokes are then joined
    left to right while they overlap or lie within GAP digit heights of each other (the pieces of a broken 4 or 5
    overlap); each run of joined strokes is a digit. A digit is kept when it is at least half as tall as the best
    stroke: a speck or a stray mark in the row is not a digit. With no stroke left to choose from, the list is
    empty. Raises S6Error when digit-sized marks stand in more than one row (a page of digits): read as one row,
    its rows would merge into a wrong number.
    """
    labels, ids, mass = _stroke_scores(ink, border)
    main = int(mass.argmax())
    if mass[main] <= 0:
        return []
    (top, bottom), _ = bounds(labels == ids[main])
    height = bottom - top + 1
    strokes = []  # (left, right, top, bottom, score, label) of each stroke in the main one's row
    marks = []  # (top, bottom) of every digit-sized stroke, in any row
    for i, label in enumerate(ids.tolist()):
        if label == 0 or mass[i] < 0.04 * mass[main]:  # a thin 1 beside a bold 8 has a tenth of its ink
            continue
        (t, b), (left, right) = bounds(labels == label)
        if b - t + 1 >= 0.5 * height:
            marks.append((t, b))
        if b >= top - 0.5 * height and t <= bottom + 0.5 * height:
            strokes.append((left, right, t, b, float(mass[i]), label))
    rows = _rows(marks)
    if len(marks) - max(map(len, rows), default=0) >= 2:  # one stray mark off a number's row is not a row
        raise S6Error(f"{name}: found {len(marks)} marks in {len(rows)} rows; s6 reads one row of digits: crop the "
                      "image to the number to read")
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
            masks.append(max_filter(keep.float(), 3))
    return masks


def _rows(marks: list[tuple[int, int]]) -> list[list[tuple[int, int]]]:
    """Marks (top, bottom) grouped into rows of writing, top to bottom: a mark joins a row when at least half its
    height lies within the row's rows so far (the next row of a page starts below that)."""
    rows: list[list[tuple[int, int]]] = []
    for t, b in sorted(marks):
        if rows:
            top, bottom = min(m[0] for m in rows[-1]), max(m[1] for m in rows[-1])
            if min(b, bottom) - max(t, top) + 1 >= 0.5 * (b - t + 1):
                rows[-1].append((t, b))
                continue
        rows.append([(t, b)])
    return rows


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
