"""Each figure draws what its title says: the model and seed it names, the count it states, every point in view
or named as out of it."""

import pytest
import torch

from s6.results.plots import plot_confusion, plot_misclassified, plot_seed_spread
from s6.training.curves import plot_history


def run(seed: int, acc: float, role: str = "development") -> dict:
    return {"seed": seed, "role": role, "epochs": 8, "final_test_acc": acc, "seconds_per_epoch": 9.0,
            "device": "cpu: test"}


RECORD = {
    "model2": {"params": 9000, "runs": [run(2, 99.5), run(1, 99.3), run(3, 99.6), run(21, 99.45, "confirmation"),
                                        run(22, 99.55, "confirmation")]},
    "model1": {"params": 7000, "runs": [run(1, 11.35), run(2, 99.1)]},
}


def epoch(n: int, train: float, test: float) -> dict:
    return {"epoch": n, "train_loss": 0.1, "train_acc": train, "test_loss": 0.05, "test_acc": test}


def test_seed_spread_puts_every_learned_seed_in_view_and_names_the_one_that_did_not_learn():
    (ax,) = plot_seed_spread(RECORD).axes
    dots = [line for line in ax.get_lines() if line.get_linestyle() == "None"]
    accuracies = sorted(float(y) for line in dots for y in line.get_ydata())
    assert accuracies == pytest.approx([11.35, 99.1, 99.3, 99.45, 99.5, 99.55, 99.6])
    low, high = ax.get_ylim()
    assert low == pytest.approx(99.0) and high > 99.6 and ax.get_yscale() == "linear"  # zoomed, not to 11%
    assert any("seed 1: 11.3%, below the view" in t.get_text() for t in ax.texts)
    hollow = [line for line in dots if line.get_markerfacecolor() == "none"]
    assert sorted(float(y) for line in hollow for y in line.get_ydata()) == pytest.approx([99.45, 99.55])
    assert {t.get_text().split(" (")[0] for t in ax.get_legend().get_texts()} >= {"Model-1", "Model-2"}


def test_seed_spread_draws_every_seed_at_its_models_true_parameter_count():
    """Development and confirmation seeds are told apart by marker, not by a nudge along the parameter axis."""
    (ax,) = plot_seed_spread(RECORD).axes
    dots = [line for line in ax.get_lines() if line.get_linestyle() == "None"]
    assert {float(x) for line in dots for x in line.get_xdata()} == {entry["params"] for entry in RECORD.values()}
    assert {line.get_marker() for line in dots} == {"o", "s"}


def test_seed_spread_draws_each_roles_mean_as_the_tables_give_it():
    (ax,) = plot_seed_spread(RECORD).axes
    bars = {(round(float(c.get_segments()[0][0][1]), 6), c.get_linestyle()[0][1] is None) for c in ax.collections}
    # Model-2: development 99.3, 99.5, 99.6 (mean 99.4667, solid); confirmation 99.45, 99.55 (99.5, dotted)
    assert bars == {(round(55.225, 6), True), (round(298.4 / 3, 6), True), (99.5, False)}


def test_history_zooms_to_the_later_epochs_and_names_a_first_epoch_below_the_view():
    history = [epoch(1, 71.0, 96.0), epoch(2, 98.2, 98.9), epoch(3, 99.0, 99.45)]
    loss_ax, acc_ax = plot_history({"epochs": history}, "Model-1, seed 4").axes
    assert acc_ax.get_ylim() == pytest.approx((97.0, 100.0))
    # named under the panel, beside the axis's label, so no curve or the target's line runs over them
    assert acc_ax.get_xlabel() == "epoch\nbelow the view:\nepoch 1: train 71.0%, test 96.0%"
    assert loss_ax.get_xlabel() == "epoch" and not acc_ax.texts
    assert acc_ax.get_title() == "Model-1, seed 4: accuracy per epoch"
    assert loss_ax.get_title() == "Model-1, seed 4: loss per epoch"


@pytest.mark.parametrize("split", ["test", "val"])
def test_history_names_what_lies_below_the_view_inside_the_figure(split):
    """The note under the accuracy panel is drawn whole: not cut off at the figure's edge, on a test run and on a
    validation run (whose longer word was cut)."""
    history = [{"epoch": n, "train_loss": 0.1, "train_acc": train, f"{split}_loss": 0.05, f"{split}_acc": scored}
               for n, train, scored in ((1, 92.11, 95.67), (2, 97.8, 98.5), (3, 99.3, 99.52))]
    fig = plot_history({"epochs": history, "validation": 5000 if split == "val" else None}, "Model-2, seed 6")
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    renderer = FigureCanvasAgg(fig).get_renderer()
    fig.draw(renderer)
    label = fig.axes[1].xaxis.label.get_window_extent(renderer)
    assert label.x0 >= 0 and label.x1 <= fig.bbox.width


