"""The blocks Model-2 and Model-3 are built from, as plain PyTorch: a 3x3 convolution (whole or depthwise-separable)
followed by BatchNorm and ReLU, and a Dropout whose mask is cheaper to draw than nn.Dropout's."""

from __future__ import annotations

import torch
from torch import nn


class FastDropout(nn.Dropout):
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


def conv_bn(c_in: int, c_out: int, padding: int = 0, pool: bool = False, dropout: float = 0.0) -> nn.Sequential:
    """3x3 convolution -> [2x2 max-pool ->] BatchNorm -> ReLU [-> Dropout].

    No bias in the convolution: BatchNorm's shift is one. ``padding=1`` keeps the map's size, 0 loses a pixel a
    side. ``pool`` halves the map before BatchNorm and ReLU, which then see a quarter of it.
    """
    conv = nn.Conv2d(c_in, c_out, 3, padding=padding, bias=False)
    return after_conv([conv], c_out, pool, dropout)


def separable_bn(c_in: int, c_out: int, padding: int = 0, dropout: float = 0.0) -> nn.Sequential:
    """``conv_bn`` with its 3x3 convolution split in two: a 3x3 filter per channel (depthwise), then a 1x1 that
    mixes the channels (pointwise). 9 * c_in + c_in * c_out weights instead of 9 * c_in * c_out: 1,312 instead of
    9,216 from 32 channels to 32, which is how Model-3 runs 32 channels wide under 8,000 parameters."""
    depthwise = nn.Conv2d(c_in, c_in, 3, padding=padding, groups=c_in, bias=False)
    pointwise = nn.Conv2d(c_in, c_out, 1, bias=False)
    return after_conv([depthwise, pointwise], c_out, False, dropout)


def after_conv(convs: list[nn.Module], c_out: int, pool: bool, dropout: float) -> nn.Sequential:
    """The convolutions, then [max-pool ->] BatchNorm -> ReLU [-> Dropout], numbered in that order (block3.0 is
    the first convolution's weight in a checkpoint)."""
    pooled = [nn.MaxPool2d(2)] if pool else []
    dropped = [FastDropout(dropout)] if dropout > 0 else []
    return nn.Sequential(*convs, *pooled, nn.BatchNorm2d(c_out), nn.ReLU(), *dropped)
