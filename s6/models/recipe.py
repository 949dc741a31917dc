"""How a model is trained, separate from what it is: the types of a model file's RECIPE.

Every field is required, so a model's file names every setting its runs use (airbench's ``hyp`` is the example):
nothing is switched on by a default a reader cannot see. Pure data: the schedule is computed from it by
s6.training.train.one_cycle, the augmentation applied by s6.training.data.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Augment:
    """Random affine jitter for handwritten digits (no flips: a flipped 2 is not a 2)."""

    degrees: float  # max rotation, either way, in degrees
    translate: float  # max shift, either way, as a fraction of the image side
    scale: float  # max zoom in or out, as a fraction


@dataclass(frozen=True)
class Recipe:
    """How a model is trained: everything that decides its final accuracy."""

    epochs: int  # passes over the 60,000 training images
    batch_size: int  # images per optimiser step
    max_lr: float  # peak learning rate of the one-cycle schedule
    warmup: float  # fraction of all steps spent rising to max_lr
    start_div: float  # the schedule starts at max_lr / start_div ...
    end_div: float  # ... and ends at that start / end_div
    anneal: str  # shape of the rise and the fall: "linear" or "cos"
    momentum: tuple[float, float]  # SGD momentum, cycled against the learning rate: the second at the start and
    # the end, the first at the peak (s6.training.train.one_cycle, as torch's OneCycleLR cycles it)
    nesterov: bool  # Nesterov momentum: the gradient taken a momentum step ahead
    weight_decay: float  # L2 penalty on all weights, per step
    augment: Augment | None  # how far training digits are jittered; None: not at all
    clean_epochs: int  # the last N epochs train on the images as they are: the test digits are not jittered
    tail_epochs: int  # the last N epochs train at the schedule's floor rate: the one-cycle ends N epochs early
    ema: float | None  # per-step decay of a moving average of the weights and BatchNorm buffers, which each epoch
    # scores and the run saves (0.999: each step moves it a thousandth of the way); None: the weights themselves
