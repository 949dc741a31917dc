"""Part 1's network, forward and backward by hand: the reference the workbook is checked against.

    h1 = w1*i1 + w2*i2     a_h1 = sigmoid(h1)      o1 = w5*a_h1 + w6*a_h2     a_o1 = sigmoid(o1)
    h2 = w3*i1 + w4*i2     a_h2 = sigmoid(h2)      o2 = w7*a_h1 + w8*a_h2     a_o2 = sigmoid(o2)
    E_total = 1/2 (t1 - a_o1)^2 + 1/2 (t2 - a_o2)^2            no biases; w <- w - lr * dE_total/dw
"""

from __future__ import annotations

import math
from dataclasses import dataclass

WEIGHTS = ("w1", "w2", "w3", "w4", "w5", "w6", "w7", "w8")
# The workbook's table columns, in order; a row of ``train`` has exactly these keys.
COLUMNS = (
    "iteration", "i1", "i2", "t1", "t2", *WEIGHTS,
    "h1", "a_h1", "h2", "a_h2", "o1", "a_o1", "o2", "a_o2", "E1", "E2", "E_total",
    *(f"dE/d{w}" for w in WEIGHTS),
)
LEARNING_RATES = (0.1, 0.2, 0.5, 0.8, 1.0, 2.0)


@dataclass(frozen=True)
class Inputs:
    """The editable cells of the workbook's Inputs sheet, with the exercise's defaults."""

    i1: float = 0.05
    i2: float = 0.10
    t1: float = 0.5
    t2: float = 0.5
    w: tuple[float, ...] = (0.15, 0.20, 0.25, 0.30, 0.40, 0.45, 0.50, 0.55)


def sigmoid(x: float) -> float:
    return 1.0 / (1.0 + math.exp(-x))


def forward_backward(i1: float, i2: float, t1: float, t2: float, w: tuple[float, ...]) -> dict[str, float]:
    """Every intermediate value and all eight gradients for one example, chain rule spelled out."""
    w1, w2, w3, w4, w5, w6, w7, w8 = w
    # forward
    h1 = w1 * i1 + w2 * i2
    a_h1 = sigmoid(h1)
    h2 = w3 * i1 + w4 * i2
    a_h2 = sigmoid(h2)
    o1 = w5 * a_h1 + w6 * a_h2
    a_o1 = sigmoid(o1)
    o2 = w7 * a_h1 + w8 * a_h2
    a_o2 = sigmoid(o2)
    e1 = 0.5 * (t1 - a_o1) ** 2
    e2 = 0.5 * (t2 - a_o2) ** 2
    # backward: dE/do = dE/da_o * da_o/do, with dE1/da_o1 = a_o1 - t1 and sigmoid' = a(1 - a)
    d_o1 = (a_o1 - t1) * a_o1 * (1 - a_o1)
    d_o2 = (a_o2 - t2) * a_o2 * (1 - a_o2)
    # output weights: do1/dw5 = a_h1, do1/dw6 = a_h2, do2/dw7 = a_h1, do2/dw8 = a_h2
    g5, g6, g7, g8 = d_o1 * a_h1, d_o1 * a_h2, d_o2 * a_h1, d_o2 * a_h2
    # a hidden unit feeds both outputs, so its error is the sum over o1 and o2
    d_a_h1 = d_o1 * w5 + d_o2 * w7
    d_a_h2 = d_o1 * w6 + d_o2 * w8
    # hidden weights: dh1/dw1 = i1, dh1/dw2 = i2 through a_h1; w3, w4 go through a_h2
    d_h1 = d_a_h1 * a_h1 * (1 - a_h1)
    d_h2 = d_a_h2 * a_h2 * (1 - a_h2)
    g1, g2, g3, g4 = d_h1 * i1, d_h1 * i2, d_h2 * i1, d_h2 * i2
    grads = (g1, g2, g3, g4, g5, g6, g7, g8)
    return {
        "i1": i1, "i2": i2, "t1": t1, "t2": t2, **dict(zip(WEIGHTS, w)),
        "h1": h1, "a_h1": a_h1, "h2": h2, "a_h2": a_h2,
        "o1": o1, "a_o1": a_o1, "o2": o2, "a_o2": a_o2,
        "E1": e1, "E2": e2, "E_total": e1 + e2,
        "dE/da_h1": d_a_h1, "dE/da_h2": d_a_h2,
        **{f"dE/d{name}": g for name, g in zip(WEIGHTS, grads)},
    }


def train(inputs: Inputs, lr: float, iterations: int) -> list[dict[str, float]]:
    """Gradient descent; row k holds the weights after k - 1 updates and their forward/backward pass."""
    rows = []
    w = tuple(inputs.w)
    for iteration in range(1, iterations + 1):
        row = forward_backward(inputs.i1, inputs.i2, inputs.t1, inputs.t2, w)
        rows.append({"iteration": iteration, **row})
        w = tuple(wi - lr * row[f"dE/d{name}"] for wi, name in zip(w, WEIGHTS))
    return rows
