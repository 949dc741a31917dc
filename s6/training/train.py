"""Training and evaluation: the CPU speed-ups applied to a model, the optimiser written out, and the loops that use
them. Nothing here ever looks at the test set to decide anything.

The optimiser is SGD with Nesterov momentum, its learning rate and momentum following a one-cycle schedule that one
function computes (``one_cycle``). The arithmetic is torch.optim.SGD's under torch.optim.lr_scheduler.OneCycleLR,
bit for bit on a CPU (tests/test_sgd.py steps both side by side). Why not those classes: the first call of any
torch.optim optimiser imports torch._dynamo, a compiler s6 does not use, which took 2 s to import and 0.4 s to tear
down: 4% of a default run on a 2-core AVX2 laptop-class CPU, and half of what it waited before its first epoch
(docs/speed.md). A reader also gets the update in four lines instead of a class hierarchy. A notebook of your own
loses nothing by using torch.optim.SGD with torch.optim.lr_scheduler.OneCycleLR instead: the same arithmetic.
"""

from __future__ import annotations

import math
import time
from collections.abc import Iterable, Iterator

import torch
import torch.nn.functional as F
from torch import nn
from tqdm import tqdm

from s6 import S6Error, plural
from s6.models.recipe import Recipe


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


def speed_up(model: nn.Module) -> nn.Module:
    """Make ``model`` train faster on a CPU, in place, without changing what it is: s6 does this to every model it
    trains, so a model's file stays the plain PyTorch a student copies (which trains as well, only slower).
    Measured on the AVX2 EPYC, an epoch of Model-2 (docs/speed.md, results/bench/bench_runtime.json):

    - **Channels-last maps**: the weights, and every input at the start of ``forward`` (a pre-hook), stored
      height-width-channel; the CPU's convolution and pooling kernels for these sizes are faster so (12.8 to 11.0 s
      an epoch, 1.16 times). The arithmetic is the same but for rounding.
    - **A cheaper Dropout mask**: each ``nn.Dropout`` becomes a ``FastDropout`` of the same rate (11.0 to 10.3 s,
      1.07 times).

    Neither renames or reshapes a weight, so checkpoints load into the plain model and back. The training is the
    same, not bit for bit: the cheaper mask draws other random numbers than nn.Dropout, so a plain copy's seed ends
    a few hundredths away, as another CPU path's does.
    """
    for parent in list(model.modules()):
        for name, child in parent.named_children():
            if type(child) is nn.Dropout:  # exactly PyTorch's: a subclass may be something else
                setattr(parent, name, FastDropout(child.p))
    model.to(memory_format=torch.channels_last)
    model.register_forward_pre_hook(channels_last_input)
    return model


def channels_last_input(module: nn.Module, args: tuple) -> tuple:
    """``forward``'s input, stored channels-last as the weights are (``speed_up``)."""
    return (args[0].contiguous(memory_format=torch.channels_last), *args[1:])


SPLIT_NAMES = {"test": "test", "val": "validation"}  # what a run is scored on, by its key in a history, in words


def scored_on(validation: int | None) -> str:
    """What a run is scored on after every epoch, decided here and nowhere else: "val" (the last ``validation``
    training images, held out) when it holds some out, else "test" (the 10,000 test digits). A history's figures
    carry it in their keys (``val_acc``, ``test_acc``), so a validation accuracy is never read as a test accuracy."""
    return "val" if validation else "test"


def one_cycle(step: int, recipe: Recipe, total_steps: int, tail_steps: int = 0) -> tuple[float, float]:
    """The learning rate and the momentum of optimiser step ``step`` (0 to ``total_steps`` - 1) of a one-cycle
    schedule, as OneCycleLR computes them: the rate rises from max_lr / start_div to max_lr over the warm-up while
    the momentum falls from its high to its low value, then the rate falls to max_lr / start_div / end_div while the
    momentum climbs back. Large steps with little momentum in the middle, careful ones at both ends.

    The last ``tail_steps`` (a recipe's tail epochs) stay at that floor, the momentum at its high: the cycle ends
    that many steps early, so the run's last epochs train one model that has converged, not one still annealing.
    A very short run (a small --train-subset for one epoch) still gets a warm-up of at least two steps.
    """
    start_lr = recipe.max_lr / recipe.start_div
    end_lr = start_lr / recipe.end_div
    low, high = recipe.momentum
    cycle = total_steps - tail_steps  # the steps the one-cycle spans
    if step >= cycle:  # the tail, at the floor
        return end_lr, high
    peak = float(max(recipe.warmup, 2 / cycle) * cycle) - 1  # the step at max_lr
    if step <= peak:  # rising
        progress, lrs, momenta = step / peak, (start_lr, recipe.max_lr), (high, low)
    else:  # falling
        progress, lrs, momenta = (step - peak) / (cycle - 1 - peak), (recipe.max_lr, end_lr), (low, high)
    anneal = anneal_cos if recipe.anneal == "cos" else anneal_linear
    return anneal(*lrs, progress), anneal(*momenta, progress)


def anneal_linear(start: float, end: float, progress: float) -> float:
    """From ``start`` (progress 0) to ``end`` (progress 1) on a straight line."""
    return (end - start) * progress + start


def anneal_cos(start: float, end: float, progress: float) -> float:
    """From ``start`` to ``end`` along half a cosine: slow at both ends, fastest midway."""
    return end + (start - end) / 2.0 * (math.cos(math.pi * progress) + 1)


