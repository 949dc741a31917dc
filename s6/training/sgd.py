"""The optimiser, written out: SGD with Nesterov momentum, its learning rate and momentum following a one-cycle
schedule computed by one function.

The arithmetic is torch.optim.SGD's under torch.optim.lr_scheduler.OneCycleLR, bit for bit on a CPU
(tests/test_sgd.py steps both side by side). Why not those classes: the first call of any torch.optim optimiser
imports torch._dynamo, a compiler s6 does not use, which took 2 s to import and 0.4 s to tear down: 4% of a default
run on a 2-core AVX2 laptop-class CPU, and half of what it waited before its first epoch (docs/speed.md). A reader
also gets the update in four lines instead of a class hierarchy.
"""

from __future__ import annotations

import math
from collections.abc import Iterable

import torch

from s6.models.recipe import Recipe


def one_cycle(step: int, recipe: Recipe, total_steps: int) -> tuple[float, float]:
    """The learning rate and the momentum of optimiser step ``step`` (0 to ``total_steps`` - 1) of a one-cycle
    schedule, as OneCycleLR computes them: the rate rises from max_lr / start_div to max_lr over the warm-up while
    the momentum falls from its high to its low value, then the rate falls to max_lr / start_div / end_div while the
    momentum climbs back. Large steps with little momentum in the middle, careful ones at both ends.

    A very short run (a small --train-subset for one epoch) still gets a warm-up of at least two steps.
    """
    peak = float(max(recipe.warmup, 2 / total_steps) * total_steps) - 1  # the step at max_lr
    start_lr = recipe.max_lr / recipe.start_div
    end_lr = start_lr / recipe.end_div
    low, high = recipe.momentum
    if step <= peak:  # rising
        progress, lrs, momenta = step / peak, (start_lr, recipe.max_lr), (high, low)
    else:  # falling
        progress, lrs, momenta = (step - peak) / (total_steps - 1 - peak), (recipe.max_lr, end_lr), (low, high)
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

    def __init__(self, params: Iterable[torch.nn.Parameter], recipe: Recipe, total_steps: int) -> None:
        self.params = list(params)
        self.recipe, self.total_steps = recipe, total_steps
        self.steps = 0  # optimiser steps taken
        self.velocity: list[torch.Tensor | None] = [None] * len(self.params)  # none before the first step

    @property
    def lr(self) -> float:
        """The learning rate the next step takes."""
        return one_cycle(self.steps, self.recipe, self.total_steps)[0]

    def zero_grad(self) -> None:
        for p in self.params:
            p.grad = None  # dropped, not zeroed: backward then writes the gradient instead of adding to zeros

    @torch.profiler.record_function("OneCycleSGD.step")  # its kernels' time, named (benchmarks/profile_step.py)
    @torch.no_grad()
    def step(self) -> None:
        lr, momentum = one_cycle(self.steps, self.recipe, self.total_steps)
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
