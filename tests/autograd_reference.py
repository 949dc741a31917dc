"""Part 1's network in torch, differentiated by autograd: the ground truth for the tests."""

import torch

from s6.backprop.network import Inputs


def autograd_step(inputs: Inputs, w: torch.Tensor) -> tuple[float, torch.Tensor]:
    """E_total and dE_total/dw of the 2-2-2 sigmoid network, by torch autograd (float64)."""
    w = w.detach().clone().requires_grad_(True)
    a_h1 = torch.sigmoid(w[0] * inputs.i1 + w[1] * inputs.i2)
    a_h2 = torch.sigmoid(w[2] * inputs.i1 + w[3] * inputs.i2)
    a_o1 = torch.sigmoid(w[4] * a_h1 + w[5] * a_h2)
    a_o2 = torch.sigmoid(w[6] * a_h1 + w[7] * a_h2)
    e_total = 0.5 * (inputs.t1 - a_o1) ** 2 + 0.5 * (inputs.t2 - a_o2) ** 2
    (grad,) = torch.autograd.grad(e_total, w)
    return e_total.item(), grad


def autograd_run(inputs: Inputs, lr: float, iterations: int) -> list[tuple[list[float], float, list[float]]]:
    """(weights, E_total, gradients) for each gradient-descent iteration."""
    w = torch.tensor(inputs.w, dtype=torch.float64)
    rows = []
    for _ in range(iterations):
        e_total, grad = autograd_step(inputs, w)
        rows.append((w.tolist(), e_total, grad.tolist()))
        w = w - lr * grad
    return rows
