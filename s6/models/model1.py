"""Model-1, the first working design: plain convolutions, no normalisation.

The skeleton the later models build on: two 3x3 convolutions that grow the receptive field, a max-pool once edges
and strokes exist, a 1x1 convolution that squeezes the channels, three more 3x3 convolutions that see the whole
digit, then global average pooling and a 1x1 classifier instead of a large dense layer. Without BatchNorm it needs a
small learning rate and trains slowly; without Dropout or augmentation its train accuracy runs ahead of its test
accuracy (Model-2 fixes both).
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from s6.models.recipe import Recipe

# 15 epochs at a peak rate of 0.05: without BatchNorm a larger rate diverges on some seeds. No augmentation: the
# model to compare the later ones with. Every setting of its runs, nothing left to a default.
RECIPE = Recipe(
    epochs=15,  # passes over the 60,000 training images
    batch_size=128,  # images per optimiser step
    max_lr=0.05,  # peak learning rate of the one-cycle schedule
    warmup=0.2,  # fraction of all steps spent rising to max_lr
    start_div=10.0,  # the rate starts at max_lr / 10 ...
    end_div=100.0,  # ... and ends at that start / 100: max_lr / 1,000
    anneal="linear",  # the rise and the fall are straight lines
    momentum=(0.85, 0.95),  # SGD momentum (low, high), cycled against the rate: high at both ends, low at the peak
    nesterov=True,  # Nesterov momentum: the gradient taken a momentum step ahead
    weight_decay=0.0,  # no L2 penalty
    augment=None,  # the digits as they are, in every epoch
    clean_epochs=0,  # (no augmentation to leave out)
    tail_epochs=0,  # the one-cycle schedule runs to the last step
    ema=None,  # each epoch scores, and the run saves, the weights themselves
)


class Net(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(1, 8, 3)  # 28 -> 26, RF 3
        self.conv2 = nn.Conv2d(8, 16, 3)  # 26 -> 24, RF 5
        self.pool = nn.MaxPool2d(2)  # 24 -> 12, RF 6
        self.squeeze = nn.Conv2d(16, 8, 1)  # 12 -> 12, RF 6: mixes the channels, sees no further
        self.conv3 = nn.Conv2d(8, 16, 3)  # 12 -> 10, RF 10
        self.conv4 = nn.Conv2d(16, 16, 3)  # 10 -> 8, RF 14
        self.conv5 = nn.Conv2d(16, 16, 3)  # 8 -> 6, RF 18
        self.gap = nn.AdaptiveAvgPool2d(1)  # 6 -> 1, RF 28
        self.head = nn.Conv2d(16, 10, 1)  # 16 -> 10 class scores
        # He (Kaiming) initialisation: with no BatchNorm to rescale them, activations must keep their size through
        # seven convolutions by themselves. PyTorch's default draws weights with a third of that variance, so the
        # signal shrank layer by layer, and on some seeds the first large steps killed every ReLU.
        for conv in self.modules():
            if isinstance(conv, nn.Conv2d):
                nn.init.kaiming_normal_(conv.weight, nonlinearity="relu")
                nn.init.zeros_(conv.bias)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = F.relu(self.conv1(x))
        x = F.relu(self.conv2(x))
        x = self.pool(x)
        x = F.relu(self.squeeze(x))
        x = F.relu(self.conv3(x))
        x = F.relu(self.conv4(x))
        x = F.relu(self.conv5(x))
        x = self.gap(x)
        return self.head(x).flatten(1)  # (batch, 10, 1, 1) -> (batch, 10) class scores
