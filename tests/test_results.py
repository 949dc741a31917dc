"""The benchmark record (results/seeds.json): its helpers, and the committed record against each run's metrics."""

import json

from conftest import ROOT

from s6.records.results import ROLES, load_seed_results, runs_of, seed_span


def test_seed_span_shortens_consecutive_seeds():
    assert seed_span([5, 1, 2, 3, 7, 8]) == "1-3, 5, 7-8"


def test_committed_seed_record_matches_each_runs_own_metrics():
    record = load_seed_results(ROOT / "results" / "seeds.json")
    assert {"model2", "model3"} <= set(record)
    for model, entry in record.items():
        for each in runs_of(entry):
            folder = ROOT / "results" / model / f"seed{each['seed']}"
            metrics = json.loads((folder / "metrics.json").read_text())
            assert metrics["epochs"][-1]["test_acc"] == each["final_test_acc"]
            assert metrics["params"] == entry["params"] and metrics["device"] == each["device"]
            assert metrics["seed"] == each["seed"] and each["role"] in ROLES
            assert metrics.get("cpu_path") == each.get("path")  # the path, where the record keeps it

        paths = {each.get("path") for each in entry["runs"]}
        assert len(paths) == 1, f"{model}'s runs are of several CPU paths: {paths}"  # one path per record
