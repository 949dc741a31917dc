"""What a validation screen says of each size it tried: the worst seed, the mean, and whether every seed held.

A screen's record (benchmarks/screen_model3.py) has a row per candidate and seed, each with every epoch's
validation accuracy. The next exercise asks for 99.4% "consistently shown in the last few epochs", so a size
holds only if every seed's accuracy stays at or above the bar through each of its last ``LAST`` epochs, not only at
the final one.
"""

from __future__ import annotations

import statistics
from dataclasses import dataclass

from s6.models.registry import EXERCISE_ACCURACY

LAST = 3  # the epochs at the end of a run that must each reach the bar: "the last few epochs"


@dataclass(frozen=True)
class Point:
    """One candidate of a screen, over its seeds."""

    candidate: str
    family: str  # candidates of one family are drawn as one line
    params: int
    seeds: tuple[int, ...]
    mean: float  # mean final-epoch validation accuracy, in %
    worst: float  # the lowest seed's final-epoch accuracy
    worst_seed: int
    held: float  # the lowest accuracy of any seed in any of its last LAST epochs: the bar holds if this reaches it

    def holds(self, bar: float = EXERCISE_ACCURACY) -> bool:
        return self.held >= bar


def candidate_runs(record: dict) -> dict[str, list[dict]]:
    """A screen's runs by candidate (in the record's order), each candidate's in seed order."""
    by_candidate: dict[str, list[dict]] = {}
    for run in record["runs"]:
        by_candidate.setdefault(run["candidate"], []).append(run)
    return {name: sorted(runs, key=lambda run: run["seed"]) for name, runs in by_candidate.items()}


def frontier(record: dict) -> list[Point]:
    """A point per candidate of the record, smallest first (by family, then parameters)."""
    points = []
    for name, runs in candidate_runs(record).items():
        worst = min(runs, key=lambda run: (run["final_val_acc"], run["seed"]))
        points.append(Point(name, runs[0].get("family", name), runs[0]["params"],
                            tuple(run["seed"] for run in runs),
                            statistics.fmean(run["final_val_acc"] for run in runs), worst["final_val_acc"],
                            worst["seed"], min(acc for run in runs for acc in run["val_accs"][-LAST:])))
    return sorted(points, key=lambda p: (p.family, p.params))
