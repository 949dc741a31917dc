"""The benchmark record: results/seeds.json, the final-epoch test accuracy of every benchmark run.

benchmarks/bench_seeds.py writes it; the notebook and README read it. The layout:
``{model: {"params": int, "runs": [{"seed", "role", "epochs", "final_test_acc", "test_accs", "seconds_per_epoch",
"device", "path"}]}}``; ``test_accs`` is every epoch's test accuracy and ``path`` the CPU's vector path
(s6.device.cpu_path); records made before they were kept lack them.
One model's runs are all of one path: the same seed ends a few hundredths apart on two, so a record of another path
is a record of its own (bench_seeds.py --out).
A run's role is "development" (a seed that helped choose the design) or "confirmation" (a seed run once,
after the design was fixed, and reported as it came): the two are summarised apart, never pooled.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path

SEEDS_FILE = Path("results") / "seeds.json"  # relative to the repository root
ROLES = ("development", "confirmation")


def load_seed_results(path: str | os.PathLike = SEEDS_FILE) -> dict:
    """results/seeds.json as a dict, models in the order they were benchmarked."""
    return json.loads(Path(path).read_text())


def runs_of(entry: dict, role: str | None = None) -> list[dict]:
    """One model's runs in seed order; only those of ``role`` when it is given."""
    return sorted((run for run in entry["runs"] if role in (None, run["role"])), key=lambda run: run["seed"])


def seed_span(seeds: list[int]) -> str:
    """1, 2, 3, 5 -> '1-3, 5': the seeds a summary covers, short."""
    spans: list[list[int]] = []
    for seed in sorted(seeds):
        if spans and seed == spans[-1][1] + 1:
            spans[-1][1] = seed
        else:
            spans.append([seed, seed])
    return ", ".join(str(a) if a == b else f"{a}-{b}" for a, b in spans)


@dataclass(frozen=True)
class Summary:
    """One model's runs of one role, summarised: what every table of the record shows."""

    seeds: str  # e.g. "1-20"
    count: int  # runs
    mean: float  # final test accuracy, percent
    worst: dict  # the run with the lowest final accuracy
    best: float  # the highest final accuracy, percent
    seconds: float  # mean seconds per epoch
    epochs: str  # each run's schedule length, e.g. "8" (or "8/10" if they differ)


def summaries(results: dict) -> list[tuple[str, str, Summary]]:
    """(model, role, summary) for every model (by name) and role that has runs."""
    rows = []
    for model, entry in sorted(results.items()):
        for role in ROLES:
            runs = runs_of(entry, role)
            if runs:
                accs = [run["final_test_acc"] for run in runs]
                rows.append((model, role, Summary(
                    seeds=seed_span([run["seed"] for run in runs]), count=len(runs), mean=sum(accs) / len(accs),
                    worst=min(runs, key=lambda run: run["final_test_acc"]), best=max(accs),
                    seconds=sum(run["seconds_per_epoch"] for run in runs) / len(runs),
                    epochs="/".join(sorted({str(run["epochs"]) for run in runs})))))
    return rows


def lowest_of_last(run: dict, last: int) -> float:
    """A run's lowest test accuracy over its last ``last`` epochs: whether it held a bar there, not only at the end.
    A record made before every epoch was kept gives only its final epoch, so ``last`` must then be 1."""
    if last == 1:
        return run["final_test_acc"]
    return min(run["test_accs"][-last:])
