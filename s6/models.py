"""The models, each a declarative list of named layers (its spec), built by one function, in a registry by name.

A spec says what a model is, layer by layer, with each output's size and receptive field beside it; ``Net`` turns
it into modules in that order, so the weights' names (``block1.0.weight``) and the order in which they are drawn
at initialisation follow from the list alone. How each model is trained is its recipe, in s6.recipe.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, replace

import torch
from torch import nn

from s6.recipe import check_model_name

# What every model here reads: pixels scaled to [0, 1], then normalised with these. Kept beside the models, not in
# the data module, because prediction needs them too (a checkpoint records them; s6.checkpoint).
MNIST_MEAN = 0.1307  # mean pixel of the 60k training images, in [0, 1]
MNIST_STD = 0.3081  # their standard deviation


@dataclass(frozen=True)
class Conv:
    """A plain convolution with a bias, then ReLU: Model-1's layer, with no normalisation."""

    width: int  # output channels
    kernel: int = 3  # 1: a 1x1 convolution, which mixes channels and sees no further


@dataclass(frozen=True)
class ConvBN:
    """3x3 convolution -> BatchNorm -> ReLU [-> Dropout]: the block of Model-2 and Model-3.

    ``separable`` splits the 3x3 convolution into a 3x3 filter per channel (depthwise) and a 1x1 that mixes the
    channels (pointwise): 9 * c_in + c_in * c_out weights instead of 9 * c_in * c_out, 792 instead of 5,184 at 24
    channels, which is how Model-3 stays wide under 4,000 parameters.
    """

    width: int  # output channels
    padding: int = 0  # 1: the map keeps its size; 0: it loses a pixel a side
    dropout: float = 0.0  # probability of zeroing a value, in training only
    pool: bool = False  # 2x2 max-pool the convolution's output, before BatchNorm and ReLU (they see a quarter of it)
    separable: bool = False  # depthwise 3x3, then pointwise 1x1
    groups: int = 1  # >1: the pointwise 1x1 in that many groups (1/groups of its weights), then a channel shuffle
    shortcut: bool = False  # add the block's input to its output (its centre, where the map shrank)


@dataclass(frozen=True)
class Pool:
    """2x2 max-pool: halves the map and doubles the jump between the pixels that follow."""


@dataclass(frozen=True)
class GAP:
    """Global average pooling: one value per channel, whatever the map's size."""


@dataclass(frozen=True)
class Head:
    """A 1x1 convolution from the last channels to the 10 class scores, instead of a dense layer."""


Layer = Conv | ConvBN | Pool | GAP | Head


