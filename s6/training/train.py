"""Training and evaluation loops. Nothing here ever looks at the test set to decide anything."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable

import torch
import torch.nn.functional as F
from torch import nn
from tqdm import tqdm

from s6 import S6Error, plural
from s6.models.recipe import Recipe
from s6.training.sgd import OneCycleSGD

# A training loss from (logits, the batch's images, its labels): the images are there for a loss that needs more
# than the labels, such as a teacher's soft labels (benchmarks/screen_model3.py).


def check_steps(recipe: Recipe, steps_per_epoch: int, epochs: int) -> int:
    """The run's optimiser steps; S6Error if the one-cycle schedule cannot be built from so few (checked before a
    run writes anything, so a run too small to train leaves no folder behind)."""
    steps = steps_per_epoch * epochs
    if steps < 3:
        raise S6Error(f"this run has {plural(steps, 'optimiser step')}; the one-cycle schedule needs at least 3: "
                      f"train on more images (batches of {recipe.batch_size}) or for more epochs")
    return steps


def make_optimizer(model: nn.Module, recipe: Recipe, steps_per_epoch: int, epochs: int) -> OneCycleSGD:
    """SGD (Nesterov momentum by default) under a one-cycle learning-rate schedule, stepped per batch, all as
    ``recipe`` says (s6.training.sgd)."""
    return OneCycleSGD(model.parameters(), recipe, check_steps(recipe, steps_per_epoch, epochs))


def train_epoch(
    model: nn.Module,
    loader: Iterable[tuple[torch.Tensor, torch.Tensor]],
    optimizer: OneCycleSGD,
    device: torch.device,
    epoch: int = 1,
    progress: bool = True,
) -> tuple[float, float]:
    """One pass over ``loader``, minimising cross-entropy; returns (mean loss, accuracy in percent) on the training
    batches.

    Losses stay on the device until the epoch ends: reading one per batch would make the
    CPU wait for the GPU after every step. A non-finite loss is reported, with its batch,
    when the epoch ends (or at the next progress-bar update), before anything is saved.
    """
    model.train()
    losses = torch.zeros(len(loader), device=device)  # summed loss of each batch
    correct = torch.zeros((), dtype=torch.long, device=device)
    seen = 0
    bar = tqdm(loader, desc=f"epoch {epoch}", leave=False, disable=not progress, dynamic_ncols=True)
    for batch, (x, y) in enumerate(bar):
        x = x.to(device, non_blocking=True)
        y = y.to(device, non_blocking=True)
        logits = model(x)
        loss = F.cross_entropy(logits, y)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()  # at the schedule's rate for this step
        losses[batch] = loss.detach() * len(y)
        correct += (logits.argmax(1) == y).sum()
        seen += len(y)
        if progress and (batch + 1) % 20 == 0:
            check_finite(losses[: batch + 1], epoch)
            bar.set_postfix(loss=f"{losses.sum().item() / seen:.4f}", acc=f"{100 * correct.item() / seen:.2f}%")
    check_finite(losses, epoch)
    return losses.sum().item() / seen, 100.0 * correct.item() / seen


def check_finite(losses: torch.Tensor, epoch: int) -> None:
    """Raise S6Error naming the first batch (1-based) whose loss is NaN or infinite (it stays so summed)."""
    bad = (~torch.isfinite(losses)).nonzero()
    if len(bad):
        first = bad[0, 0].item()
        raise S6Error(f"training diverged: loss is {losses[first].item()} at epoch {epoch}, batch {first + 1}")


@torch.inference_mode()
def evaluate(
    model: nn.Module, loader: Iterable[tuple[torch.Tensor, torch.Tensor]], device: torch.device
) -> tuple[float, float]:
    """Mean loss and accuracy (percent) over every batch of ``loader``."""
    model.eval()
    total_loss = torch.zeros((), device=device)
    correct = torch.zeros((), dtype=torch.long, device=device)
    seen = 0
    for x, y in loader:
        x = x.to(device, non_blocking=True)
        y = y.to(device, non_blocking=True)
        logits = model(x)
        total_loss += F.cross_entropy(logits, y, reduction="sum")
        correct += (logits.argmax(1) == y).sum()
        seen += len(y)
    return total_loss.item() / seen, 100.0 * correct.item() / seen


def fit(
    model: nn.Module,
    optimizer: OneCycleSGD,
    train_loader: Iterable[tuple[torch.Tensor, torch.Tensor]],
    test_loader: Iterable[tuple[torch.Tensor, torch.Tensor]],
    device: torch.device,
    epochs: int,
    history: list[dict] | None = None,
    stop_after: int | None = None,
    progress: bool = True,
    on_epoch: Callable[[list[dict]], None] | None = None,
    held_out: str = "test",
    clean_epochs: int = 0,
) -> list[dict]:
    """Train to the end of a fixed ``epochs``-long schedule, evaluating on ``test_loader`` after every epoch.

    Returns the per-epoch history. ``history`` holds epochs already done (when resuming);
    ``stop_after`` ends early after that epoch, as an interruption would. The model after
    the last epoch is the result: nothing is selected or stopped on the test set. ``held_out`` names what
    ``test_loader`` holds, "test" or "val" (a validation split): the history's keys say which it was, so a
    validation accuracy can never be read as a test accuracy. The last ``clean_epochs`` epochs train without
    the loader's augmentation.
    """
    history = list(history or [])
    last = min(epochs, stop_after or epochs)
    augment = getattr(train_loader, "augment", None)
    for epoch in range(len(history) + 1, last + 1):
        lr = optimizer.lr
        start = time.perf_counter()
        if clean_epochs:  # the schedule ends on digits as the test set shows them, not jittered
            train_loader.augment = None if epoch > epochs - clean_epochs else augment
        train_loss, train_acc = train_epoch(model, train_loader, optimizer, device, epoch, progress)
        held_out_loss, held_out_acc = evaluate(model, test_loader, device)
        history.append({
            "epoch": epoch,
            "train_loss": train_loss,
            "train_acc": train_acc,
            f"{held_out}_loss": held_out_loss,
            f"{held_out}_acc": held_out_acc,
            "lr": lr,
            "seconds": time.perf_counter() - start,
        })
        if on_epoch is not None:
            on_epoch(history)
    if clean_epochs:
        train_loader.augment = augment  # the loader as it came
    return history


def held_out_of(record: dict) -> str:
    """What an epoch's record was evaluated on: "test", or "val" for a validation split."""
    return "val" if "val_acc" in record else "test"


def format_epoch(record: dict) -> str:
    """One log line per epoch."""
    held_out = held_out_of(record)
    return (
        f"epoch {record['epoch']:2d}  lr {record['lr']:.4f}  "
        f"train loss {record['train_loss']:.4f} acc {record['train_acc']:.2f}%  "
        f"{held_out} loss {record[f'{held_out}_loss']:.4f} acc {record[f'{held_out}_acc']:.2f}%  "
        f"{record['seconds']:.1f}s"
    )
