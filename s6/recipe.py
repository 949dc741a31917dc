"""How a model is trained, separate from what it is: the hyperparameters that decide its final accuracy."""

from __future__ import annotations

from dataclasses import dataclass, field

from s6 import S6Error


@dataclass(frozen=True)
class Augment:
    """Random affine jitter for handwritten digits (no flips: a flipped 2 is not a 2)."""

    degrees: float = 7.0  # max rotation, either way, in degrees
    translate: float = 0.1  # max shift, either way, as a fraction of the image side
    scale: float = 0.1  # max zoom in or out, as a fraction


@dataclass(frozen=True)
class Recipe:
    """How a model is trained: everything that decides its final accuracy."""

    epochs: int  # passes over the 60,000 training images
    batch_size: int  # images per optimiser step
    max_lr: float  # peak learning rate of the one-cycle schedule
    momentum: tuple[float, float] = (0.85, 0.95)  # SGD momentum, cycled against the learning rate: the second
    # at the start and the end, the first at the peak (OneCycleLR's own cycle, so the schedule never overrides it)
    nesterov: bool = True  # Nesterov momentum: the gradient taken a momentum step ahead
    weight_decay: float = 0.0  # L2 penalty on all weights, per step
    warmup: float = 0.2  # fraction of all steps spent rising to max_lr
    start_div: float = 10.0  # the schedule starts at max_lr / start_div ...
    end_div: float = 100.0  # ... and ends at that start / end_div: max_lr / 1,000 with these defaults
    anneal: str = "linear"  # shape of the rise and the fall: "linear" or "cos"
    augment: Augment | None = field(default_factory=Augment)  # None: no augmentation
    clean_epochs: int = 0  # the last N epochs train on the images as they are: the test digits are not jittered


# Each model's recipe, by the registry's names (s6.models builds each network). Kept apart from torch, so the
# command line can list the models without paying for the torch import.
RECIPES: dict[str, Recipe] = {
    "model1": Recipe(epochs=15, batch_size=128, max_lr=0.05, augment=None),
    "model2": Recipe(epochs=5, batch_size=128, max_lr=0.3, weight_decay=1e-4, clean_epochs=1),
    "model3": Recipe(epochs=19, batch_size=64, max_lr=0.2, weight_decay=5e-5),
}


DEFAULT_MODEL = "model2"  # what `s6 train`, `summary`, predict and the demo use when no model is named

# Each model's goal past the exercise, on each role's seeds: every final test accuracy at least "min" %, their mean
# at least "mean" %. README's verdicts are generated from these (s6.report), so no page can claim a goal missed.
GOALS: dict[str, dict[str, float]] = {"model2": {"min": 99.4, "mean": 99.55}, "model3": {"min": 99.4, "mean": 99.5}}

# How each model is written in prose, titles and tables ("Model-2"), where the code says "model2".
DISPLAY_NAMES: dict[str, str] = {"model1": "Model-1", "model2": "Model-2", "model3": "Model-3"}


def display_name(name: str) -> str:
    """``model2`` as a reader sees it, ``Model-2``; a name outside the registry (an experiment) as it is."""
    return DISPLAY_NAMES.get(name, name)


def clean_tail(recipe: Recipe) -> str:
    """The recipe's un-augmented epochs, in words: "the last epoch", "the last 2 epochs"."""
    return "the last epoch" if recipe.clean_epochs == 1 else f"the last {recipe.clean_epochs} epochs"


def check_model_name(name: str) -> str:
    if name not in RECIPES:
        raise S6Error(f"unknown model {name!r}; choose one of: {', '.join(RECIPES)}")
    return name


def recipe_for(name: str) -> Recipe:
    return RECIPES[check_model_name(name)]
