"""The benchmark record (results/seeds.json) and the figures drawn from it and from a run's history."""

import json

import pytest
from conftest import ROOT

from s6.plots import plot_history, plot_seed_spread
from s6.results import ROLES, format_seed_runs, format_seed_table, load_seed_results, runs_of, seed_span


def run(seed: int, acc: float, seconds: float, role: str = "development", device: str = "cpu: test") -> dict:
    return {"seed": seed, "role": role, "epochs": 8, "final_test_acc": acc, "seconds_per_epoch": seconds,
            "device": device}


RECORD = {
    "big": {"params": 9000, "runs": [
        run(2, 99.5, 10.0), run(1, 99.3, 12.0), run(3, 99.6, 11.0),
        run(21, 99.45, 9.0, "confirmation", "cpu: other"), run(22, 99.55, 9.0, "confirmation", "cpu: other"),
    ]},
    "broken": {"params": 7000, "runs": [run(1, 11.35, 6.0)]},
}


def test_seed_table_summarises_development_and_confirmation_seeds_apart():
    lines = format_seed_table(RECORD).splitlines()
    development = next(line for line in lines if line.startswith("big     development"))
    confirmation = next(line for line in lines if line.startswith("big     confirmation"))
    # seeds, params, mean, min, (seed of the min), max, seconds per epoch
    assert development.split()[2:] == ["1-3", "9,000", "99.47", "99.30", "(1)", "99.60", "11.0"]
    assert confirmation.split()[2:] == ["21-22", "9,000", "99.50", "99.45", "(21)", "99.55", "9.0"]
    assert "big seeds 1-3: cpu: test" in lines and "big seeds 21-22: cpu: other" in lines


def test_seed_runs_lists_every_seed_of_a_role_in_order():
    assert format_seed_runs(RECORD["big"], "development").split() == ["1:99.30", "2:99.50", "3:99.60"]
    assert format_seed_runs(RECORD["big"], "confirmation").split() == ["21:99.45", "22:99.55"]


def test_seed_span_shortens_consecutive_seeds():
    assert seed_span([5, 1, 2, 3, 7, 8]) == "1-3, 5, 7-8"


def test_seed_spread_draws_a_dot_per_seed_even_for_a_run_that_did_not_train():
    fig = plot_seed_spread(RECORD)
    (ax,) = fig.axes
    dots = [line for line in ax.get_lines() if line.get_linestyle() == "None"]
    errors = sorted(float(y) for line in dots for y in line.get_ydata())
    assert errors == pytest.approx([0.4, 0.45, 0.5, 0.55, 0.7, 88.65])
    low, high = ax.get_ylim()
    assert low < 0.5 and high > 88.65  # every dot is inside the axes
    assert any(line.get_ydata()[0] == pytest.approx(0.6) for line in ax.get_lines())  # the 99.4% target
    hollow = [line for line in dots if line.get_markerfacecolor() == "none"]
    assert sorted(float(y) for line in hollow for y in line.get_ydata()) == pytest.approx([0.45, 0.55])


def test_training_curves_fit_a_short_run_that_is_far_from_the_target():
    history = [{"epoch": 1, "train_loss": 1.9, "train_acc": 41.7, "test_loss": 1.2, "test_acc": 64.7}]
    acc_ax = plot_history(history).axes[1]
    low, high = acc_ax.get_ylim()
    assert low <= 41.7 and high >= 99.4


def test_committed_seed_record_matches_each_runs_own_metrics():
    record = load_seed_results(ROOT / "results" / "seeds.json")
    assert {"model2", "model3"} <= set(record)
    for model, entry in record.items():
        for each in runs_of(entry):
            metrics = json.loads((ROOT / "results" / model / f"seed{each['seed']}" / "metrics.json").read_text())
            assert metrics["epochs"][-1]["test_acc"] == each["final_test_acc"]
            assert metrics["params"] == entry["params"] and metrics["device"] == each["device"]
            assert metrics["seed"] == each["seed"] and each["role"] in ROLES
