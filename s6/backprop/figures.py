"""Part 1's images: the network, the chain-rule steps with the default numbers, the LR comparison."""

from __future__ import annotations

import hashlib
import json
import os
import re
from pathlib import Path

from matplotlib.figure import Figure
from matplotlib.text import Text

from s6.backprop.derivation import HIDDEN, INPUT_WEIGHTS, NOTE, OUTPUT_WEIGHTS, STEPS, gradient, hidden_step, mathtext
from s6.backprop.network import LEARNING_RATES, Inputs, forward_backward, train

NODES = {"i1": (0, 2), "i2": (0, 0), "h1": (2, 2), "h2": (2, 0), "o1": (4, 2), "o2": (4, 0)}
EDGES = [("i1", "h1", "w1"), ("i2", "h1", "w2"), ("i1", "h2", "w3"), ("i2", "h2", "w4"),
         ("h1", "o1", "w5"), ("h2", "o1", "w6"), ("h1", "o2", "w7"), ("h2", "o2", "w8")]


def _text_figure(title: str, lines: list[str], height: float) -> Figure:
    fig = Figure(figsize=(11, height))
    fig.suptitle(title, fontsize=14, x=0.02, ha="left")
    step = 0.9 / max(len(lines), 1)
    for i, line in enumerate(lines):
        fig.text(0.03, 0.88 - step * (i + 0.5), line, fontsize=12.5, va="center")
    return fig


def _weight_label(name: str) -> str:
    return f"$w_{name[1]}$"


def _draw_network(ax, v: dict[str, float] | None = None) -> None:
    """The 2-2-2 network on ``ax``; with ``v`` (the defaults' values), each input, starting weight and target too."""
    ax.set_xlim(-0.6, 7.4)
    ax.set_ylim(-0.8, 2.8)
    ax.axis("off")
    for a, b, w in EDGES:
        (x0, y0), (x1, y1) = NODES[a], NODES[b]
        ax.plot([x0, x1], [y0, y1], color="grey", lw=1.2, zorder=1)
        t = 0.3 if (y0 != y1) else 0.5
        label = _weight_label(w) + (f" = {v[w]:g}" if v else "")
        ax.text(x0 + t * (x1 - x0), y0 + t * (y1 - y0) + 0.12, label, fontsize=11, ha="center",
                bbox={"facecolor": "white", "edgecolor": "none", "pad": 0.5} if v else None)
    for name, (x, y) in NODES.items():
        ax.scatter([x], [y], s=1500, color="#DDEBF7", edgecolors="#1F4E79", zorder=2)
        ax.text(x, y, name if name[0] == "i" else f"{name}\n$\\sigma$", ha="center", va="center", fontsize=10, zorder=3)
        if v and name[0] == "i":  # the input's value, left of its node
            ax.text(x - 0.4, y, f"{v[name]:g}", ha="right", va="center", fontsize=11, color="#1F4E79")
    for o, t in (("o1", "t1"), ("o2", "t2")):
        x, y = NODES[o]
        target = f",  ${t[0]}_{t[1]} = {v[t]:g}$" if v else ""
        ax.text(x + 0.45, y, f"$E_{o[1]} = \\frac{{1}}{{2}}({t[0]}_{t[1]} - a_{{{o}}})^2${target}", fontsize=11,
                va="center")


def network(v: dict[str, float]) -> Figure:
    """The network as the exercise gives it: its inputs, its starting weights and its targets."""
    fig = Figure(figsize=(8.8, 4.2))
    ax = fig.add_axes((0.03, 0.0, 0.97, 0.9))
    _draw_network(ax, v)
    ax.set_xlim(-1.3, 7.6)
    fig.suptitle("The network: 2 inputs, 2 sigmoid hidden units, 2 sigmoid outputs, no biases (starting values)",
                 fontsize=13, x=0.02, ha="left")
    return fig


def network_and_forward(v: dict[str, float]) -> Figure:
    """Step 1: the network with its weights, and the forward pass with the default numbers."""
    fig = Figure(figsize=(9.0, 5.2))  # with the text beside it, at most 900 pixels wide
    ax = fig.add_axes((0.0, 0.05, 0.47, 0.85))
    _draw_network(ax)
    ax.set_xlim(-0.6, 7.1)  # to the error labels' end: no blank band between the network and the text
    fig.suptitle("Step 1: the network and the forward pass (default inputs and weights)", fontsize=14, x=0.02, ha="left")
    lines = [
        f"$h_1 = w_1 i_1 + w_2 i_2 = {v['h1']:.6f}$",
        f"$a_{{h1}} = \\sigma(h_1) = 1/(1+e^{{-h_1}}) = {v['a_h1']:.6f}$",
        f"$h_2 = w_3 i_1 + w_4 i_2 = {v['h2']:.6f}$",
        f"$a_{{h2}} = \\sigma(h_2) = {v['a_h2']:.6f}$",
        f"$o_1 = w_5 a_{{h1}} + w_6 a_{{h2}} = {v['o1']:.6f}$,   $a_{{o1}} = {v['a_o1']:.6f}$",
        f"$o_2 = w_7 a_{{h1}} + w_8 a_{{h2}} = {v['o2']:.6f}$,   $a_{{o2}} = {v['a_o2']:.6f}$",
        f"$E_{{total}} = E_1 + E_2 = {v['E1']:.6f} + {v['E2']:.6f} = {v['E_total']:.6f}$",
    ]
    for i, line in enumerate(lines):
        fig.text(0.48, 0.82 - i * 0.11, line, fontsize=12.5, va="center")
    return fig


