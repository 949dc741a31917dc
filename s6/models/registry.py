"""The registry: every model by name, each entry its display name, the file that writes it, its goal and role,
and the default.

The one list of the models. The command line, training, prediction, the report and the notebook read it, so a new
model is a file in this folder (its ``Net`` and its ``RECIPE``, as s6/models/model2.py writes them) and one ``Entry``
here (plus its prose in docs/models.md). Torch-free: a model's file is imported when the model is built or its
recipe read, so the command line lists the models without paying for the torch import.
"""

from __future__ import annotations

from dataclasses import dataclass
from importlib import import_module
from typing import TYPE_CHECKING

from s6 import S6Error
from s6.models.recipe import Recipe

if TYPE_CHECKING:
    from torch import nn

EXERCISE_ACCURACY = 99.4  # the exercise's test accuracy, in %, at the final epoch: figures draw every model against it
# The course's next exercise, which Model-3 answers: the same accuracy "consistently shown in the last few epochs"
# (Model-3's Goal.last), with fewer parameters and epochs.
NEXT_PARAMETERS = 8000  # fewer than this many trainable parameters
NEXT_EPOCHS = 15  # at most this many epochs
NEXT_MODEL = "model3"  # the model that answers it


@dataclass(frozen=True)
class Goal:
    """A model's goal past the exercise, on each role's seeds: every seed's test accuracy at least ``min`` % in each
    of its last ``last`` epochs, and their final mean at least ``mean`` % (None: no goal for the mean). README's
    verdicts are generated from it (s6.results.seeds), so no page can claim it missed."""

    min: float
    mean: float | None = None
    last: int = 1  # 3: "consistently shown in the last few epochs", as the course's next exercise asks


@dataclass(frozen=True)
class Entry:
    """One model: how README writes it, what it is, how it is trained and what it aims at."""

    display: str  # "Model-2": in prose, titles and tables
    module: str  # "s6.models.model2": the file that writes its network (class Net) and its recipe (RECIPE)
    goal: Goal | None = None  # its goal past the exercise, if it has one
    role: str = ""  # what it is for, in a few words: README's model table

    @property
    def recipe(self) -> Recipe:
        """How it is trained (epochs, batch, schedule, augmentation): its file's RECIPE."""
        return import_module(self.module).RECIPE

    def network(self) -> nn.Module:
        """A fresh, randomly initialised instance of its file's ``Net``."""
        return import_module(self.module).Net()


REGISTRY: dict[str, Entry] = {
    "model1": Entry("Model-1", "s6.models.model1", role="the first working skeleton"),
    "model2": Entry("Model-2", "s6.models.model2", Goal(min=EXERCISE_ACCURACY, mean=99.55), role="the final design"),
    "model3": Entry("Model-3", "s6.models.model3", Goal(min=EXERCISE_ACCURACY, last=3),
                    role="the next exercise: < 8,000 parameters, ≤ 15 epochs"),
}
DEFAULT_MODEL = "model2"  # what `s6 train`, `summary`, predict and the demo use when no model is named


def register(name: str, entry: Entry) -> None:
    """Add a model (an experiment, a test's throwaway one) under ``name``; a name already taken is refused."""
    if name in REGISTRY:
        raise S6Error(f"a model named {name!r} is already registered")
    REGISTRY[name] = entry


def check_model_name(name: str) -> str:
    if name not in REGISTRY:
        raise S6Error(f"unknown model {name!r}; choose one of: {', '.join(REGISTRY)}")
    return name


def recipe_for(name: str) -> Recipe:
    return REGISTRY[check_model_name(name)].recipe


def build_model(name: str) -> nn.Module:
    """A fresh, randomly initialised model from the registry."""
    return REGISTRY[check_model_name(name)].network()


def display_name(name: str) -> str:
    """``model2`` as a reader sees it, ``Model-2``; a name outside the registry (an experiment) as it is."""
    return REGISTRY[name].display if name in REGISTRY else name
