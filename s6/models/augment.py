"""The training images' jitter, defined, scheduled and applied in one place: ``Augment`` says how far a digit may
turn, shift and zoom (a recipe holds one), ``Jitter`` in which epochs of a run, ``random_affine`` moves a batch by
that much. Torch is imported when a batch is moved, not with this module, so the registry that names each model's
augmentation stays torch-free.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import cache
from typing import TYPE_CHECKING

from s6.models import MNIST_MEAN, MNIST_STD

if TYPE_CHECKING:
    import torch


@dataclass(frozen=True)
class Augment:
    """Random affine jitter for handwritten digits (no flips: a flipped 2 is not a 2)."""

    degrees: float = 7.0  # max rotation, either way, in degrees
    translate: float = 0.1  # max shift, either way, as a fraction of the image side
    scale: float = 0.1  # max zoom in or out, as a fraction


@dataclass(frozen=True)
class Jitter:
    """A run's augmentation schedule, epoch by epoch: ``augment`` in every epoch before ``clean_from``, none from
    that epoch on (a recipe's clean last epochs, which train on the digits as the test set shows them). The
    training loaders read it for the epoch they are told (s6.training.data)."""

    augment: Augment | None  # None: no epoch is jittered
    clean_from: int | None = None  # the first epoch (1-based) trained on the images as they are; None: none is

    def of(self, epoch: int) -> Augment | None:
        """The jitter epoch ``epoch`` trains with."""
        return self.augment if self.clean_from is None or epoch < self.clean_from else None


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
    grid = affine_grid(theta, x.shape[-2], x.shape[-1])
    background = -MNIST_MEAN / MNIST_STD  # a black pixel after normalisation
    moved = F.grid_sample(x - background, grid, mode="bilinear", padding_mode="zeros", align_corners=False)
    return moved + background


def affine_grid(theta: torch.Tensor, height: int, width: int) -> torch.Tensor:
    """``F.affine_grid(theta, (N, C, height, width), align_corners=False)``, bit for bit, in half its time: the
    pixel centres' grid is built once per size instead of once per batch (1.2 ms a batch of 128 on the AVX2 EPYC,
    a tenth of an epoch's augmentation; benchmarks/profile_run.py)."""
    n = theta.shape[0]
    base = pixel_centres(height, width, theta.dtype, theta.device)
    return base.view(1, height * width, 3).expand(n, -1, -1).bmm(theta.transpose(1, 2)).view(n, height, width, 2)


@cache
def pixel_centres(height: int, width: int, dtype: torch.dtype, device: torch.device) -> torch.Tensor:
    """(height, width, 3): each pixel centre's (x, y, 1) in affine_grid's [-1, 1] coordinates, computed as ATen's
    affine_grid_generator computes them (linspace, then scaled by (size - 1) / size), so the grids are equal."""
    import torch

    def centres(size: int) -> torch.Tensor:
        if size == 1:
            return torch.zeros(1, dtype=dtype, device=device)
        return torch.linspace(-1, 1, size, dtype=dtype, device=device) * (size - 1) / size

    base = torch.empty(height, width, 3, dtype=dtype, device=device)
    base[..., 0] = centres(width)
    base[..., 1] = centres(height).unsqueeze(-1)
    base[..., 2] = 1
    return base