class OneCycleSGD:
    """SGD with (Nesterov) momentum and weight decay, each step at the one-cycle schedule's rate and momentum.

    ``state_dict``/``load_state_dict`` carry the steps taken and each weight's velocity, so a resumed run continues
    bit for bit.
    """

    def __init__(self, params: Iterable[torch.nn.Parameter], recipe: Recipe, total_steps: int,
                 tail_steps: int = 0) -> None:
        self.params = list(params)
        self.recipe, self.total_steps, self.tail_steps = recipe, total_steps, tail_steps
        self.steps = 0  # optimiser steps taken
        self.velocity: list[torch.Tensor | None] = [None] * len(self.params)  # none before the first step

    @property
    def lr(self) -> float:
        """The learning rate the next step takes."""
        return one_cycle(self.steps, self.recipe, self.total_steps, self.tail_steps)[0]

    def zero_grad(self) -> None:
        for p in self.params:
            p.grad = None  # dropped, not zeroed: backward then writes the gradient instead of adding to zeros

    @torch.no_grad()
    def step(self) -> None:
        lr, momentum = one_cycle(self.steps, self.recipe, self.total_steps, self.tail_steps)
        decay, nesterov = self.recipe.weight_decay, self.recipe.nesterov
        for i, p in enumerate(self.params):
            g = p.grad.add(p, alpha=decay) if decay else p.grad  # the L2 penalty decay/2 * w² adds decay * w
            v = self.velocity[i]
            if v is None:
                v = self.velocity[i] = g.clone()  # the first velocity is the first gradient
            else:
                v.mul_(momentum).add_(g)  # velocity: the gradients so far, each older one decayed by momentum
            p.add_(g.add(v, alpha=momentum) if nesterov else v, alpha=-lr)  # Nesterov: a momentum step ahead
        self.steps += 1

    def state_dict(self) -> dict:
        return {"steps": self.steps, "velocity": list(self.velocity)}

    def load_state_dict(self, state: dict) -> None:
        self.steps = state["steps"]
        self.velocity = [None if v is None else v.to(p.device) for v, p in zip(state["velocity"], self.params,
                                                                               strict=True)]


def check_steps(recipe: Recipe, steps_per_epoch: int, epochs: int) -> tuple[int, int]:
    """The run's optimiser steps, and how many of the last of them are its tail at the floor rate (the recipe's tail
    epochs, but always at least one epoch of cycle: a short run of --epochs 1 is all cycle); S6Error if the one-cycle
    schedule cannot be built from so few (a run checks this before it writes anything, so a run too small to train
    leaves no folder behind)."""
    steps, tail = steps_per_epoch * epochs, steps_per_epoch * min(recipe.tail_epochs, epochs - 1)
    if steps - tail < 3:
        beside = f" besides the {plural(tail, 'step')} of its tail" if tail else ""
        raise S6Error(f"this run has {plural(steps - tail, 'optimiser step')}{beside}; the one-cycle schedule needs at "
                      f"least 3: train on more images (batches of {recipe.batch_size}) or for more epochs")
    return steps, tail


def make_optimizer(model: nn.Module, recipe: Recipe, steps_per_epoch: int, epochs: int) -> OneCycleSGD:
    """SGD (Nesterov momentum by default) under a one-cycle learning-rate schedule, stepped per batch, all as
    ``recipe`` says."""
    return OneCycleSGD(model.parameters(), recipe, *check_steps(recipe, steps_per_epoch, epochs))


def average_of(model: nn.Module, decay: float) -> nn.Module:
    """An exponential moving average of ``model``'s weights and BatchNorm buffers (torch.optim.swa_utils'
    AveragedModel), updated after every step: each step moves it ``1 - decay`` of the way to the weights. What a run
    with a recipe's ``ema`` scores after each epoch and saves: it smooths the step-to-step noise that makes a run's
    last epochs disagree. torch.optim is imported only here, by the runs that average."""
    from torch.optim.swa_utils import AveragedModel, get_ema_multi_avg_fn

    return AveragedModel(model, multi_avg_fn=get_ema_multi_avg_fn(decay), use_buffers=True)


def train_epoch(
    model: nn.Module,
    loader: Iterable[tuple[torch.Tensor, torch.Tensor]],
    optimizer: OneCycleSGD,
    device: torch.device,
    epoch: int = 1,
    progress: bool = True,
    average: nn.Module | None = None,
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
        if average is not None:
            average.update_parameters(model)  # the moving average follows every step
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
    train_loader,
    scored_loader: Iterable[tuple[torch.Tensor, torch.Tensor]],
    device: torch.device,
    epochs: int,
    split: str = "test",
    done: int = 0,
    stop_after: int | None = None,
    progress: bool = True,
    average: nn.Module | None = None,
) -> Iterator[dict]:
    """Train to the end of a fixed ``epochs``-long schedule, scoring on ``scored_loader`` after every epoch, and
    yield each epoch's record as it ends: the caller saves it and prints it.

    ``done`` epochs are already trained (when resuming); ``stop_after`` ends early after that epoch, as an
    interruption would. The model after the last epoch is the result: nothing is selected or stopped on the test
    set. ``split`` (``scored_on``) names what ``scored_loader`` holds, and keys the record's figures.
    ``train_loader`` is told each epoch's number (``set_epoch``) and jitters it as its schedule says
    (s6.training.data). With an ``average`` (``average_of``), each step updates it and each epoch scores it.
    """
    for epoch in range(done + 1, min(epochs, stop_after or epochs) + 1):
        lr = optimizer.lr
        start = time.perf_counter()
        train_loader.set_epoch(epoch)
        train_loss, train_acc = train_epoch(model, train_loader, optimizer, device, epoch, progress, average)
        scored_loss, scored_acc = evaluate(average if average is not None else model, scored_loader, device)
        yield {
            "epoch": epoch,
            "train_loss": train_loss,
            "train_acc": train_acc,
            f"{split}_loss": scored_loss,
            f"{split}_acc": scored_acc,
            "lr": lr,
            "seconds": time.perf_counter() - start,
        }
