"""The models as PyTorch modules: ``Net`` builds a spec (s6.models.spec) layer by layer, ``build_model`` a registered
model by name (s6.models.registry), with s6's cheaper Dropout.

``Net`` turns a spec into modules in the spec's order, so the weights' names (``block1.0.weight``) and the order
in which they are drawn at initialisation follow from the list alone.
"""

from __future__ import annotations

import torch
from torch import nn

from s6.models.registry import REGISTRY, check_model_name
from s6.models.spec import GAP, Conv, ConvBN, Head, Layer, Pool, Spec


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


def make_layer(layer: Layer, c_in: int) -> nn.Module:
    """The modules of one layer, reading ``c_in`` channels."""
    if isinstance(layer, Conv):
        return nn.Conv2d(c_in, layer.width, layer.kernel)
    if isinstance(layer, ConvBN):
        if layer.separable:
            convs = [nn.Conv2d(c_in, c_in, 3, padding=layer.padding, groups=c_in, bias=False),
                     nn.Conv2d(c_in, layer.width, 1, bias=False)]
        else:
            convs = [nn.Conv2d(c_in, layer.width, 3, padding=layer.padding, bias=False)]  # BatchNorm has the bias
        return conv_bn_block(layer, convs)
    if isinstance(layer, Pool):
        return nn.MaxPool2d(2)
    if isinstance(layer, GAP):
        return nn.AdaptiveAvgPool2d(1)
    if isinstance(layer, Head):
        return nn.Conv2d(c_in, 10, 1)
    raise TypeError(f"not a layer: {layer!r}")


def conv_bn_block(layer: ConvBN, convs: list[nn.Module]) -> nn.Sequential:
    """A ConvBN block from its convolutions: [max-pool ->] BatchNorm -> ReLU [-> Dropout], as ``layer`` says."""
    dropout = [Dropout(layer.dropout)] if layer.dropout > 0 else []
    pool = [nn.MaxPool2d(2)] if layer.pool else []
    return nn.Sequential(*convs, *pool, nn.BatchNorm2d(layer.width), nn.ReLU(), *dropout)


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
            x = module(x)
            if isinstance(layer, Conv):
                x = torch.relu(x)
        return x.flatten(1)  # (batch, 10, 1, 1) -> (batch, 10) class scores


def build_model(name: str) -> nn.Module:
    """A fresh, randomly initialised model from the registry."""
    return Net(REGISTRY[check_model_name(name)].spec)


def count_parameters(model: nn.Module) -> int:
    """Trainable parameters (BatchNorm's running statistics are buffers, not counted)."""
    return sum(p.numel() for p in model.parameters() if p.requires_grad)
