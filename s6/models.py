"""The models, each with its training recipe, in a registry by name."""

from __future__ import annotations

import torch
from torch import nn

from s6.recipe import check_model_name


def conv_bn(c_in: int, c_out: int, dropout: float, padding: int = 0, copies: int = 1) -> nn.Sequential:
    """3x3 convolution -> BatchNorm -> ReLU [-> Dropout]: the building block of Model-2/3.

    ``copies`` > 1 builds that many independent blocks side by side as one grouped layer
    (channels c_in * copies -> c_out * copies, groups=copies): how benchmarks/sweep_model3.py
    trains several seeds of a design at once. The models themselves use one copy.
    """
    layers = [nn.Conv2d(c_in * copies, c_out * copies, 3, padding=padding, groups=copies, bias=False),
              nn.BatchNorm2d(c_out * copies), nn.ReLU()]
    if dropout > 0:
        layers.append(nn.Dropout(dropout))
    return nn.Sequential(*layers)


def separable_bn(c_in: int, c_out: int, padding: int = 0, dropout: float = 0.0, copies: int = 1) -> nn.Sequential:
    """Depthwise 3x3 (one filter per channel) -> pointwise 1x1 -> BatchNorm -> ReLU [-> Dropout]: Model-3's block.

    ``copies`` as in ``conv_bn``.
    """
    layers = [
        nn.Conv2d(c_in * copies, c_in * copies, 3, padding=padding, groups=c_in * copies, bias=False),
        nn.Conv2d(c_in * copies, c_out * copies, 1, groups=copies, bias=False),
        nn.BatchNorm2d(c_out * copies),
        nn.ReLU(),
    ]
    if dropout > 0:
        layers.append(nn.Dropout(dropout))
    return nn.Sequential(*layers)


class Model1(nn.Module):
    """Model-1, the first working design: plain convolutions, no normalisation.

    The skeleton the later models build on: two 3x3 blocks that grow the receptive field,
    max-pool once edges and strokes exist (RF 6), a 1x1 convolution that squeezes the
    channels, three more 3x3 convolutions that see the whole digit, then global average
    pooling and a 1x1 classifier instead of a large dense layer (Model-2 moves the pool
    forward, Model-3 drops the squeeze). Without BatchNorm it
    needs a small learning rate and trains slowly; without Dropout or augmentation its
    train accuracy runs ahead of test accuracy. Model-2 fixes exactly those.
    """

    def __init__(self) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(1, 8, 3)  # 28 -> 26, RF 3
        self.conv2 = nn.Conv2d(8, 16, 3)  # 26 -> 24, RF 5
        self.pool = nn.MaxPool2d(2)  # 24 -> 12, RF 6
        self.squeeze = nn.Conv2d(16, 8, 1)  # 12 -> 12, RF 6
        self.conv3 = nn.Conv2d(8, 16, 3)  # 12 -> 10, RF 10
        self.conv4 = nn.Conv2d(16, 16, 3)  # 10 -> 8, RF 14
        self.conv5 = nn.Conv2d(16, 16, 3)  # 8 -> 6, RF 18
        self.gap = nn.AdaptiveAvgPool2d(1)  # 6 -> 1, RF 28
        self.head = nn.Conv2d(16, 10, 1)  # 16 -> 10 class scores
        for conv in self.modules():
            if isinstance(conv, nn.Conv2d):
                # He initialisation: with no BatchNorm to rescale them, activations must keep their size through
                # seven convolutions by themselves. PyTorch's default draws weights with a third of this variance,
                # so the signal shrinks layer by layer, and on some seeds the first large steps killed every ReLU.
                nn.init.kaiming_normal_(conv.weight, nonlinearity="relu")
                nn.init.zeros_(conv.bias)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = torch.relu(self.conv1(x))
        x = torch.relu(self.conv2(x))
        x = self.pool(x)
        x = torch.relu(self.squeeze(x))
        x = torch.relu(self.conv3(x))
        x = torch.relu(self.conv4(x))
        x = torch.relu(self.conv5(x))
        x = self.gap(x)
        x = self.head(x)
        return x.flatten(1)


