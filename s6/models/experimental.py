"""Layers and spec edits that only the benchmarks' screens use: no other s6 module imports this one.

A layer defined here builds its own modules (``make``), which ``s6.models.net.Net`` calls in the spec's order like
any other layer's, so a variant's weights are drawn in the same order as its plain model's.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, fields, replace

import torch
from torch import nn

from s6.models.net import conv_bn_block, make_layer
from s6.models.spec import ConvBN, Layer, Spec


def changed(spec: Spec, names: Iterable[str], **changes: object) -> Spec:
    """``spec`` with ``changes`` made to the named layers: how a benchmark writes a variant of a model."""
    names = set(names)
    return replace(spec, layers=tuple((name, replace(layer, **changes) if name in names else layer)
                                      for name, layer in spec.layers))


def converted(spec: Spec, names: Iterable[str], kind: type, **extra: object) -> Spec:
    """``spec`` with the named layers turned into ``kind`` (a subclass of theirs), their fields kept."""
    names = set(names)

    def convert(layer: Layer) -> Layer:
        return kind(**{f.name: getattr(layer, f.name) for f in fields(layer)}, **extra)

    return replace(spec, layers=tuple((name, convert(layer) if name in names else layer)
                                      for name, layer in spec.layers))


def layer_names(spec: Spec, kind: type, after: str | None = None) -> list[str]:
    """The names of the layers of one kind, all of them or only those after the layer named ``after``."""
    start = 0 if after is None else [name for name, _ in spec.layers].index(after) + 1
    return [name for name, layer in spec.layers[start:] if isinstance(layer, kind)]


def centre(x: torch.Tensor, size: int) -> torch.Tensor:
    """The central size x size pixels of a map: what a shortcut adds where an unpadded block shrank it."""
    edge = (x.shape[-1] - size) // 2
    return x[..., edge : edge + size, edge : edge + size]


class Shortcut(nn.Module):
    """A block whose input is added to its output (its centre, where the map shrank): no parameter of its own."""

    def __init__(self, block: nn.Module) -> None:
        super().__init__()
        self.block = block

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = self.block(x)
        return y + centre(x, y.shape[-1])


@dataclass(frozen=True)
class ShortcutConvBN(ConvBN):
    """A ConvBN block with an identity shortcut around it (ResNet)."""

    def make(self, c_in: int) -> nn.Module:
        return Shortcut(make_layer(ConvBN(**{f.name: getattr(self, f.name) for f in fields(ConvBN)}), c_in))


@dataclass(frozen=True)
class GroupedConvBN(ConvBN):
    """A separable ConvBN block whose pointwise 1x1 runs in ``groups`` groups (1/groups of its weights), then a
    channel shuffle, so that the next block's groups each see channels of every group of this one (ShuffleNet)."""

    groups: int = 2

    def make(self, c_in: int) -> nn.Module:
        return conv_bn_block(self, [nn.Conv2d(c_in, c_in, 3, padding=self.padding, groups=c_in, bias=False),
                                    nn.Conv2d(c_in, self.width, 1, groups=self.groups, bias=False),
                                    nn.ChannelShuffle(self.groups)])
