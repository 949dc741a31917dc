"""The benchmark record (results/seeds.json): its helpers, and the committed record against each run's metrics."""

import json

from conftest import ROOT

from s6.records.results import ROLES, load_seed_results, run_folder, runs_of, seed_span


def test_seed_span_shortens_consecutive_seeds():
    assert seed_span([5, 1, 2, 3, 7, 8]) == "1-3, 5, 7-8"


def test_committed_seed_record_matches_each_runs_own_metrics():
    record = load_seed_results(ROOT / "results" / "seeds.json")
    assert {"model2", "model3"} <= set(record)
    for model, entry in record.items():
        for each in runs_of(entry):
            folder = ROOT / "results" / model / run_folder(each["seed"], each.get("path"))
            metrics = json.loads((folder / "metrics.json").read_text())
            assert metrics["epochs"][-1]["test_acc"] == each["final_test_acc"]
            assert metrics["params"] == entry["params"] and metrics["device"] == each["device"]
            assert metrics["seed"] == each["seed"] and each["role"] in ROLES
            assert metrics.get("cpu_path") == each.get("path")  # the path, where the record keeps it


def test_a_seed_on_another_cpu_path_gets_a_folder_of_its_own():
    """The same seed ends a few hundredths apart on two paths, so both runs are kept, each in its folder."""
    assert run_folder(7, "ATen AVX2") == run_folder(7, None) == "seed7"  # a record older than the path: AVX2's
    assert run_folder(7, "ATen AVX2, oneDNN max AVX2") == "seed7"
    assert run_folder(7, "ATen AVX512") == "seed7-avx512"