class Model2(nn.Module):
    """Model-2, the final design: Model-1's pieces with BatchNorm, Dropout, and the pool moved forward.

    BatchNorm after every 3x3 convolution lets a one-cycle schedule use a large learning
    rate; a little Dropout and random affine augmentation close the gap between train and
    test accuracy; the head is still GAP and a 1x1 convolution. The max-pool comes right
    after the first convolution: in Model-1's order the 24x24 second layer did 58% of the
    arithmetic, and pooling first halves the work of an epoch. The channels then widen to 24
    in the last blocks, on maps of 11x11 and smaller where width costs little time: 19,584
    parameters instead of the first version's 11,096, which fell under 99.4% on some seeds
    (the per-seed record and how this was chosen: docs/models.md).
    Dropout sits only after the pool, where maps are small.
    """

    def __init__(self, dropout: float = 0.05) -> None:
        super().__init__()
        self.block1 = conv_bn(1, 10, 0.0)  # 28 -> 26, RF 3
        self.pool = nn.MaxPool2d(2)  # 26 -> 13, RF 4
        self.block2 = conv_bn(10, 16, 0.0)  # 13 -> 11, RF 8
        self.block3 = conv_bn(16, 20, dropout)  # 11 -> 9, RF 12
        self.block4 = conv_bn(20, 24, dropout)  # 9 -> 7, RF 16
        self.block5 = conv_bn(24, 24, dropout)  # 7 -> 5, RF 20
        self.block6 = conv_bn(24, 24, dropout, padding=1)  # 5 -> 5, RF 24
        self.gap = nn.AdaptiveAvgPool2d(1)  # 5 -> 1, RF 32
        self.head = nn.Conv2d(24, 10, 1)  # 24 -> 10 class scores

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.block1(x)
        x = self.pool(x)
        x = self.block2(x)
        x = self.block3(x)
        x = self.block4(x)
        x = self.block5(x)
        x = self.block6(x)
        x = self.gap(x)
        x = self.head(x)
        return x.flatten(1)


class Model3(nn.Module):
    """Model-3, the tiny one: under 4,000 parameters, width bought with separable convolutions.

    A full 3x3 convolution costs 9 * c_in * c_out weights; a depthwise-separable one
    (a 3x3 filter per channel, then a 1x1 that mixes channels) costs 9 * c_in + c_in * c_out.
    At 24 channels that is 792 weights instead of 5,184, so the model can stay 20-24 channels
    wide where Model-2 has 16, with a third of its parameters. Model-1's skeleton otherwise (two
    convolutions before the pool), without the 1x1 squeeze or Dropout (a model this small
    underfits rather than overfits), and a longer schedule.
    """

    def __init__(self) -> None:
        super().__init__()
        self.block1 = conv_bn(1, 10, 0.0)  # 28 -> 26, RF 3
        self.block2 = separable_bn(10, 20)  # 26 -> 24, RF 5
        self.pool = nn.MaxPool2d(2)  # 24 -> 12, RF 6
        self.block3 = separable_bn(20, 24)  # 12 -> 10, RF 10
        self.block4 = separable_bn(24, 24)  # 10 -> 8, RF 14
        self.block5 = separable_bn(24, 24)  # 8 -> 6, RF 18
        self.block6 = separable_bn(24, 24, padding=1)  # 6 -> 6, RF 22
        self.gap = nn.AdaptiveAvgPool2d(1)  # 6 -> 1, RF 32
        self.head = nn.Conv2d(24, 10, 1)  # 24 -> 10 class scores

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.block1(x)
        x = self.block2(x)
        x = self.pool(x)
        x = self.block3(x)
        x = self.block4(x)
        x = self.block5(x)
        x = self.block6(x)
        x = self.gap(x)
        x = self.head(x)
        return x.flatten(1)


MODELS: dict[str, type[nn.Module]] = {"model1": Model1, "model2": Model2, "model3": Model3}  # recipes: s6.recipe


def build_model(name: str) -> nn.Module:
    """A fresh, randomly initialised model from the registry."""
    return MODELS[check_model_name(name)]()


def count_parameters(model: nn.Module) -> int:
    """Trainable parameters (BatchNorm's running statistics are buffers, not counted)."""
    return sum(p.numel() for p in model.parameters() if p.requires_grad)
