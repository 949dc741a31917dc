"""The chain rule of Part 1's network, written once, in symbols: the workbook's header comments and Derivation
sheet, the step figures and docs/backprop.md all read it from here (network.py computes the same numbers).

Unicode, as a spreadsheet cell shows it; ``mathtext`` turns an expression into matplotlib's notation for a figure.
"""

from __future__ import annotations

import math
import re

# The forward pass: each value from the ones before it.
FORWARD = {
    "h1": "w1·i1 + w2·i2", "a_h1": "σ(h1)", "h2": "w3·i1 + w4·i2", "a_h2": "σ(h2)",
    "o1": "w5·a_h1 + w6·a_h2", "a_o1": "σ(o1)", "o2": "w7·a_h1 + w8·a_h2", "a_o2": "σ(o2)",
}

# ∂E_total/∂o of each output: ∂E/∂a_o = a_o − t (from E = ½(t − a_o)²) times the sigmoid's slope a_o(1 − a_o).
DELTA = {"o1": "(a_o1 − t1)·a_o1·(1 − a_o1)", "o2": "(a_o2 − t2)·a_o2·(1 − a_o2)"}

# Each output weight: the output it feeds, and the hidden value it multiplies there (∂o/∂w).
OUTPUT_WEIGHTS = {"w5": ("o1", "a_h1"), "w6": ("o1", "a_h2"), "w7": ("o2", "a_h1"), "w8": ("o2", "a_h2")}

# ∂E_total/∂a_h: a hidden unit feeds both outputs, so its error is the sum over the two paths.
HIDDEN = {"a_h1": f"{DELTA['o1']}·w5 + {DELTA['o2']}·w7", "a_h2": f"{DELTA['o1']}·w6 + {DELTA['o2']}·w8"}

# Each input weight: the hidden unit it feeds (through its sigmoid), and the input it multiplies (∂h/∂w).
INPUT_WEIGHTS = {"w1": ("a_h1", "i1"), "w2": ("a_h1", "i2"), "w3": ("a_h2", "i1"), "w4": ("a_h2", "i2")}


def gradient(weight: str) -> str:
    """∂E_total/∂w written out in the forward pass's values."""
    if weight in OUTPUT_WEIGHTS:
        output, hidden = OUTPUT_WEIGHTS[weight]
        return f"{DELTA[output]}·{hidden}"
    hidden, given = INPUT_WEIGHTS[weight]
    return f"[{HIDDEN[hidden]}]·{hidden}·(1 − {hidden})·{given}"


def hidden_step(weight: str, spelt: bool | None = None) -> str:
    """∂E_total/∂w for an input weight through its hidden unit; ``spelt``: each chain-rule link named first
    (None: for w1 and w3, the first weight into each hidden unit, as the Derivation sheet does)."""
    hidden, given = INPUT_WEIGHTS[weight]
    h = hidden.removeprefix("a_")
    spelt = given == "i1" if spelt is None else spelt
    chain = f"∂E_total/∂{hidden} · ∂{hidden}/∂{h} · ∂{h}/∂{weight} = " if spelt else ""
    return f"∂E_total/∂{weight} = {chain}∂E_total/∂{hidden} · {hidden}·(1 − {hidden}) · {given}"


# The Derivation sheet: (step, expression), in the order a hand derivation goes.
STEPS = [
    *(("forward", f"{z} = {FORWARD[z]};   {a} = {FORWARD[a]}") for z, a in
      (("h1", "a_h1"), ("h2", "a_h2"), ("o1", "a_o1"), ("o2", "a_o2"))),
    ("forward", "E_total = E1 + E2 = ½(t1 − a_o1)² + ½(t2 − a_o2)²"),
    ("w5", "∂E_total/∂w5 = ∂E1/∂a_o1 · ∂a_o1/∂o1 · ∂o1/∂w5   (E2 does not depend on w5)"),
    ("w5", "∂E1/∂a_o1 = a_o1 − t1;   ∂a_o1/∂o1 = a_o1·(1 − a_o1);   ∂o1/∂w5 = a_h1"),
    *((w, f"∂E_total/∂{w} = {gradient(w)}") for w in OUTPUT_WEIGHTS),
    *((a, f"∂E_total/∂{a} = ∂E1/∂{a} + ∂E2/∂{a} = {HIDDEN[a]}") for a in HIDDEN),
    *((w, hidden_step(w)) for w in INPUT_WEIGHTS),
    ("update", "w ← w − η·∂E_total/∂w, for all eight weights at once, then repeat the forward pass"),
]

# Where a widely copied template goes wrong: w3 and w4 feed h2, so their sigmoid slope is a_h2's.
NOTE = {"w3": "  (a_h2, not a_h1: w3 feeds h2)", "w4": "  (a_h2, not a_h1: w4 feeds h2)"}


def equations(step: str) -> list[list[str]]:
    """A step's equations, each as its sides: "a = b = c;   d = e   (a note)" -> [[a, b, c], [d, e]]."""
    return [[side.strip() for side in part.split("   (")[0].split(" = ")] for part in step.split(";   ")]


def mathtext(expression: str) -> str:
    """An expression of this module in matplotlib's math notation: a_o1 -> a_{o1}, w5 -> w_5, ∂ -> \\partial."""
    text = re.sub(r"\b([whiotE])(\d)\b", r"\1_\2", expression)  # w5 -> w_5 (not the o1 of a_o1: no \b after _)
    text = re.sub(r"\b([aE])_(\w+)", r"\1_{\2}", text)  # a_o1 -> a_{o1}, E_total -> E_{total}
    for plain, tex in (("∂", r"\partial "), ("·", r"\,"), ("−", "-"), ("σ", r"\sigma"), ("η", r"\eta "),
                       ("←", r"\leftarrow "), ("[", r"\left["), ("]", r"\right]")):
        text = text.replace(plain, tex)
    return f"${text}$"


def evaluate(expression: str, values: dict[str, float]) -> float | None:
    """The number an expression of this module comes to, given the forward and backward pass's ``values``
    (s6.backprop.network's names); None for one that names a derivative it does not define (∂E1/∂a_o1 ...).

    How the text is held to the numbers: a test evaluates every step of the derivation this way and compares it
    with network.py's values, which the workbook tests hold to torch autograd."""
    python = re.sub(r"∂E_total/∂(\w+)", r"dE_d\1", expression)
    for plain, code in (("−", "-"), ("·", "*"), ("½", "0.5*"), ("²", "**2"), ("[", "("), ("]", ")"), ("σ", "sigmoid")):
        python = python.replace(plain, code)
    if "∂" in python:
        return None
    names = {name.replace("/", "_"): value for name, value in values.items()}
    return float(eval(python, {"__builtins__": {}, "sigmoid": lambda x: 1 / (1 + math.exp(-x))}, names))
