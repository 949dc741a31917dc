"""What a model is, in words torch never sees: its layers (a spec) and the pixels it reads.

A spec lists a model's layers in the order its forward pass calls them; ``s6.models.net.Net`` turns one into modules,
so the weights' names (``block1.0.weight``) and the order in which they are drawn follow from the list alone.
Torch-free, so the registry (s6.models.registry) and the command line can name and describe models without importing it.
"""

from __future__ import annotations

from dataclasses import dataclass

# What every model here reads: pixels scaled to [0, 1], then normalised with these. Here, where data, prediction and
# checkpoints can read them without importing torch or the models (a checkpoint records them; s6.training.checkpoint).
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


@dataclass(frozen=True)
class Spec:
    """A model: its layers in the order forward() calls them, by name."""

    layers: tuple[tuple[str, Layer], ...]
    he_init: bool = False  # He (Kaiming) normal weights and zero biases, instead of PyTorch's default
    channels_last: bool = False  # weights and maps stored channel-innermost (NHWC), whatever the machine
