"""The benchmark record (results/seeds.json) and the figures drawn from it and from a run's history."""

import json

import pytest
from conftest import ROOT

from s6.plots import plot_history, plot_seed_spread
from s6.results import final_accuracies, format_seed_table, load_seed_results

RECORD = {
    "big": {"params": 9000, "device": "cpu: test", "runs": [
        {"seed": 2, "final_test_acc": 99.5, "seconds_per_epoch": 10.0},
        {"seed": 1, "final_test_acc": 99.3, "seconds_per_epoch": 12.0},
    ]},
    "broken": {"params": 7000, "device": "cpu: other", "runs": [
        {"seed": 1, "final_test_acc": 11.35, "seconds_per_epoch": 6.0},
    ]},
}


def test_seed_table_gives_each_seed_the_mean_the_min_and_the_device():
    table = format_seed_table(RECORD)
    big = next(line for line in table.splitlines() if line.startswith("big"))
    assert "1:99.30 2:99.50" in big  # in seed order
    assert big.split()[-3:] == ["99.40", "99.30", "11.0"]
    assert "big: cpu: test" in table and "broken: cpu: other" in table


def test_seed_spread_draws_a_dot_per_seed_even_for_a_run_that_did_not_train():
    fig = plot_seed_spread(RECORD)
    (ax,) = fig.axes
    dots = [line for line in ax.get_lines() if line.get_linestyle() == "None"]
    errors = sorted(float(y) for line in dots for y in line.get_ydata())
    assert errors == pytest.approx([0.5, 0.7, 88.65])
    low, high = ax.get_ylim()
    assert low < 0.5 and high > 88.65  # every dot is inside the axes
    assert any(line.get_ydata()[0] == pytest.approx(0.6) for line in ax.get_lines())  # the 99.4% target


def test_training_curves_fit_a_short_run_that_is_far_from_the_target():
    history = [{"epoch": 1, "train_loss": 1.9, "train_acc": 41.7, "test_loss": 1.2, "test_acc": 64.7}]
    acc_ax = plot_history(history).axes[1]
    low, high = acc_ax.get_ylim()
    assert low <= 41.7 and high >= 99.4


def test_committed_seed_record_matches_each_runs_own_metrics():
    record = load_seed_results(ROOT / "results" / "seeds.json")
    assert {"model2", "model3"} <= set(record)
    for model, entry in record.items():
        for run, accuracy in zip(sorted(entry["runs"], key=lambda r: r["seed"]), final_accuracies(entry)):
            metrics = json.loads((ROOT / "results" / model / f"seed{run['seed']}" / "metrics.json").read_text())
            assert metrics["epochs"][-1]["test_acc"] == accuracy
            assert metrics["params"] == entry["params"] and metrics["device"] == entry["device"]
