"""What a model looks like, read off the module itself: its parameter count, torchsummary's table, a receptive-field
table and README's table of blocks, each from a dummy image run through it or a walk over its layers."""

from __future__ import annotations

import contextlib
import io
from dataclasses import dataclass

import torch
from torch import nn

from s6 import plural
from s6.models.recipe import Augment, Recipe


def clean_tail(recipe: Recipe) -> str:
    """The recipe's un-augmented epochs, in words: "the last epoch", "the last 2 epochs"."""
    return "the last epoch" if recipe.clean_epochs == 1 else f"the last {recipe.clean_epochs} epochs"


def count_parameters(model: nn.Module) -> int:
    """Trainable parameters (BatchNorm's running statistics are buffers, not counted)."""
    return sum(p.numel() for p in model.parameters() if p.requires_grad)


@dataclass(frozen=True)
class RFRow:
    layer: str  # module name inside the model
    size: int  # output height (= width) in pixels
    rf: int  # receptive field: input pixels one output pixel sees, per side
    jump: int  # input pixels between neighbouring output pixels


def _geometry(module: nn.Module, in_size: int) -> tuple[int, int, int]:
    """(kernel, stride, dilation) of a spatial layer, as the RF recurrence needs them."""
    if isinstance(module, nn.AdaptiveAvgPool2d | nn.AdaptiveMaxPool2d):
        return in_size, in_size, 1  # global pooling: one window over the whole map
    dilation = _side(getattr(module, "dilation", 1))
    return _side(module.kernel_size), _side(module.stride), dilation


def _side(value: int | tuple[int, ...]) -> int:
    """One side of a square kernel, stride or dilation (PyTorch stores an int or a pair)."""
    return value[0] if isinstance(value, tuple) else value


def receptive_field_table(model: nn.Module, input_size: int = 28) -> list[RFRow]:
    """Walk the spatial layers in the order forward() calls them.

    rf_out = rf_in + (kernel - 1) * dilation * jump_in;  jump_out = jump_in * stride.
    """
    spatial = (nn.Conv2d, nn.MaxPool2d, nn.AvgPool2d, nn.AdaptiveAvgPool2d, nn.AdaptiveMaxPool2d)
    calls: list[tuple[str, nn.Module, int, int]] = []
    hooks = [
        module.register_forward_hook(
            lambda mod, inp, out, name=name: calls.append((name, mod, inp[0].shape[-1], out.shape[-1]))
        )
        for name, module in model.named_modules()
        if isinstance(module, spatial)
    ]
    was_training = model.training
    try:
        model.eval()
        with torch.no_grad():
            model(torch.zeros(1, 1, input_size, input_size, device=next(model.parameters()).device))
    finally:
        for hook in hooks:
            hook.remove()
        model.train(was_training)
    rows = [RFRow("input", input_size, 1, 1)]
    for name, module, in_size, out_size in calls:
        kernel, stride, dilation = _geometry(module, in_size)
        rf = rows[-1].rf + (kernel - 1) * dilation * rows[-1].jump
        rows.append(RFRow(name, out_size, rf, rows[-1].jump * stride))
    return rows


def format_rf_table(rows: list[RFRow]) -> str:
    lines = [f"{'layer':<16}{'output':>8}{'RF':>6}{'jump':>6}"]
    lines += [f"{r.layer:<16}{f'{r.size}x{r.size}':>8}{r.rf:>6}{r.jump:>6}" for r in rows]
    return "\n".join(lines)


def torchsummary_table(model: nn.Module, input_size: int = 28) -> str:
    """torchsummary's layer table as text (it prints; we capture)."""
    from torchsummary import summary

    buffer = io.StringIO()
    with contextlib.redirect_stdout(buffer):
        summary(model, (1, input_size, input_size), device="cpu")
    return buffer.getvalue().rstrip()


def describe(model: nn.Module) -> str:
    """torchsummary table, receptive-field table and parameter count, for the CLI and notebook."""
    return "\n\n".join(
        [
            torchsummary_table(model),
            "Receptive field\n" + format_rf_table(receptive_field_table(model)),
            f"Trainable parameters: {count_parameters(model):,}",
        ]
    )


def describe_recipe(recipe: Recipe) -> str:
    """How a model is trained, in one line: ``summary`` prints it under the model."""
    parts = [plural(recipe.epochs, "epoch"), f"batch {recipe.batch_size}",
             f"one-cycle SGD to lr {recipe.max_lr:g}", f"weight decay {recipe.weight_decay:g}"]
    if recipe.augment is None:
        parts.append("no augmentation")
    else:
        clean = f" (none in {clean_tail(recipe)})" if recipe.clean_epochs else ""
        parts.append(f"augmentation {describe_augment(recipe.augment)}{clean}")
    if recipe.tail_epochs:
        parts.append(f"the last {plural(recipe.tail_epochs, 'epoch')} at the schedule's floor rate")
    if recipe.ema:
        parts.append(f"a moving average of the weights (decay {recipe.ema:g} a step) scored and saved")
    return "Training recipe: " + ", ".join(parts)


def describe_augment(augment: Augment) -> str:
    """The random affine jitter in words, as the recipe, the notebook and docs state it."""
    return f"±{augment.degrees:g}° rotation, ±{augment.translate:.0%} shift, ±{augment.scale:.0%} zoom"
