"""Model-2's family at other widths, pools and Dropout, each a plain function that returns a PyTorch network: the
candidates of the validation screens (screen_model2.py, screen_model3.py) and the steps of bench_runtime.py.

Made of the layers Model-2 and Model-3 are made of (blocks.py), block by block in order, so one seed draws
the same weights as the model of the same layout in s6/models (tests/test_models.py holds screen_model3's chosen
candidate to Model-3, weight for weight). Nothing in the package exists for them.
"""

from __future__ import annotations

from collections import OrderedDict

import torch
from blocks import conv_bn, separable_bn
from torch import nn

from s6.models.registry import build_model
from s6.training.train import FastDropout

DROPOUT = 0.05  # the rate of every Dropout in Model-2's family


class Network(nn.Sequential):
    """Named blocks called in order, as Model-2's forward calls its own: the input stored channels-last when the
    weights are, and the (batch, 10, 1, 1) scores flattened to (batch, 10)."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if next(self.parameters()).is_contiguous(memory_format=torch.channels_last):
            x = x.contiguous(memory_format=torch.channels_last)
        return super().forward(x).flatten(1)


def model2_widths() -> tuple[int, ...]:
    """Model-2's block widths, read off its network: (8, 16, 20, 24, 24, 24)."""
    return tuple(m.num_features for m in build_model("model2").modules() if isinstance(m, nn.BatchNorm2d))


def pool_first(widths: tuple[int, ...], separable_from: int | None = None, dropout_after: tuple[int, ...] = (),
               channels_last: bool = True) -> Network:
    """Model-2's layout at other widths: block 1 max-pooled before its BatchNorm, the blocks after it unpadded but
    the last; Dropout after the blocks numbered ``dropout_after``; blocks ``separable_from`` on depthwise-separable;
    then global average pooling and a 1x1 head."""
    blocks, c_in = {}, 1
    for i, width in enumerate(widths, 1):
        padding, dropout = int(i == len(widths)), DROPOUT if i in dropout_after else 0.0
        if separable_from is not None and i >= separable_from:
            blocks[f"block{i}"] = separable_bn(c_in, width, padding, dropout)
        else:
            blocks[f"block{i}"] = conv_bn(c_in, width, padding, pool=i == 1, dropout=dropout)
        c_in = width
    return with_head(blocks, c_in, channels_last)


def pool_after(widths: tuple[int, ...], dropout_after: tuple[int, ...]) -> Network:
    """Model-2 as it was at 558d71b: block 1 unpooled, then a max-pool layer of its own, channels-first."""
    blocks, c_in = {}, 1
    for i, width in enumerate(widths, 1):
        blocks[f"block{i}"] = conv_bn(c_in, width, int(i == len(widths)), dropout=DROPOUT if i in dropout_after else 0)
        blocks.update({"pool": nn.MaxPool2d(2)} if i == 1 else {})
        c_in = width
    return with_head(blocks, c_in, channels_last=False)


def with_head(blocks: dict[str, nn.Module], c_in: int, channels_last: bool) -> Network:
    """``blocks``, then global average pooling and a 1x1 convolution from ``c_in`` channels to the 10 classes."""
    network = Network(OrderedDict({**blocks, "gap": nn.AdaptiveAvgPool2d(1), "head": nn.Conv2d(c_in, 10, 1)}))
    return network.to(memory_format=torch.channels_last) if channels_last else network


def with_torch_dropout(model: nn.Module) -> nn.Module:
    """``model`` with PyTorch's own Dropout (one random number a value) instead of s6's 16-bit masks."""
    for module in model.modules():
        for name, child in module.named_children():
            if isinstance(child, FastDropout):
                setattr(module, name, nn.Dropout(child.p))
    return model