class Dropout(nn.Dropout):
    """nn.Dropout with a mask that costs a quarter of the random numbers: each value's keep-or-drop is 16 random
    bits, four to a 64-bit word of PyTorch's generator, so the drop probability is p rounded to 1/65,536.

    Why: on a CPU, nn.Dropout draws one random number a value from a generator that runs on one core; in Model-2's
    training step those draws cost more than the BatchNorm layers (benchmarks/profile_step.py). Seeded and resumed
    like every other draw in s6, through torch's default generator.
    """

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if not self.training or self.p == 0:
            return x
        words = torch.empty((x.numel() + 3) // 4, dtype=torch.int64, device=x.device).random_(-(2**63), None)
        bits = words.view(torch.int16)[: x.numel()]  # uniform in [-32768, 32767]
        if x.dim() == 4 and x.is_contiguous(memory_format=torch.channels_last) and not x.is_contiguous():
            n, c, h, w = x.shape
            bits = bits.view(n, h, w, c).permute(0, 3, 1, 2)  # the mask in the maps' own memory order
        else:
            bits = bits.view(x.shape)
        keep = bits >= -32768 + round(self.p * 65536)
        return x * (keep * (1 / (1 - self.p)))


@dataclass(frozen=True)
class Spec:
    """A model: its layers in the order forward() calls them, by name."""

    layers: tuple[tuple[str, Layer], ...]
    he_init: bool = False  # He (Kaiming) normal weights and zero biases, instead of PyTorch's default
    channels_last: bool = False  # weights and maps stored channel-innermost (NHWC), whatever the machine

    def changed(self, names: Iterable[str], **changes: object) -> Spec:
        """This spec with ``changes`` made to the named layers: how a benchmark writes a variant of a model."""
        names = set(names)
        return replace(self, layers=tuple((name, replace(layer, **changes) if name in names else layer)
                                          for name, layer in self.layers))

    def names(self, kind: type, after: str | None = None) -> list[str]:
        """The names of the layers of one kind, all of them or only those after the layer named ``after``."""
        start = 0 if after is None else [name for name, _ in self.layers].index(after) + 1
        return [name for name, layer in self.layers[start:] if isinstance(layer, kind)]


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
# pooling it first leaves those layers a quarter of it (the 24x24 layer of Model-1's order did 58% of the
# arithmetic). Its 8 channels fill one vector register of a CPU, which 10 did not. The width is spent after the
# pool (16 to 24 channels), on maps of 11x11 and smaller where it is cheap. A little Dropout, on the last two 5x5
# maps only: a five-epoch schedule needs its capacity more than more regularisation (docs/models.md). Maps are
# stored channels-last, where the CPU's convolution and pooling kernels are fastest for these sizes.
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

# Model-3, the tiny one: under 4,000 parameters, width bought with separable convolutions, so it stays 20-24
# channels wide with a fifth of Model-2's parameters. Model-1's order otherwise (two convolutions before the pool),
# without the 1x1 squeeze or Dropout (a model this small underfits rather than overfits), and a longer schedule.
MODEL3 = Spec((
    ("block1", ConvBN(10)),  # 28 -> 26, RF 3
    ("block2", ConvBN(20, separable=True)),  # 26 -> 24, RF 5
    ("pool", Pool()),  # 24 -> 12, RF 6
    ("block3", ConvBN(24, separable=True)),  # 12 -> 10, RF 10
    ("block4", ConvBN(24, separable=True)),  # 10 -> 8, RF 14
    ("block5", ConvBN(24, separable=True)),  # 8 -> 6, RF 18
    ("block6", ConvBN(24, padding=1, separable=True)),  # 6 -> 6, RF 22
    ("gap", GAP()),  # 6 -> 1, RF 32
    ("head", Head()),  # 24 -> 10 class scores
))

MODELS: dict[str, Spec] = {"model1": MODEL1, "model2": MODEL2, "model3": MODEL3}  # recipes: s6.recipe


def make_layer(layer: Layer, c_in: int) -> nn.Module:
    """The modules of one layer, reading ``c_in`` channels."""
    if isinstance(layer, Conv):
        return nn.Conv2d(c_in, layer.width, layer.kernel)
    if isinstance(layer, ConvBN):
        if layer.separable:
            convs = [nn.Conv2d(c_in, c_in, 3, padding=layer.padding, groups=c_in, bias=False),
                     nn.Conv2d(c_in, layer.width, 1, groups=layer.groups, bias=False)]
            if layer.groups > 1:  # so that the next block's groups each see channels of every group of this one
                convs.append(nn.ChannelShuffle(layer.groups))
        else:
            convs = [nn.Conv2d(c_in, layer.width, 3, padding=layer.padding, bias=False)]  # BatchNorm has the bias
        dropout = [Dropout(layer.dropout)] if layer.dropout > 0 else []
        pool = [nn.MaxPool2d(2)] if layer.pool else []
        return nn.Sequential(*convs, *pool, nn.BatchNorm2d(layer.width), nn.ReLU(), *dropout)
    if isinstance(layer, Pool):
        return nn.MaxPool2d(2)
    if isinstance(layer, GAP):
        return nn.AdaptiveAvgPool2d(1)
    if isinstance(layer, Head):
        return nn.Conv2d(c_in, 10, 1)
    raise TypeError(f"not a layer: {layer!r}")


def centre(x: torch.Tensor, size: int) -> torch.Tensor:
    """The central size x size pixels of a map: what a shortcut adds where an unpadded block shrank it."""
    edge = (x.shape[-1] - size) // 2
    return x[..., edge : edge + size, edge : edge + size]


class Net(nn.Module):
    """A model built from its spec: one module per named layer, called in the spec's order."""

    def __init__(self, spec: Spec) -> None:
        super().__init__()
        self.spec = spec
        channels = 1  # a grey image
        for name, layer in spec.layers:
            self.add_module(name, make_layer(layer, channels))
            channels = getattr(layer, "width", channels)
        if spec.he_init:
            for conv in self.modules():
                if isinstance(conv, nn.Conv2d):
                    nn.init.kaiming_normal_(conv.weight, nonlinearity="relu")
                    nn.init.zeros_(conv.bias)
        if spec.channels_last:
            self.to(memory_format=torch.channels_last)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.spec.channels_last:
            x = x.contiguous(memory_format=torch.channels_last)
        for (_, layer), module in zip(self.spec.layers, self.children(), strict=True):
            y = module(x)
            if isinstance(layer, Conv):
                y = torch.relu(y)
            if getattr(layer, "shortcut", False):
                y = y + centre(x, y.shape[-1])
            x = y
        return x.flatten(1)  # (batch, 10, 1, 1) -> (batch, 10) class scores


def build_model(name: str) -> nn.Module:
    """A fresh, randomly initialised model from the registry."""
    return Net(MODELS[check_model_name(name)])


def count_parameters(model: nn.Module) -> int:
    """Trainable parameters (BatchNorm's running statistics are buffers, not counted)."""
    return sum(p.numel() for p in model.parameters() if p.requires_grad)
