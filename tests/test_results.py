"""The benchmark record (results/seeds.json): its helpers, and the committed record against each run's metrics."""

import json

from conftest import ROOT

from s6.results.seeds import ROLES, load_seed_results, runs_of, seed_span


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
            if "test_accs" in each:  # kept since Model-3's goal looks at the last epochs
                assert each["test_accs"] == [epoch["test_acc"] for epoch in metrics["epochs"]]
            assert metrics["params"] == entry["params"] and metrics["device"] == each["device"]
            assert metrics["seed"] == each["seed"] and each["role"] in ROLES
            assert metrics.get("cpu_path") == each.get("path")  # the path, where the record keeps it

        paths = {each.get("path") for each in entry["runs"]}
        assert len(paths) == 1, f"{model}'s runs are of several CPU paths: {paths}"  # one path per record


def test_two_seed_benchmarks_side_by_side_keep_each_others_runs(tmp_path, monkeypatch):
    """benchmarks/bench_seeds.py re-reads the record under a lock before adding a run: a second benchmark's runs,
    written in between, stay; and each run keeps every epoch's test accuracy."""
    import importlib.util
    import sys

    spec = importlib.util.spec_from_file_location("bench_seeds", ROOT / "benchmarks" / "bench_seeds.py")
    bench = importlib.util.module_from_spec(spec)
    monkeypatch.setitem(sys.modules, "bench_seeds", bench)
    spec.loader.exec_module(bench)

    def metrics(seed: int) -> dict:
        return {"seed": seed, "params": 5, "device": "cpu: test", "cpu_path": "AVX2",
                "epochs": [{"test_acc": 99.0 + seed / 100, "seconds": 2.0}, {"test_acc": 99.5, "seconds": 4.0}]}

    record = tmp_path / "seeds.json"
    bench.record(record, "m", metrics(1), "development")  # benchmark A
    bench.record(record, "m", metrics(21), "confirmation")  # benchmark B, beside it
    runs = bench.record(record, "m", metrics(2), "development")["m"]["runs"]  # A again
    assert [(r["seed"], r["role"]) for r in runs] == [(1, "development"), (2, "development"), (21, "confirmation")]
    assert runs[0]["test_accs"] == [99.01, 99.5] and runs[0]["seconds_per_epoch"] == 3.0
    assert load_seed_results(record) == {"m": {"params": 5, "runs": runs}}
