"""The screens' building blocks: a 3x3 convolution (whole or depthwise-separable) followed by BatchNorm and ReLU, the
layers of Model-2 and Model-3 (s6/models/) in the same order, so one seed draws the same weights for a candidate of
the same layout. Dropout here is s6's FastDropout, as training makes every nn.Dropout (s6.training.train.speed_up)."""

from __future__ import annotations

from torch import nn

from s6.training.train import FastDropout


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