@pytest.mark.parametrize("epochs", [1, 2, 5])
def test_history_legend_covers_no_point_and_stays_inside_the_figure(epochs):
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    history = [epoch(n, 97.0 + n / 2, 98.0 + n / 3) for n in range(1, epochs + 1)]
    fig = plot_history({"epochs": history}, "Model-2, seed 6")
    renderer = FigureCanvasAgg(fig).get_renderer()
    fig.draw(renderer)
    (legend,) = fig.legends
    box = legend.get_window_extent(renderer)
    assert box.x0 >= 0 and box.y0 >= 0 and box.x1 <= fig.bbox.width and box.y1 <= fig.bbox.height
    assert [t.get_text() for t in legend.get_texts()] == ["train", "test", "99.4% target"]
    for ax in fig.axes:
        for line in ax.get_lines():
            for point in ax.transData.transform(line.get_xydata()):
                assert not box.contains(*point), (ax.get_title(), point)


def test_history_ticks_whole_epochs_only_even_for_a_one_epoch_run():
    for history in ([epoch(1, 41.7, 64.7)], [epoch(n, 98.0 + n / 10, 98.5 + n / 10) for n in range(1, 16)]):
        for ax in plot_history({"epochs": history}).axes:
            assert list(ax.get_xticks()) == [r["epoch"] for r in history]


def test_history_of_a_single_short_epoch_keeps_its_point_in_view():
    (_, acc_ax) = plot_history({"epochs": [epoch(1, 41.7, 64.7)]}).axes
    low, high = acc_ax.get_ylim()
    assert low <= 41.7 and high >= 99.4


def test_misclassified_grid_shows_as_many_digits_as_its_title_says():
    labels = torch.arange(50) % 10
    predictions = labels.clone()
    predictions[:47] = (labels[:47] + 1) % 10  # 47 wrong, 3 right
    fig = plot_misclassified(torch.zeros(50, 28, 28), labels, predictions, "Model-2, seed 1")
    drawn = [ax for ax in fig.axes if ax.get_images()]
    assert len(drawn) == 30
    assert fig._suptitle.get_text().startswith("Model-2, seed 1: the first 30 of its 47 misclassified")
    assert drawn[0].get_title() == "0 → 1"
    few = plot_misclassified(torch.zeros(50, 28, 28), labels, labels.roll(1) * 0 + labels, "M")
    assert few._suptitle.get_text().startswith("M: all 0 misclassified")


def test_confusion_matrix_names_its_model_and_writes_dark_cells_in_white():
    counts = torch.eye(10, dtype=torch.long) * 980
    counts[9, 4], counts[7, 2] = 12, 1
    (ax, _colorbar) = plot_confusion(counts, "Model-2, seed 1").axes
    assert ax.get_title().startswith("Model-2, seed 1: confusion matrix") and "13 misread" in ax.get_title()
    colour = {t.get_text(): t.get_color() for t in ax.texts}
    assert colour["12"] == "white" and colour["1"] == "black" and colour["980"] == "dimgrey"
    assert len(ax.texts) == 12  # the diagonal and the two mistakes; a zero cell stays blank


def test_top_confusions_lists_the_commonest_mistakes_first():
    from s6.results.analysis import top_confusions

    counts = torch.eye(10, dtype=torch.long) * 980
    counts[9, 4], counts[7, 2], counts[4, 9] = 12, 1, 5
    assert top_confusions(counts, 2) == [(9, 4, 12), (4, 9, 5)]
    assert top_confusions(torch.eye(10, dtype=torch.long)) == []


def test_digit_grid_draws_each_digit_under_its_caption_and_its_title():
    from s6.results.plots import plot_digits

    fig = plot_digits(torch.zeros(12, 1, 28, 28), [str(i % 10) for i in range(12)], title="Training digits")
    drawn = [ax for ax in fig.axes if ax.get_images()]
    assert [ax.get_title() for ax in drawn] == [str(i % 10) for i in range(12)]
    assert len(fig.axes) == 20 and fig._suptitle.get_text() == "Training digits"  # 2 rows of 10, 8 left blank
