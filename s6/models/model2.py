"""Model-2, the final design: Model-1's pieces with BatchNorm, Dropout and augmentation, built for a short schedule.

BatchNorm after every 3x3 convolution lets a one-cycle schedule use a large learning rate. The first convolution is
max-pooled at once, before its BatchNorm and ReLU: the 26x26 map is the largest there is, and pooling it first leaves
those layers a quarter of it (docs/models.md: what that layer cost). The width is spent after the pool (16 to 24
channels), on maps of 11x11 and smaller, where it is cheap.

``Net`` is plain PyTorch: it pastes into a notebook of your own as it is and trains with torch.optim. ``RECIPE`` is
s6's way to train it, written in two small dataclasses (s6/models/recipe.py, no imports of their own): leave it out
of a copy, or copy them too. s6 trains ``Net`` faster on a CPU by two changes that keep its weights' names
(s6.training.train.speed_up): the same training, though not bit for bit the same as a plain copy's (its cheaper
Dropout mask draws other random numbers).
"""

from __future__ import annotations

import torch
from torch import nn

from s6.models.recipe import Augment, Recipe

# How Model-2 is trained: every setting of its runs, nothing left to a default.
RECIPE = Recipe(
    epochs=5,  # passes over the 60,000 training images
    batch_size=128,  # images per optimiser step
    max_lr=0.3,  # peak learning rate of the one-cycle schedule: this large only because of BatchNorm
    warmup=0.2,  # fraction of all steps spent rising to max_lr
    start_div=10.0,  # the rate starts at max_lr / 10 ...
    end_div=100.0,  # ... and ends at that start / 100: max_lr / 1,000
    anneal="linear",  # the rise and the fall are straight lines
    momentum=(0.85, 0.95),  # SGD momentum (low, high), cycled against the rate: high at both ends, low at the peak
    nesterov=True,  # Nesterov momentum: the gradient taken a momentum step ahead
    weight_decay=1e-4,  # L2 penalty on every parameter (BatchNorm's and the head's bias too), per step
    augment=Augment(degrees=7.0, translate=0.1, scale=0.1),  # each training digit turned up to 7 degrees either way,
    # shifted up to a tenth of its side and zoomed up to 10% in or out, every epoch but the clean ones
    clean_epochs=1,  # the last epoch trains on the digits as they are, as the test set shows them
    tail_epochs=0,  # the one-cycle schedule runs to the last step
    ema=None,  # each epoch scores, and the run saves, the weights themselves
)


class Net(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        # Each block: a 3x3 convolution (no bias: BatchNorm's shift is one), BatchNorm, ReLU. Unpadded, a convolution
        # takes a pixel off each side of the map. Each comment: the map's side in -> out, and RF, the receptive field
        # (how many input pixels, per side, one output pixel sees).
        self.block1 = nn.Sequential(  # 28 -> 26 -> 13, RF 3 -> 4: max-pooled before BatchNorm and ReLU
            nn.Conv2d(1, 8, 3, bias=False), nn.MaxPool2d(2), nn.BatchNorm2d(8), nn.ReLU())
        self.block2 = nn.Sequential(  # 13 -> 11, RF 8
            nn.Conv2d(8, 16, 3, bias=False), nn.BatchNorm2d(16), nn.ReLU())
        self.block3 = nn.Sequential(  # 11 -> 9, RF 12
            nn.Conv2d(16, 20, 3, bias=False), nn.BatchNorm2d(20), nn.ReLU())
        self.block4 = nn.Sequential(  # 9 -> 7, RF 16
            nn.Conv2d(20, 24, 3, bias=False), nn.BatchNorm2d(24), nn.ReLU())
        # A little Dropout, on the last two 5x5 maps only: a five-epoch schedule needs its capacity more than more
        # regularisation (docs/models.md).
        self.block5 = nn.Sequential(  # 7 -> 5, RF 20
            nn.Conv2d(24, 24, 3, bias=False), nn.BatchNorm2d(24), nn.ReLU(), nn.Dropout(0.05))
        self.block6 = nn.Sequential(  # 5 -> 5, RF 24: padded, so the map keeps its size
            nn.Conv2d(24, 24, 3, padding=1, bias=False), nn.BatchNorm2d(24), nn.ReLU(), nn.Dropout(0.05))
        self.gap = nn.AdaptiveAvgPool2d(1)  # 5 -> 1, RF 32: global average pooling, one value a channel
        self.head = nn.Conv2d(24, 10, 1)  # 24 -> 10 class scores: a 1x1 convolution, no dense layer

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.block1(x)
        x = self.block2(x)
        x = self.block3(x)
        x = self.block4(x)
        x = self.block5(x)
        x = self.block6(x)
        x = self.gap(x)
        return self.head(x).flatten(1)  # (batch, 10, 1, 1) -> (batch, 10) class scores
