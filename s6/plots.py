"""Figures for the CLI, the notebook and README. Each returns a matplotlib Figure (no pyplot state)."""

from __future__ import annotations

import statistics

import torch
from matplotlib.figure import Figure


def plot_history(history: list[dict], title: str = "") -> Figure:
    """Train and test (or validation) loss and accuracy against epoch."""
    from s6.train import held_out_of

    epochs, held_out = [r["epoch"] for r in history], held_out_of(history[0])
    label = "test" if held_out == "test" else "validation"
    fig = Figure(figsize=(10, 3.6), layout="constrained")
    loss_ax, acc_ax = fig.subplots(1, 2)
    loss_ax.plot(epochs, [r["train_loss"] for r in history], "o-", label="train")
    loss_ax.plot(epochs, [r[f"{held_out}_loss"] for r in history], "o-", label=label)
    loss_ax.set(xlabel="epoch", ylabel="cross-entropy loss", title="Loss")
    acc_ax.plot(epochs, [r["train_acc"] for r in history], "o-", label="train")
    acc_ax.plot(epochs, [r[f"{held_out}_acc"] for r in history], "o-", label=label)
    acc_ax.axhline(99.4, color="grey", ls="--", lw=1, label="99.4% target")
    lowest = min(min(r["train_acc"], r[f"{held_out}_acc"]) for r in history)  # fit every point, short runs too
    acc_ax.set(xlabel="epoch", ylabel="accuracy (%)", title="Accuracy", ylim=(max(0.0, lowest - 0.5), 100))
    for ax in (loss_ax, acc_ax):
        ax.grid(alpha=0.3)
        ax.legend()
    if title:
        fig.suptitle(title)
    return fig


def plot_digits(images: torch.Tensor, labels: list[str], columns: int = 10, title: str = "") -> Figure:
    """A grid of digits (N, 28, 28) or (N, 1, 28, 28), each captioned."""
    images = images.reshape(len(images), 28, 28).float().cpu()
    rows = (len(images) + columns - 1) // columns
    fig = Figure(figsize=(columns * 1.0, rows * 1.15), layout="constrained")
    axes = fig.subplots(rows, columns, squeeze=False)
    for i, ax in enumerate(axes.flat):
        ax.axis("off")
        if i < len(images):
            ax.imshow(images[i], cmap="gray")
            ax.set_title(labels[i], fontsize=8)
    if title:
        fig.suptitle(title)
    return fig


def plot_confusion(counts: torch.Tensor, title: str = "Confusion matrix (test set)") -> Figure:
    fig = Figure(figsize=(6, 5.4), layout="constrained")
    ax = fig.subplots()
    off_diagonal = counts.clone().fill_diagonal_(0)
    ax.imshow(off_diagonal, cmap="Reds")
    for t in range(counts.shape[0]):
        for p in range(counts.shape[1]):
            ax.text(p, t, int(counts[t, p]), ha="center", va="center", fontsize=7,
                    color="black" if t != p else "tab:blue")
    ax.set(xlabel="predicted", ylabel="true", title=title, xticks=range(10), yticks=range(10))
    return fig


def plot_seed_spread(results: dict, target: float = 99.4) -> Figure:
    """Test error at the final epoch against parameter count: one dot per seed, a bar at each model's median.

    ``results`` is results/seeds.json (see ``s6.results``). The error axis is logarithmic, so a run
    that failed to train (90% error) and runs that differ by hundredths of a point both show; the
    median, unlike the mean, is not dragged off by one such run.
    """
    from s6.results import ROLES, runs_of

    fig = Figure(figsize=(7, 4.2), layout="constrained")
    ax = fig.subplots()
    for model in sorted(results):
        entry = results[model]
        x, width = entry["params"], entry["params"] * 0.05
        counts = ", ".join(f"{len(runs_of(entry, role))} {role}" for role in ROLES if runs_of(entry, role))
        errors = [100.0 - run["final_test_acc"] for run in runs_of(entry)]
        color = None
        for role, marker in zip(ROLES, ("o", "s")):  # development seeds round, confirmation seeds square
            runs = runs_of(entry, role)
            if not runs:
                continue
            role_errors = [100.0 - run["final_test_acc"] for run in runs]
            (dots,) = ax.plot([x] * len(runs), role_errors, marker, ls="None", alpha=0.6, color=color,
                              mfc="none" if role == "confirmation" else None,
                              label=f"{model} ({counts} seeds)" if color is None else None)
            color = dots.get_color()
            for run, error in zip(runs, role_errors):
                if error > 50:
                    ax.annotate(f"seed {run['seed']}: did not learn", (x, error),
                                xytext=(8, -4), textcoords="offset points", fontsize=8)
        ax.hlines(statistics.median(errors), x - width, x + width, color=color, lw=2)
    ax.axhline(100.0 - target, color="grey", ls="--", lw=1, label=f"{target}% accuracy target")
    ax.set_yscale("log")
    ax.set(xlabel="trainable parameters", ylabel="test error at the final epoch (%), log scale",
           title="Lower is better (bar: median over seeds; squares: confirmation seeds)")
    ax.grid(alpha=0.3, which="both")
    ax.legend()
    return fig
