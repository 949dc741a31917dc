"""How a model is trained, separate from what it is: the hyperparameters that decide its final accuracy."""

from __future__ import annotations

from dataclasses import dataclass, field

from s6.models.augment import Augment, Jitter


@dataclass(frozen=True)
class Recipe:
    """How a model is trained: everything that decides its final accuracy."""

    epochs: int  # passes over the 60,000 training images
    batch_size: int  # images per optimiser step
    max_lr: float  # peak learning rate of the one-cycle schedule
    momentum: tuple[float, float] = (0.85, 0.95)  # SGD momentum, cycled against the learning rate: the second
    # at the start and the end, the first at the peak (s6.training.train.one_cycle, as torch's OneCycleLR cycles it)
    nesterov: bool = True  # Nesterov momentum: the gradient taken a momentum step ahead
    weight_decay: float = 0.0  # L2 penalty on all weights, per step
    warmup: float = 0.2  # fraction of all steps spent rising to max_lr
    start_div: float = 10.0  # the schedule starts at max_lr / start_div ...
    end_div: float = 100.0  # ... and ends at that start / end_div: max_lr / 1,000 with these defaults
    anneal: str = "linear"  # shape of the rise and the fall: "linear" or "cos"
    augment: Augment | None = field(default_factory=Augment)  # None: no augmentation
    clean_epochs: int = 0  # the last N epochs train on the images as they are: the test digits are not jittered

    def jitter(self, epochs: int) -> Jitter:
        """The augmentation schedule of a run of ``epochs``: ``augment`` in every epoch but the last
        ``clean_epochs``."""
        return Jitter(self.augment, epochs - self.clean_epochs + 1 if self.clean_epochs else None)


def clean_tail(recipe: Recipe) -> str:
    """The recipe's un-augmented epochs, in words: "the last epoch", "the last 2 epochs"."""
    return "the last epoch" if recipe.clean_epochs == 1 else f"the last {recipe.clean_epochs} epochs"
