"""The training images' jitter, defined and applied in one place: ``Augment`` says how far a digit may turn, shift
and zoom (a recipe holds one), ``random_affine`` moves a batch by that much. Torch is imported when a batch is
moved, not with this module, so the registry that names each model's augmentation stays torch-free.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import TYPE_CHECKING

from s6.models.spec import MNIST_MEAN, MNIST_STD

if TYPE_CHECKING:
    import torch


@dataclass(frozen=True)
class Augment:
    """Random affine jitter for handwritten digits (no flips: a flipped 2 is not a 2)."""

    degrees: float = 7.0  # max rotation, either way, in degrees
    translate: float = 0.1  # max shift, either way, as a fraction of the image side
    scale: float = 0.1  # max zoom in or out, as a fraction


def random_affine(x: torch.Tensor, augment: Augment, generator: torch.Generator) -> torch.Tensor:
    """Rotate, shift and zoom every image of a normalised batch by its own random amount, up to ``augment``'s."""
    import torch  # here, not at the top: the registry reads Augment without paying for torch
    import torch.nn.functional as F

    draws = torch.rand(4, x.shape[0], generator=generator, device=x.device) * 2 - 1  # uniform in [-1, 1)
    angle = draws[0] * math.radians(augment.degrees)
    zoom = 1 + draws[1] * augment.scale
    shift_x = draws[2] * (2 * augment.translate)  # affine_grid spans [-1, 1]: 2 units per side
    shift_y = draws[3] * (2 * augment.translate)
    cos = torch.cos(angle) / zoom
    sin = torch.sin(angle) / zoom
    theta = torch.stack(
        [torch.stack([cos, -sin, shift_x], 1), torch.stack([sin, cos, shift_y], 1)], 1
    )
    grid = F.affine_grid(theta, list(x.shape), align_corners=False)
    background = -MNIST_MEAN / MNIST_STD  # a black pixel after normalisation
    moved = F.grid_sample(x - background, grid, mode="bilinear", padding_mode="zeros", align_corners=False)
    return moved + background
