"""What one run does, besides its model's recipe: the plan, checked in full before anything slow happens, and saved
in the run's checkpoint so that a resumed run does the same."""

from __future__ import annotations

from dataclasses import dataclass

from s6 import S6Error
from s6.models.registry import DEFAULT_MODEL, check_model_name, recipe_for

TRAIN_IMAGES = 60000  # MNIST's training set


@dataclass(frozen=True)
class Plan:
    """What one run does, besides its model's recipe: saved in its checkpoint, so a resumed run does the same."""

    model: str  # a name in the registry (s6.models.registry), whose entry holds its spec and recipe
    seed: int  # seeds the weights, the shuffling, the augmentation and Dropout
    epochs: int  # passes over the training images: the recipe's, unless asked otherwise
    train_subset: int | None  # train on the first N of the 60,000 training images; None: all
    loader: str  # "tensor" (the data on the device) or "torchvision" (DataLoader and PIL transforms)
    validation: int | None = None  # hold out the last N training images and evaluate on them, not on the test set


def plan_from(saved: dict, requested: dict) -> Plan:
    """A checkpoint's saved plan; any setting the caller asked for explicitly must agree with it."""
    plan = Plan(**saved)
    for key, value in requested.items():
        if value is not None and value != getattr(plan, key):
            raise S6Error(f"--resume continues the saved plan ({key} = {getattr(plan, key)}); drop the {key} you "
                          f"gave ({value})")
    return plan


def new_plan(model: str | None = None, seed: int | None = None, epochs: int | None = None,
             train_subset: int | None = None, loader: str | None = None, validation: int | None = None) -> Plan:
    """What a fresh run will do: the settings given, the default model and its recipe for the rest; S6Error for a
    setting no run can have."""
    name = check_model_name(model or DEFAULT_MODEL)
    plan = Plan(model=name, seed=1 if seed is None else seed, epochs=epochs or recipe_for(name).epochs,
                train_subset=train_subset, loader=loader or "tensor", validation=validation)
    if plan.epochs <= 0:
        raise S6Error(f"epochs must be at least 1, got {plan.epochs}")
    if plan.validation is not None and not 0 < plan.validation < TRAIN_IMAGES:
        raise S6Error(f"--validation must be 1 to {TRAIN_IMAGES - 1:,} (of MNIST's {TRAIN_IMAGES:,} training images), "
                      f"got {plan.validation}")
    trainable = TRAIN_IMAGES - (plan.validation or 0)
    if plan.train_subset is not None and not 0 < plan.train_subset <= trainable:
        held = f" once --validation holds out {plan.validation:,}" if plan.validation else ""
        raise S6Error(f"--train-subset must be 1 to {trainable} (MNIST's training images{held}), "
                      f"got {plan.train_subset}")
    return plan
