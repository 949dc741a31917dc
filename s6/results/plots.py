"""Figures of the results, for the notebook and README (a run's own curves: s6.training.curves). Each returns a
matplotlib Figure (no pyplot state).

Every title names the model, the seed and the measure, so a figure cut out of its page still says what it shows;
accuracy axes are linear and zoomed to where the runs differ, with whatever falls below the view named on it.
"""

from __future__ import annotations

import statistics

import torch
from matplotlib.figure import Figure

from s6.models.registry import EXERCISE_ACCURACY, display_name
from s6.results.analysis import misclassified, mistakes


def plot_digits(images: torch.Tensor, labels: list[str], columns: int = 10, title: str = "") -> Figure:
    """A grid of digits (N, 28, 28) or (N, 1, 28, 28), each captioned."""
    images = images.reshape(len(images), 28, 28).float().cpu().numpy()  # matplotlib reads arrays, not tensors
    rows = max(1, (len(images) + columns - 1) // columns)  # an empty grid still carries its title
    fig = Figure(figsize=(columns * 1.0, rows * 1.15 + 0.4), layout="constrained")
    axes = fig.subplots(rows, columns, squeeze=False)
    for i, ax in enumerate(axes.flat):
        ax.axis("off")
        if i < len(images):
            ax.imshow(images[i], cmap="gray")
            ax.set_title(labels[i], fontsize=9)
    if title:
        fig.suptitle(title)
    return fig


def plot_misclassified(images: torch.Tensor, labels: torch.Tensor, predictions: torch.Tensor, who: str,
                       shown: int = 30) -> Figure:
    """The first ``shown`` misclassified digits, captioned "true → predicted"; the title counts what it shows of
    how many there are."""
    wrong = misclassified(labels, predictions)
    first = wrong[:shown]
    captions = [f"{int(labels[i])} → {int(predictions[i])}" for i in first]
    title = (f"{who}: the first {len(first)} of its {len(wrong)} misclassified test digits (true → predicted)"
             if len(first) < len(wrong) else f"{who}: all {len(wrong)} misclassified test digits (true → predicted)")
    return plot_digits(images[first], captions, title=title)


def plot_confusion(counts: torch.Tensor, who: str) -> Figure:
    """The confusion matrix's mistakes: each off-diagonal count on a cell shaded by it, in white on the darkest
    cells; the diagonal (the digits read right) in grey, unshaded, so the mistakes keep the colour scale."""
    fig = Figure(figsize=(6.4, 5.6), layout="constrained")
    ax = fig.subplots()
    wrong = mistakes(counts)
    peak = max(int(wrong.max()), 1)
    image = ax.imshow(wrong.numpy(), cmap="Reds", vmin=0, vmax=peak)
    for t in range(counts.shape[0]):
        for p in range(counts.shape[1]):
            value = int(counts[t, p])
            if t == p:
                ax.text(p, t, value, ha="center", va="center", fontsize=8, color="dimgrey")
            elif value:
                ax.text(p, t, value, ha="center", va="center", fontsize=10, weight="bold",
                        color="white" if value > 0.55 * peak else "black")
    fig.colorbar(image, ax=ax, label="test digits misread", shrink=0.8)
    ax.set(xlabel="predicted digit", ylabel="true digit", xticks=range(10), yticks=range(10),
           title=f"{who}: confusion matrix on the 10,000 test digits\n"
                 f"({int(wrong.sum())} misread; the diagonal, in grey, is read right)")
    return fig


def plot_seed_spread(results: dict, target: float = EXERCISE_ACCURACY) -> Figure:
    """Final-epoch test accuracy of every seed against parameter count: a dot per seed, a bar at each role's mean
    (the mean the seed tables give: solid for the development seeds, dotted for the confirmation seeds).

    ``results`` is results/seeds.json (see ``s6.results.seeds``). The axis is linear and zoomed to the runs; a run
    below the view (a seed that did not learn) is named on the plot instead of stretching the axis for everyone
    else.
    """
    from s6.results.seeds import ROLES, runs_of

    fig = Figure(figsize=(7.5, 4.4), layout="constrained")
    ax = fig.subplots()
    finals = [run["final_test_acc"] for entry in results.values() for run in runs_of(entry)]
    learned = [a for a in finals if a > 90] or finals
    bottom, top = min(min(learned), target) - 0.1, max(learned) + 0.1
    for model in sorted(results):
        entry = results[model]
        # Both roles at the model's true parameter count: the marker tells them apart, not a nudge sideways (which
        # put Model-2's 19,274 on the 20,000 gridline, as if it sat at the limit).
        x, width = entry["params"], entry["params"] * 0.05
        counts = ", ".join(f"{len(runs_of(entry, role))} {role}" for role in ROLES if runs_of(entry, role))
        color = None
        for role, marker in zip(ROLES, ("o", "s")):  # development: filled circle; confirmation: hollow square
            runs = runs_of(entry, role)
            if not runs:
                continue
            (dots,) = ax.plot([x] * len(runs), [run["final_test_acc"] for run in runs], marker, ls="None",
                              alpha=0.6, color=color, mfc="none" if role == "confirmation" else None,
                              label=f"{display_name(model)} ({counts} seeds)" if color is None else None)
            color = dots.get_color()
            ax.hlines(statistics.fmean(run["final_test_acc"] for run in runs), x - width, x + width, color=color,
                      lw=2, ls="-" if role == ROLES[0] else ":")
            for run in runs:
                if run["final_test_acc"] < bottom:
                    ax.annotate(f"seed {run['seed']}: {run['final_test_acc']:.1f}%, below the view", (x, bottom),
                                xytext=(8, 4), textcoords="offset points", fontsize=8)
    ax.axhline(target, color="grey", ls="--", lw=1, label=f"{target}% target")
    ax.set(xlabel="trainable parameters", ylabel="test accuracy at the final epoch (%)", ylim=(bottom, top),
           title="Every seed's final test accuracy, by model\n"
                 "filled circles: development seeds, solid bar: their mean;\n"
                 "hollow squares: confirmation seeds, dotted bar: their mean")
    ax.grid(alpha=0.3)
    ax.legend(loc="lower right", fontsize=8)
    return fig


def plot_frontier(record: dict, target: float = EXERCISE_ACCURACY) -> Figure:
    """A validation screen's sizes: each candidate's worst seed (filled, solid) and mean (hollow, dashed) final
    validation accuracy against its parameters, and the lowest accuracy of any seed in its last epochs (triangles,
    dotted: the next exercise's "consistently"), a line per family, and the bar every seed must reach.

    ``record`` is a screen's record (results/model3_screen.json; s6.results.frontier reads it); the candidate it
    names as ``chosen``, the one that became the model, is pointed out.
    """
    from s6.results.frontier import LAST, frontier

    points = frontier(record)
    fig = Figure(figsize=(9.5, 4.6), layout="constrained")
    ax = fig.subplots()
    for family in dict.fromkeys(p.family for p in points):
        line = [p for p in points if p.family == family]
        seeds = sorted({len(p.seeds) for p in line})
        runs = str(seeds[0]) if len(seeds) == 1 else f"{seeds[0]}-{seeds[-1]}"
        (worst,) = ax.plot([p.params for p in line], [p.worst for p in line], "o-", label=f"{family} ({runs} seeds)")
        ax.plot([p.params for p in line], [p.mean for p in line], "o--", mfc="none", color=worst.get_color())
        ax.plot([p.params for p in line], [p.held for p in line], "v:", color=worst.get_color())
    accs = [p.worst for p in points] + [p.mean for p in points] + [p.held for p in points]
    for style, label in (("o-", "the worst seed, final epoch"), ("o--", "the mean, final epoch"),
                         ("v:", f"the lowest of any seed's last {LAST} epochs")):
        ax.plot([], [], style, color="black", mfc="none" if "--" in style else None, label=label)
    if record.get("chosen"):
        point = next(p for p in points if p.candidate == record["chosen"])
        ax.annotate(f"Model-3 ({point.candidate})", (point.params, point.worst), xytext=(-14, 30),  # up and to the
                    textcoords="offset points", ha="right", fontsize=8,  # left: the largest candidate sits at the edge
                    arrowprops={"arrowstyle": "->", "lw": 0.8})
    ax.axhline(target, color="grey", ls="-.", lw=1, label=f"{target}%: the bar on every seed")
    ax.set(xlabel="trainable parameters", ylabel="validation accuracy (%)",
           ylim=(min(min(accs), target) - 0.05, max(accs) + 0.05),
           title="Model-3's candidates on the validation split, by size: a colour per family")
    ax.grid(alpha=0.3)
    ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1), fontsize=8)
    return fig
