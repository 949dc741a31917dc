"""A run's curves: loss and accuracy against epoch, as train_run saves them in curves.png and the notebook shows them.

The title names the model and the seed; the accuracy axis is linear and zoomed to where the curves differ, with
whatever falls below the view named on it.
"""

from __future__ import annotations

from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator

from s6.models.registry import EXERCISE_ACCURACY
from s6.training.train import SPLIT_NAMES, scored_on


def plot_history(metrics: dict, who: str = "") -> Figure:
    """A run's train and test (or validation) loss and accuracy against epoch, from its metrics (metrics.json);
    ``who`` (e.g. "Model-2, seed 1") heads each panel's title.

    The accuracy axis starts 0.5 points below the lowest value after epoch 1, or at 97%, whichever is lower: a
    first epoch at 71% would otherwise squash the band the target lies in. A point below the view is named under the
    panel, beside the epoch axis's label, where no curve or line can run over it.
    """
    history, split = metrics["epochs"], scored_on(metrics.get("validation"))
    epochs, label = [r["epoch"] for r in history], SPLIT_NAMES[split]
    prefix = f"{who}: " if who else ""
    fig = Figure(figsize=(8.8, 3.6), layout="constrained")  # 880 px at 100 dpi: GitHub's column, unshrunk
    loss_ax, acc_ax = fig.subplots(1, 2)
    loss_ax.plot(epochs, [r["train_loss"] for r in history], "o-", label="train")
    loss_ax.plot(epochs, [r[f"{split}_loss"] for r in history], "o-", label=label)
    loss_ax.set(xlabel="epoch", ylabel="cross-entropy loss", title=f"{prefix}loss per epoch")
    accuracies = {"train": [r["train_acc"] for r in history], label: [r[f"{split}_acc"] for r in history]}
    for name, values in accuracies.items():
        acc_ax.plot(epochs, values, "o-", label=name)
    acc_ax.axhline(EXERCISE_ACCURACY, color="grey", ls="--", lw=1, label=f"{EXERCISE_ACCURACY}% target")
    later = [v for values in accuracies.values() for v in (values[1:] or values)]
    bottom = min(97.0, min(later) - 0.5)
    # Grouped by epoch ("epoch 1: train 92.1%, test 95.7%"), short enough to fit under the panel.
    below = [f"epoch {epoch}: " + ", ".join(f"{name} {values[i]:.1f}%" for name, values in accuracies.items()
                                           if values[i] < bottom)
             for i, epoch in enumerate(epochs) if any(values[i] < bottom for values in accuracies.values())]
    xlabel = "epoch" + (f"\nbelow the view:\n{'; '.join(below)}" if below else "")
    acc_ax.set(xlabel=xlabel, ylabel="accuracy (%)", title=f"{prefix}accuracy per epoch", ylim=(bottom, 100))
    for ax in (loss_ax, acc_ax):
        ax.grid(alpha=0.3)
        if len(epochs) <= 20:
            ax.set_xticks(epochs)  # epochs are whole: a tick at each, none at 1.5 (MaxNLocator gives 0.96 for one)
        else:
            ax.xaxis.set_major_locator(MaxNLocator(integer=True))
        if len(epochs) == 1:
            ax.set_xlim(epochs[0] - 0.5, epochs[0] + 0.5)
    # One legend for both panels (the same colours mean the same thing), below them: inside either it can cover a
    # short run's points, wherever they fall.
    fig.legend(*acc_ax.get_legend_handles_labels(), loc="outside lower center", ncols=3)
    return fig
