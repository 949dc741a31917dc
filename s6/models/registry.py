"""The registry: every model by name, each entry its display name, spec, recipe and goal, and the default.

The one list of the models. The command line, training, prediction, the report and the notebook read it, so a new
model is one ``Entry`` here (plus its prose in docs/models.md), and a new default is one name. Torch-free, so the
command line can list the models without paying for the torch import.
"""

from __future__ import annotations

from dataclasses import dataclass

from s6 import S6Error
from s6.models.recipe import Recipe
from s6.models.spec import GAP, Conv, ConvBN, Head, Pool, Spec

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
    verdicts are generated from it (s6.records.report), so no page can claim it missed."""

    min: float
    mean: float | None = None
    last: int = 1  # 3: "consistently shown in the last few epochs", as the course's next exercise asks


@dataclass(frozen=True)
class Entry:
    """One model: how README writes it, what it is, how it is trained and what it aims at."""

    display: str  # "Model-2": in prose, titles and tables
    spec: Spec  # its layers (s6.models.net.Net builds them)
    recipe: Recipe  # how it is trained (epochs, batch, schedule, augmentation)
    goal: Goal | None = None  # its goal past the exercise, if it has one
    role: str = ""  # what it is for, in a few words: README's model table


# Model-1, the first working design: plain convolutions, no normalisation. The skeleton the later models build on:
# two 3x3 convolutions that grow the receptive field, a max-pool once edges and strokes exist, a 1x1 convolution
# that squeezes the channels, three more 3x3 convolutions that see the whole digit, then global average pooling and
# a 1x1 classifier instead of a large dense layer. Without BatchNorm it needs a small learning rate and trains
# slowly; without Dropout or augmentation its train accuracy runs ahead of its test accuracy (Model-2 fixes both).
# He initialisation: with no BatchNorm to rescale them, activations must keep their size through seven
# convolutions by themselves. PyTorch's default draws weights with a third of that variance, so the signal shrank
# layer by layer, and on some seeds the first large steps killed every ReLU. Channels-last maps, as Model-2's: the
# CPU's kernels for its 26x26 and 24x24 convolutions are faster that way (docs/speed.md).
MODEL1 = Spec((
    ("conv1", Conv(8)),  # 28 -> 26, RF 3
    ("conv2", Conv(16)),  # 26 -> 24, RF 5
    ("pool", Pool()),  # 24 -> 12, RF 6
    ("squeeze", Conv(8, kernel=1)),  # 12 -> 12, RF 6
    ("conv3", Conv(16)),  # 12 -> 10, RF 10
    ("conv4", Conv(16)),  # 10 -> 8, RF 14
    ("conv5", Conv(16)),  # 8 -> 6, RF 18
    ("gap", GAP()),  # 6 -> 1, RF 28
    ("head", Head()),  # 16 -> 10 class scores
), he_init=True, channels_last=True)

# Model-2, the final design: Model-1's pieces with BatchNorm, Dropout and augmentation, built for a short schedule
# on a CPU. BatchNorm after every 3x3 convolution lets a one-cycle schedule use a large learning rate. The first
# convolution is max-pooled at once, before its BatchNorm and ReLU: the 26x26 map is the largest there is, and
# pooling it first leaves those layers a quarter of it (docs/models.md: what that layer cost). Its 8 channels fill
# one vector register of a CPU, which 10 did not. The width is spent after the pool (16 to 24 channels), on maps
# of 11x11 and smaller where it is cheap. A little Dropout, on the last two 5x5 maps only: a five-epoch schedule
# needs its capacity more than more regularisation (docs/models.md). Maps are stored channels-last, where the
# CPU's convolution and pooling kernels are fastest for these sizes.
MODEL2 = Spec((
    ("block1", ConvBN(8, pool=True)),  # 28 -> 26 -> 13, RF 3 -> 4
    ("block2", ConvBN(16)),  # 13 -> 11, RF 8
    ("block3", ConvBN(20)),  # 11 -> 9, RF 12
    ("block4", ConvBN(24)),  # 9 -> 7, RF 16
    ("block5", ConvBN(24, dropout=0.05)),  # 7 -> 5, RF 20
    ("block6", ConvBN(24, padding=1, dropout=0.05)),  # 5 -> 5, RF 24
    ("gap", GAP()),  # 5 -> 1, RF 32
    ("head", Head()),  # 24 -> 10 class scores
), channels_last=True)

# Model-3, the next exercise's answer: fewer than 8,000 parameters and at most 15 epochs, 99.4% in each of the last
# 3 epochs. Model-2's layout made smaller (the first convolution max-pooled at once, so the costly 26x26 map is
# pooled before its BatchNorm), its width bought with depthwise-separable convolutions after block 2: a 3x3 filter
# per channel, then a 1x1 that mixes them, 9 * c_in + c_in * c_out weights instead of 9 * c_in * c_out, so blocks
# 3-6 run 32 channels wide on maps of 9x9 and smaller. Chosen on the validation split over plain convolutions of the
# same layout at 3.8k, 5.6k and 7.5k parameters (docs/models.md: the frontier): as good as the largest, with fewer
# weights and a faster step. No Dropout (a model this small underfits rather than overfits). 12 epochs, the last 3
# on the images as they are, since all three must reach the bar; 12 keep a run within twice Model-2's time.
MODEL3 = Spec((
    ("block1", ConvBN(8, pool=True)),  # 28 -> 26 -> 13, RF 3 -> 4
    ("block2", ConvBN(12)),  # 13 -> 11, RF 8
    ("block3", ConvBN(32, separable=True)),  # 11 -> 9, RF 12
    ("block4", ConvBN(32, separable=True)),  # 9 -> 7, RF 16
    ("block5", ConvBN(32, separable=True)),  # 7 -> 5, RF 20
    ("block6", ConvBN(32, padding=1, separable=True)),  # 5 -> 5, RF 24
    ("gap", GAP()),  # 5 -> 1, RF 32
    ("head", Head()),  # 32 -> 10 class scores
), channels_last=True)

REGISTRY: dict[str, Entry] = {
    "model1": Entry("Model-1", MODEL1, Recipe(epochs=15, batch_size=128, max_lr=0.05, augment=None),
                    role="the first working skeleton"),
    "model2": Entry("Model-2", MODEL2, Recipe(epochs=5, batch_size=128, max_lr=0.3, weight_decay=1e-4, clean_epochs=1),
                    Goal(min=EXERCISE_ACCURACY, mean=99.55), role="the final design"),
    "model3": Entry("Model-3", MODEL3, Recipe(epochs=12, batch_size=128, max_lr=0.3, weight_decay=1e-4, clean_epochs=3),
                    Goal(min=EXERCISE_ACCURACY, last=3), role="the next exercise: < 8,000 parameters, ≤ 15 epochs"),
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


def display_name(name: str) -> str:
    """``model2`` as a reader sees it, ``Model-2``; a name outside the registry (an experiment) as it is."""
    return REGISTRY[name].display if name in REGISTRY else name