def _with_value(expression: str, value: float, digits: int = 6) -> str:
    """An expression of s6.backprop.derivation, then its value at the defaults."""
    return f"{mathtext(expression)[:-1]} = {value:.{digits}f}$"


def _prose(text: str) -> str:
    """Words with the derivation's symbols in them (w5, a_h2, E2, ...) typeset as symbols."""
    return re.sub(r"\b(?:[aE]_\w+|[whiotE]\d)\b", lambda m: mathtext(m.group()), text)


def _steps(target: str) -> list[str]:
    """The Derivation sheet's expressions for one target (a weight, a hidden value, "update")."""
    return [text for step, text in STEPS if step == target]


def w5_term_by_term(v: dict[str, float]) -> Figure:
    chain, factors = _steps("w5")[:2]
    formula, why = chain.split("   (")
    values = (v["a_o1"] - v["t1"], v["a_o1"] * (1 - v["a_o1"]), v["a_h1"])
    notes = ("", "      (the sigmoid's derivative)", "")
    return _text_figure("Step 2: $\\partial E_{total}/\\partial w_5$, one chain-rule factor at a time", [
        f"{mathtext(formula)}      ({_prose(why)}",
        *(_with_value(factor, value) + note for factor, value, note in zip(factors.split(";   "), values, notes)),
        _with_value(f"∂E_total/∂w5 = {gradient('w5')}", v["dE/dw5"]),
    ], 5.2)


def output_weights(v: dict[str, float]) -> Figure:
    return _text_figure("Step 3: the same chain for $w_5 \\ldots w_8$", [
        _with_value(f"∂E_total/∂{w} = {gradient(w)}", v[f"dE/d{w}"]) for w in OUTPUT_WEIGHTS
    ], 4.2)


def hidden_weights(v: dict[str, float]) -> Figure:
    update, rest = _steps("update")[0].split(", ", 1)
    return _text_figure("Step 4: back through the hidden layer ($a_{h1}$ feeds both outputs, and so does $a_{h2}$)", [
        *(_with_value(f"∂E_total/∂{a} = {HIDDEN[a]}", v[f"dE/d{a}"]) for a in HIDDEN),
        *(_with_value(hidden_step(w, spelt=False), v[f"dE/d{w}"], 8) + _prose(NOTE.get(w, "").replace("  ", "      "))
          for w in INPUT_WEIGHTS),
        "then " + ", ".join((mathtext(update), _prose(rest))),
    ], 6.0)


def lr_comparison(inputs: Inputs = Inputs(), iterations: int = 100) -> Figure:
    """E_total against iteration for each learning rate (the workbook's Summary chart)."""
    fig = Figure(figsize=(8, 4.5), layout="constrained")
    ax = fig.subplots()
    for lr in LEARNING_RATES:
        rows = train(inputs, lr, iterations)
        ax.plot([r["iteration"] for r in rows], [r["E_total"] for r in rows], label=f"η = {lr}")
    ax.set(xlabel="iteration", ylabel="$E_{total}$", title="Gradient descent on the 2-2-2 network: learning rates compared")
    ax.grid(alpha=0.3)
    ax.legend()
    return fig


# Each file backprop-figures writes, and what draws it.
FIGURES = {
    "backprop_network.png": network,
    "backprop_step1.png": network_and_forward,
    "backprop_step2.png": w5_term_by_term,
    "backprop_step3.png": output_weights,
    "backprop_step4.png": hidden_weights,
    "backprop_lr_comparison.png": lr_comparison,
}


def drawn(fig: Figure) -> str:
    """The SHA-256 of what a figure shows, before it is drawn: its text and its lines' data. A PNG names it (its
    s6-drawn-sha256 chunk), so a test can tell whether a committed figure shows today's numbers on any matplotlib,
    whose versions place the same text a pixel apart."""
    texts = [text.get_text() for text in fig.findobj(Text) if text.get_text()]  # tick labels are empty until drawn
    lines = [[line.get_xdata().tolist(), line.get_ydata().tolist()] for ax in fig.axes for line in ax.get_lines()]
    return hashlib.sha256(json.dumps([texts, lines]).encode()).hexdigest()


def write_backprop_figures(directory: str | os.PathLike = "images", inputs: Inputs = Inputs()) -> list[Path]:
    """Render backprop_network.png, backprop_step1..4.png and backprop_lr_comparison.png into ``directory``."""
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    v = forward_backward(inputs.i1, inputs.i2, inputs.t1, inputs.t2, inputs.w)
    paths = []
    for name, draw in FIGURES.items():
        fig = draw(inputs) if draw is lr_comparison else draw(v)
        # Cropped to what is drawn: a wider canvas than its text only makes GitHub shrink the subscripts.
        fig.savefig(directory / name, dpi=100, bbox_inches="tight", pad_inches=0.15,
                    metadata={"s6-drawn-sha256": drawn(fig)})
        paths.append(directory / name)
    return paths
