"""Part 1's images: the network, the chain-rule steps with the default numbers, the LR comparison."""

from __future__ import annotations

import os
from pathlib import Path

from matplotlib.figure import Figure

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


def network_and_forward(v: dict[str, float]) -> Figure:
    """Step 1: the network with its weights, and the forward pass with the default numbers."""
    fig = Figure(figsize=(11, 5.2))
    ax = fig.add_axes((0.0, 0.05, 0.5, 0.85))
    ax.set_xlim(-0.6, 7.4)
    ax.set_ylim(-0.8, 2.8)
    ax.axis("off")
    for a, b, w in EDGES:
        (x0, y0), (x1, y1) = NODES[a], NODES[b]
        ax.plot([x0, x1], [y0, y1], color="grey", lw=1.2, zorder=1)
        t = 0.3 if (y0 != y1) else 0.5
        ax.text(x0 + t * (x1 - x0), y0 + t * (y1 - y0) + 0.12, _weight_label(w), fontsize=11, ha="center")
    for name, (x, y) in NODES.items():
        ax.scatter([x], [y], s=1500, color="#DDEBF7", edgecolors="#1F4E79", zorder=2)
        ax.text(x, y, name if name[0] == "i" else f"{name}\n$\\sigma$", ha="center", va="center", fontsize=10, zorder=3)
    for o, t in (("o1", "t1"), ("o2", "t2")):
        x, y = NODES[o]
        ax.text(x + 0.45, y, f"$E_{o[1]} = \\frac{{1}}{{2}}({t[0]}_{t[1]} - a_{{{o}}})^2$", fontsize=11, va="center")
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
        fig.text(0.52, 0.82 - i * 0.11, line, fontsize=12.5, va="center")
    return fig


def w5_term_by_term(v: dict[str, float]) -> Figure:
    d1 = v["a_o1"] - v["t1"]
    d2 = v["a_o1"] * (1 - v["a_o1"])
    return _text_figure("Step 2: $\\partial E_{total}/\\partial w_5$, one chain-rule factor at a time", [
        r"$\frac{\partial E_{total}}{\partial w_5} = \frac{\partial E_1}{\partial a_{o1}} \cdot \frac{\partial a_{o1}}{\partial o_1} \cdot \frac{\partial o_1}{\partial w_5}$"
        r"      ($E_2$ does not depend on $w_5$)",
        rf"$\frac{{\partial E_1}}{{\partial a_{{o1}}}} = a_{{o1}} - t_1 = {d1:.6f}$",
        rf"$\frac{{\partial a_{{o1}}}}{{\partial o_1}} = a_{{o1}}(1 - a_{{o1}}) = {d2:.6f}$      (the sigmoid's derivative)",
        rf"$\frac{{\partial o_1}}{{\partial w_5}} = a_{{h1}} = {v['a_h1']:.6f}$",
        rf"$\frac{{\partial E_{{total}}}}{{\partial w_5}} = (a_{{o1}} - t_1)\, a_{{o1}}(1 - a_{{o1}})\, a_{{h1}} = {v['dE/dw5']:.6f}$",
    ], 5.2)


def output_weights(v: dict[str, float]) -> Figure:
    return _text_figure("Step 3: the same chain for $w_5 \\ldots w_8$", [
        rf"$\frac{{\partial E_{{total}}}}{{\partial w_5}} = (a_{{o1}} - t_1)\, a_{{o1}}(1 - a_{{o1}})\, a_{{h1}} = {v['dE/dw5']:.6f}$",
        rf"$\frac{{\partial E_{{total}}}}{{\partial w_6}} = (a_{{o1}} - t_1)\, a_{{o1}}(1 - a_{{o1}})\, a_{{h2}} = {v['dE/dw6']:.6f}$",
        rf"$\frac{{\partial E_{{total}}}}{{\partial w_7}} = (a_{{o2}} - t_2)\, a_{{o2}}(1 - a_{{o2}})\, a_{{h1}} = {v['dE/dw7']:.6f}$",
        rf"$\frac{{\partial E_{{total}}}}{{\partial w_8}} = (a_{{o2}} - t_2)\, a_{{o2}}(1 - a_{{o2}})\, a_{{h2}} = {v['dE/dw8']:.6f}$",
    ], 4.2)


def hidden_weights(v: dict[str, float]) -> Figure:
    d_o1 = r"(a_{o1} - t_1)\, a_{o1}(1 - a_{o1})"
    d_o2 = r"(a_{o2} - t_2)\, a_{o2}(1 - a_{o2})"
    return _text_figure("Step 4: back through the hidden layer ($a_{h1}$ feeds both outputs, and so does $a_{h2}$)", [
        rf"$\frac{{\partial E_{{total}}}}{{\partial a_{{h1}}}} = {d_o1}\, w_5 + {d_o2}\, w_7 = {v['dE/da_h1']:.6f}$",
        rf"$\frac{{\partial E_{{total}}}}{{\partial a_{{h2}}}} = {d_o1}\, w_6 + {d_o2}\, w_8 = {v['dE/da_h2']:.6f}$",
        rf"$\frac{{\partial E_{{total}}}}{{\partial w_1}} = \frac{{\partial E_{{total}}}}{{\partial a_{{h1}}}}\, a_{{h1}}(1 - a_{{h1}})\, i_1 = {v['dE/dw1']:.8f}$",
        rf"$\frac{{\partial E_{{total}}}}{{\partial w_2}} = \frac{{\partial E_{{total}}}}{{\partial a_{{h1}}}}\, a_{{h1}}(1 - a_{{h1}})\, i_2 = {v['dE/dw2']:.8f}$",
        rf"$\frac{{\partial E_{{total}}}}{{\partial w_3}} = \frac{{\partial E_{{total}}}}{{\partial a_{{h2}}}}\, a_{{h2}}(1 - a_{{h2}})\, i_1 = {v['dE/dw3']:.8f}$"
        r"      ($a_{h2}$, not $a_{h1}$: $w_3$ feeds $h_2$)",
        rf"$\frac{{\partial E_{{total}}}}{{\partial w_4}} = \frac{{\partial E_{{total}}}}{{\partial a_{{h2}}}}\, a_{{h2}}(1 - a_{{h2}})\, i_2 = {v['dE/dw4']:.8f}$",
        r"then every weight at once: $w \leftarrow w - \eta\, \partial E_{total}/\partial w$, and the forward pass again",
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


def write_backprop_figures(directory: str | os.PathLike = "images", inputs: Inputs = Inputs()) -> list[Path]:
    """Render backprop_step1..4.png and backprop_lr_comparison.png into ``directory``."""
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    v = forward_backward(inputs.i1, inputs.i2, inputs.t1, inputs.t2, inputs.w)
    figures = {
        "backprop_step1.png": network_and_forward(v),
        "backprop_step2.png": w5_term_by_term(v),
        "backprop_step3.png": output_weights(v),
        "backprop_step4.png": hidden_weights(v),
        "backprop_lr_comparison.png": lr_comparison(inputs),
    }
    paths = []
    for name, fig in figures.items():
        fig.savefig(directory / name, dpi=100)
        paths.append(directory / name)
    return paths
