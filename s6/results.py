"""The benchmark record: results/seeds.json, one entry per model with the final-epoch accuracy of each seed.

benchmarks/bench_seeds.py writes it; the notebook and README read it. The layout:
``{model: {"params": int, "device": str, "runs": [{"seed", "final_test_acc", "seconds_per_epoch"}]}}``.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

SEEDS_FILE = Path("results") / "seeds.json"  # relative to the repository root


def load_seed_results(path: str | os.PathLike = SEEDS_FILE) -> dict:
    """results/seeds.json as a dict, models in the order they were benchmarked."""
    return json.loads(Path(path).read_text())


def final_accuracies(entry: dict) -> list[float]:
    """Final-epoch test accuracy (percent) of each seed of one model, in seed order."""
    return [run["final_test_acc"] for run in sorted(entry["runs"], key=lambda run: run["seed"])]


def format_seed_table(results: dict) -> str:
    """One line per model, by name: parameters, each seed's final accuracy, mean, min, seconds per epoch; devices."""
    per_seed = {model: " ".join(f"{run['seed']}:{run['final_test_acc']:.2f}"
                                for run in sorted(entry["runs"], key=lambda run: run["seed"]))
                for model, entry in results.items()}
    width = max(40, *(len(text) + 2 for text in per_seed.values()))
    lines = [f"{'model':<8}{'params':>8}  {'final test accuracy per seed (%)':<{width}}{'mean':>7}{'min':>7}"
             f"{'s/epoch':>9}"]
    for model, entry in sorted(results.items()):
        accs = final_accuracies(entry)
        seconds = sum(run["seconds_per_epoch"] for run in entry["runs"]) / len(entry["runs"])
        lines.append(f"{model:<8}{entry['params']:>8}  {per_seed[model]:<{width}}{sum(accs) / len(accs):>7.2f}"
                     f"{min(accs):>7.2f}{seconds:>9.1f}")
    for model, entry in sorted(results.items()):
        lines.append(f"{model}: {entry['device']}")
    return "\n".join(lines)
