"""Model-2, the final design: Model-1's pieces with BatchNorm, Dropout and augmentation, built for a short schedule
on a CPU.

BatchNorm after every 3x3 convolution lets a one-cycle schedule use a large learning rate. The first convolution is
max-pooled at once, before its BatchNorm and ReLU: the 26x26 map is the largest there is, and pooling it first leaves
those layers a quarter of it (docs/models.md: what that layer cost). Its 8 channels fill one vector register of a
CPU, which 10 did not. The width is spent after the pool (16 to 24 channels), on maps of 11x11 and smaller where it
is cheap.
"""

from __future__ import annotations

import torch
from torch import nn

from s6.models.blocks import conv_bn
from s6.models.recipe import Recipe

# Five epochs of one-cycle SGD to a peak rate of 0.3 (BatchNorm allows it), a little weight decay, and the images
# jittered in every epoch but the last, which trains on digits as the test set shows them.
RECIPE = Recipe(epochs=5, batch_size=128, max_lr=0.3, weight_decay=1e-4, clean_epochs=1)


class Net(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.block1 = conv_bn(1, 8, pool=True)  # 28 -> 26 -> 13, RF 3 -> 4
        self.block2 = conv_bn(8, 16)  # 13 -> 11, RF 8
        self.block3 = conv_bn(16, 20)  # 11 -> 9, RF 12
        self.block4 = conv_bn(20, 24)  # 9 -> 7, RF 16
        # A little Dropout, on the last two 5x5 maps only: a five-epoch schedule needs its capacity more than more
        # regularisation (docs/models.md).
        self.block5 = conv_bn(24, 24, dropout=0.05)  # 7 -> 5, RF 20
        self.block6 = conv_bn(24, 24, padding=1, dropout=0.05)  # 5 -> 5, RF 24
        self.gap = nn.AdaptiveAvgPool2d(1)  # 5 -> 1, RF 32
        self.head = nn.Conv2d(24, 10, 1)  # 24 -> 10 class scores
        # Maps stored channels-last, where the CPU's convolution and pooling kernels are fastest for these sizes.
        self.to(memory_format=torch.channels_last)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = x.contiguous(memory_format=torch.channels_last)
        x = self.block1(x)
        x = self.block2(x)
        x = self.block3(x)
        x = self.block4(x)
        x = self.block5(x)
        x = self.block6(x)
        x = self.gap(x)
        return self.head(x).flatten(1)  # (batch, 10, 1, 1) -> (batch, 10) class scores
