"""The benchmark record: results/seeds.json, the final-epoch test accuracy of every benchmark run.

benchmarks/bench_seeds.py writes it; the notebook and README read it, and the tables below (each role's summary, a
model's goal, the next exercise) are what both show of it. The layout:
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

from s6.models.registry import NEXT_EPOCHS, NEXT_MODEL, NEXT_PARAMETERS, REGISTRY, display_name

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


def seeds_table(results: dict) -> str:
    """A Markdown table: a row per model and role, final-epoch test accuracy over its seeds."""
    rows = ["| model | parameters | epochs | seeds | final test accuracy: mean | min (seed) | max | seconds / epoch |",
            "|---|---|---|---|---|---|---|---|"]
    for model, role, s in summaries(results):
        rows.append(f"| {display_name(model)} | {results[model]['params']:,} | {s.epochs} | {s.count} {role} "
                    f"({s.seeds}) | **{s.mean:.2f}** | **{s.worst['final_test_acc']:.2f}** ({s.worst['seed']}) | "
                    f"{s.best:.2f} | {s.seconds:.1f} |")
    return "\n".join(rows)


def against(mean: float, target: float) -> str:
    """``mean`` to two decimals, as the tables give it, or as many more as it takes to show which side of
    ``target`` it lies (99.4967 against 99.5 is 99.497, not 99.50)."""
    digits = 2
    while (round(mean, digits) >= target) != (mean >= target):
        digits += 1
    return f"{mean:.{digits}f}"


def goal(model: str, results: dict) -> str:
    """Per role: is every seed at or above the goal's minimum in each of its last epochs, and is the mean at or
    above its target (when the goal has one)?"""
    target, sentences = REGISTRY[model].goal, []
    where = "" if target.last == 1 else f" in each of its last {target.last} epochs"
    for name, role, x in summaries(results):
        if name != model:
            continue
        runs = runs_of(results[model], role)
        low, seed = min((lowest_of_last(run, target.last), run["seed"]) for run in runs)
        verdict = "met" if low >= target.min else "missed"
        text = (f"{role.capitalize()} seeds {x.seeds}: each ≥ {target.min:g}%{where} **{verdict}** "
                f"({'lowest' if where else 'min'} {low:.2f}%, seed {seed})")
        if target.mean is not None:
            mean = round(x.mean, 6)  # round: a float sum must not miss 99.5 by 1e-14
            text += (f"; mean ≥ {target.mean:g}% **{'met' if mean >= target.mean else 'missed'}** "
                     f"({against(mean, target.mean)}%)")
        sentences.append(text + ".")
    return " ".join(sentences)


def lows_by_role(model: str, results: dict) -> list[tuple[str, list[dict], list[float]]]:
    """(role, its runs in seed order, each run's lowest test accuracy over the last epochs the model's goal names)
    for every role that has runs."""
    last = REGISTRY[model].goal.last
    return [(role, runs, [lowest_of_last(run, last) for run in runs])
            for role in ROLES if (runs := runs_of(results[model], role))]


def last_epochs(model: str, results: dict) -> str:
    """Each seed's lowest test accuracy over the last epochs its goal names, per role, in seed order: the per-seed
    verdict of "consistently, not once"."""
    last, bar = REGISTRY[model].goal.last, REGISTRY[model].goal.min
    lines = []
    for role, runs, lows in lows_by_role(model, results):
        held = [run["seed"] for run, low in zip(runs, lows, strict=True) if low >= bar]
        missed = [run["seed"] for run, low in zip(runs, lows, strict=True) if low < bar]
        # name the shorter list: the seeds that held when most missed, else those that missed
        which = (f"; held on seed{'s' if len(held) > 1 else ''} {seed_span(held)}"
                 if held and len(held) < len(missed) else
                 f"; missed on seed{'s' if len(missed) > 1 else ''} {seed_span(missed)}" if missed else "")
        lines.append(f"{role.capitalize()} seeds {seed_span([run['seed'] for run in runs])}, the lowest of the "
                     f"last {last} epochs: {' · '.join(f'{low:.2f}' for low in lows)} ({len(held)} of "
                     f"{len(runs)} at ≥ {bar:g}%{which}).")
    return "\n".join(lines)


def next_exercise_table(results: dict, model: str = NEXT_MODEL) -> str:
    """README's rows for the course's next exercise: what it asks, what ``model`` has, and where the proof is; read
    from the registry and the seed record."""
    from s6.models.registry import build_model
    from s6.models.summary import count_parameters

    goal, name = REGISTRY[model].goal, display_name(model)
    params, epochs = count_parameters(build_model(model)), REGISTRY[model].recipe.epochs
    by_role = lows_by_role(model, results)
    every = all(min(lows) >= goal.min for _, _, lows in by_role)
    held = [f"{sum(low >= goal.min for low in lows)} of {len(runs)} {role} seeds (lowest {min(lows):.2f}%)"
            for role, runs, lows in by_role]
    return "\n".join([
        f"| the next exercise asks for | {name} has | proof |", "|---|---|---|",
        f"| < {NEXT_PARAMETERS:,} parameters | **{params:,}** {'✓' if params < NEXT_PARAMETERS else '✗'} | "
        f"`python -m s6 summary --model {model}` |",
        f"| ≤ {NEXT_EPOCHS} epochs | **{epochs}** {'✓' if epochs <= NEXT_EPOCHS else '✗'} | "
        f"[`{module_file(model)}`]({module_file(model)}) |",
        f"| ≥ {goal.min:g}% in each of the last {goal.last} epochs, not once | on {'; '.join(held)} "
        f"{'✓' if every else '✗'} | "
        "[every seed](docs/models.md#model-3-the-next-exercise-on-every-seed) |"])


def module_file(model: str) -> str:
    """The file that writes a registered model, "s6/models/model2.py", for a link."""
    return REGISTRY[model].module.replace(".", "/") + ".py"
