"""The figures README and docs/ quote, generated from results/ and the notebook instead of typed by hand.

A block between ``<!-- s6:NAME -->`` (or ``<!-- s6:NAME PATH -->``) and ``<!-- /s6:NAME -->`` in a Markdown file
is output of this module; ``python tools/report.py`` rewrites every such block in place, and ``--check`` (which a
test runs) fails when a block no longer matches its source, so a stale figure cannot reach main.
``python tools/report.py --list`` names every block, what it writes and what it reads (``blocks``, below).
"""

from __future__ import annotations

import argparse
import json
import math
import re
import sys
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import torch
from torch import nn

from s6 import S6Error, atomic_write_bytes, plural
from s6.models.registry import (
    DEFAULT_MODEL,
    EXERCISE_ACCURACY,
    REGISTRY,
    Entry,
    display_name,
)
from s6.models.summary import count_parameters, receptive_field_table
from s6.results.frontier import Point
from s6.results.seeds import (
    ROLES,
    goal,
    last_epochs,
    load_seed_results,
    module_file,
    next_exercise_table,
    runs_of,
    seed_span,
    seeds_table,
    summaries,
)

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "benchmarks"))  # where printout.py, which keeps the benchmarks' records, lives


def load_printout(path: Path) -> dict:
    """A benchmark's saved printout (benchmarks/printout.py)."""
    from printout import load_printout as load

    return load(path)


BLOCK = re.compile(r"(<!-- s6:([\w-]+)(?: ([^\s>]+))? -->\n)(.*?)(<!-- /s6:\2 -->)", re.S)
GOAL_SECONDS = 60  # the goal for the default run, start to exit, on a 2-core CPU


def seed_runs(entry: dict) -> str:
    """Each role's seeds and final accuracies, in seed order, as two Markdown lines."""
    lines = []
    for role in ROLES:
        runs = runs_of(entry, role)
        if runs:
            pairs = " · ".join(f"{run['final_test_acc']:.2f}" for run in runs)
            lines.append(f"{role.capitalize()} seeds {seed_span([run['seed'] for run in runs])}: {pairs}.")
    return "\n".join(lines)


def devices(entry: dict) -> str:
    """Which machine ran which seeds, and how long an epoch took there (fastest to slowest run), one clause per
    machine (records made before the device name's plural was fixed say "1 threads": they keep what they printed,
    and are read here as what they mean)."""
    clauses = []
    for machine in sorted({run["device"] for run in entry["runs"]}):
        runs = [run for run in entry["runs"] if run["device"] == machine]
        seconds_each = [run["seconds_per_epoch"] for run in runs]
        low, high = min(seconds_each), max(seconds_each)
        seconds = f"{low:.1f}" if low == high else f"{low:.1f}–{high:.1f}"
        clauses.append(f"seeds {seed_span([run['seed'] for run in runs])} on "
                       f"{machine.replace(', 1 threads', ', 1 thread')} ({seconds} s an epoch)")
    return f"Devices: {'; '.join(clauses)}."


def summary(model: str, results: dict) -> str:
    """One sentence per role: how many seeds, mean, min with its seed, max."""
    return " ".join(f"{role.capitalize()} seeds {x.seeds}: mean **{x.mean:.2f}%**, min "
                    f"**{x.worst['final_test_acc']:.2f}%** (seed {x.worst['seed']}), max {x.best:.2f}%."
                    for name, role, x in summaries(results) if name == model)


def requirements_table(results: dict, model: str = DEFAULT_MODEL) -> str:
    """README's first table: each requirement of the exercise, what ``model`` has, and where the proof is; read
    from the model's module and recipe, the seed record and Part 1's learning rates, never typed."""
    from torch import nn

    from s6.backprop.network import LEARNING_RATES
    from s6.models.registry import build_model
    from s6.models.summary import receptive_field_table

    network = build_model(model)
    pooled = [row for row in receptive_field_table(network) if row.layer != "gap" and row.size > 1][-1]
    blocks = [child for child in network.children() if any(isinstance(m, nn.BatchNorm2d) for m in child.modules())]
    gap, head = list(network.children())[-2:]
    runs = {role: s for name, role, s in summaries(results) if name == model}
    accuracy = "; ".join(f"{plural(s.count, role + ' seed')}: mean **{s.mean:.2f}%**, "
                         f"min **{s.worst['final_test_acc']:.2f}%**" for role, s in runs.items())
    seeds = sum(s.count for s in runs.values())
    name = display_name(model)
    rows = [f"| the exercise asks for | {name} has | proof |", "|---|---|---|",
            f"| < 20,000 parameters | **{results[model]['params']:,}** | layer table below, "
            f"`python -m s6 summary --model {model}` |",
            f"| ≥ {EXERCISE_ACCURACY}% test accuracy | at the **final** epoch, on all {seeds} seeds: {accuracy} | "
            "[every seed](#results), [`results/seeds.json`](results/seeds.json) |",
            f"| < 20 epochs | **{REGISTRY[model].recipe.epochs}** | the training log below |",
            f"| BatchNorm | after every 3×3 convolution ({len(blocks)} of them) | "
            f"[`{module_file(model)}`]({module_file(model)}) |",
            f"| Dropout | {dropout_placement(network) or 'none'} | "
            "[why there](docs/models.md#model-2s-layers) |",
            f"| global average pooling | {'yes' if isinstance(gap, nn.AdaptiveAvgPool2d) else 'no'}, "
            f"over the last {pooled.size}×{pooled.size} map | layer table below |",
            f"| a 1×1 or FC head | {'a 1×1 convolution to the 10 classes' if is_1x1_head(head) else 'no'} "
            "| layer table below |",
            f"| Part 1: the backpropagation workbook | [`asgmt_backpropagation.xlsx`](asgmt_backpropagation.xlsx): "
            f"{len(LEARNING_RATES)} learning-rate sheets ({', '.join(f'{lr:.1f}' for lr in LEARNING_RATES)}), "
            "beside `Inputs`, `Summary` (the loss chart) and `Derivation` | [Part 1](#part-1--backpropagation) |"]
    return "\n".join(rows)


def epoch_log(metrics: dict) -> str:
    """A run's log as ``python -m s6 train`` printed it, one line per epoch, from its metrics.json."""
    from s6.training.run import format_epoch
    from s6.training.train import scored_on

    split = scored_on(metrics.get("validation"))
    return "\n".join(["```", *(format_epoch(record, split) for record in metrics["epochs"]), "```"])


def layers(model: str) -> str:
    """The model's layer table, receptive field and parameter count, as ``python -m s6 summary`` prints them."""
    from s6.models.registry import build_model
    from s6.models.summary import describe

    return "\n".join(["```", describe(build_model(model)), "```"])


def block_rows(model: str) -> str:
    """The model's layers as a Markdown table: what each does, its output, receptive field and parameters."""
    from s6.models.registry import build_model
    return block_table(build_model(model))


def channels(network: nn.Module) -> str:
    """The network's widths in the order its layers come, the max-pool where it falls: "8 · pool · 16-20-24"
    (convolutions N-M separable, counted from the first); the last layer, the 1x1 head to the classes, aside."""
    from torch import nn

    segments: list[list[str]] = [[]]
    separable, count = [], 0
    for child in list(network.children())[:-1]:
        convs = [m for m in child.modules() if isinstance(m, nn.Conv2d)]
        if convs:
            count += 1
            pointwise = len(convs) == 1 and convs[0].kernel_size == (1, 1)
            segments[-1].append(f"{convs[-1].out_channels}{' (1×1)' if pointwise else ''}")
            separable += [count] if any(conv.groups > 1 for conv in convs) else []
        if any(isinstance(m, nn.MaxPool2d) for m in child.modules()):
            segments.append([])
    text = " · pool · ".join("-".join(segment) for segment in segments)
    return text + (f" (convolutions {seed_span(separable)} separable)" if separable else "")


def is_1x1_head(layer: nn.Module) -> bool:
    """Whether ``layer`` is a 1x1 convolution to the 10 classes."""
    from torch import nn

    return isinstance(layer, nn.Conv2d) and layer.kernel_size == (1, 1) and layer.out_channels == 10


def models_table() -> str:
    """README's table of the models, each column read from the registry and each model's module: its role, size,
    layers and schedule."""
    from torch import nn

    from s6.models.registry import build_model
    from s6.models.summary import clean_tail, count_parameters

    entries = list(REGISTRY.items())
    networks = {name: build_model(name) for name in REGISTRY}

    def row(label: str, cell: Callable[[str, Entry], str]) -> str:
        return f"| {label} | " + " | ".join(cell(name, entry) for name, entry in entries) + " |"

    def normalised(name: str) -> str:
        if not any(isinstance(m, nn.BatchNorm2d) for m in networks[name].modules()):
            return "no · no"
        return f"yes · {dropout_placement(networks[name]) or 'none'}"

    def schedule(name: str, entry: Entry) -> str:
        r = entry.recipe
        parts = [f"{r.epochs} epochs, batch {r.batch_size}"]
        if r.tail_epochs and r.tail_epochs == r.clean_epochs:  # Model-3's tail: one phrase, not two of one span
            parts += [clean_tail(r) + " at the floor rate, without augmentation"]
        else:
            parts += [f"the last {r.tail_epochs} at the one-cycle's floor rate"] if r.tail_epochs else []
            parts += [clean_tail(r) + " without augmentation"] if r.clean_epochs else []
        parts += ["no augmentation"] if r.augment is None else []
        parts += ["He initialisation"] if he_initialised(networks[name]) else []
        return ", ".join(parts)

    return "\n".join([
        "| | " + " | ".join(entry.display for _, entry in entries) + " |", "|---|" + "---|" * len(entries),
        row("role", lambda name, entry: entry.role),
        row("parameters", lambda name, entry: f"**{count_parameters(networks[name]):,}**"),
        row("channels", lambda name, entry: channels(networks[name])),
        row("BatchNorm · Dropout", lambda name, entry: normalised(name)),
        row("schedule", schedule),
    ])


def sweep_table(record: dict) -> str:
    """A row per design of the grouped-copies sweep: its design, size, recipe and copies' accuracy; the devices."""
    rows = ["| candidate | design | parameters | epochs, batch, peak lr, weight decay | Dropout · smoothing · "
            "augmentation (°, shift, zoom) | copies | mean | min |", "|---|---|---|---|---|---|---|---|"]
    for r in record["designs"]:
        augment = "none" if r["augment"] is None else "{degrees:g}, {translate:g}, {scale:g}".format(**r["augment"])
        rows.append(f"| {r['name']} | `{r['design']}` | {r['params']:,} | {r['epochs']}, {r['batch_size']}, "
                    f"{r['max_lr']:g}, {r['weight_decay']:g} | {r['dropout']:g} · {r['label_smoothing']:g} · "
                    f"{augment} | {r['copies']} | "
                    f"{r['mean']:.2f} | {r['min']:.2f} |")
    rows += ["", f"Device: {', '.join(sorted({r['device'] for r in record['designs']}))}."]
    return "\n".join(rows)


def screen_table(record: dict) -> str:
    """A row per screened candidate: what it changes, each seed's final accuracy, mean, min, minutes a run; then
    the machines and torch versions the runs used."""
    header = "| candidate | what it changes | parameters | seed: final test accuracy (%) | mean | min | minutes a run |"
    rows = [header, "|---|---|---|---|---|---|---|"]
    for name in dict.fromkeys(run["candidate"] for run in record["runs"]):
        runs = sorted((run for run in record["runs"] if run["candidate"] == name), key=lambda run: run["seed"])
        accs = [run["final_test_acc"] for run in runs]
        each = " · ".join(f"{run['seed']}: {run['final_test_acc']:.2f}" for run in runs)
        minutes = sum(run["seconds"] for run in runs) / len(runs) / 60
        rows.append(f"| {name} | {runs[0]['note']} | {runs[0]['params']:,} | {each} | {sum(accs) / len(accs):.2f} | "
                    f"{min(accs):.2f} | {minutes:.0f} |")
    machines = sorted({f"{run['device']} (torch {run['torch']})" for run in record["runs"]})
    rows += ["", f"Device: {', '.join(machines)}."]
    return "\n".join(rows)


def screen_cells(record: dict, runs: list[dict]) -> tuple[str, str, str]:
    """The cells a validation screen's tables share for one candidate's runs (in seed order): each seed's final
    accuracy, the mean paired difference from the record's reference on the seeds both ran (blank for the
    reference itself), and the minutes a run took."""
    reference = {run["seed"]: run["final_val_acc"] for run in record["runs"] if run["candidate"] == record["reference"]}
    pairs = [run["final_val_acc"] - reference[run["seed"]] for run in runs if run["seed"] in reference]
    paired = "" if runs[0]["candidate"] == record["reference"] else \
        f"{sum(pairs) / len(pairs):+.3f} ({len(pairs)} seeds)"
    each = " · ".join(f"{run['seed']}: {run['final_val_acc']:.2f}" for run in runs)
    return each, paired, f"{sum(run['seconds'] for run in runs) / len(runs) / 60:.1f}"


def screen_machines(record: dict) -> str:
    """A validation screen's machines, threads a run and torch versions, as its tables end."""
    machines = sorted({f"{run['device'].replace(', 1 thread', '')}, {plural(run['threads'], 'thread')} a run "
                       f"(torch {run['torch']})" for run in record["runs"]})
    return f"Device: {', '.join(machines)}."


def validation_screen(record: dict) -> str:
    """A row per candidate, best mean first: what it changes, its epochs, each seed's validation accuracy, mean,
    min, the paired difference from the reference candidate, minutes a run; then the machines."""
    from s6.results.frontier import candidate_runs

    rows = ["| candidate | what it changes | epochs | seed: validation accuracy (%) | mean | min | "
            f"vs {record['reference']}, same seeds | minutes a run |", "|---|---|---|---|---|---|---|---|"]
    by_candidate = candidate_runs(record)
    for name, runs in sorted(by_candidate.items(), key=lambda kv: -sum(r["final_val_acc"] for r in kv[1]) / len(kv[1])):
        accs = [run["final_val_acc"] for run in runs]
        each, paired, minutes = screen_cells(record, runs)
        rows.append(f"| {name} | {runs[0]['note']} | {runs[0]['epochs']} | {each} | {sum(accs) / len(accs):.3f} | "
                    f"{min(accs):.2f} | {paired} | {minutes} |")
    return "\n".join(rows + ["", screen_machines(record)])


def frontier_table(record: dict) -> str:
    """A row per candidate of a screen that tried several sizes, smallest first in each family: each seed's final
    validation accuracy, mean, worst, the lowest in any seed's last epochs, the paired difference from the
    reference; then which is the smallest size that held the bar on every seed, and the machines."""
    from s6.results.frontier import LAST, candidate_runs, frontier

    points, by_candidate = frontier(record), candidate_runs(record)
    rows = ["| candidate | what it is | parameters | seed: validation accuracy at the final epoch (%) | mean | worst "
            f"(seed) | lowest in the last {LAST} epochs | vs {record['reference']}, same seeds | minutes a run |",
            "|---|---|---|---|---|---|---|---|---|"]
    for p in points:
        runs = by_candidate[p.candidate]
        each, paired, minutes = screen_cells(record, runs)
        rows.append(f"| {p.candidate} | {runs[0]['note']} | {p.params:,} | {each} | {p.mean:.3f} | {p.worst:.2f} "
                    f"({p.worst_seed}) | {p.held:.2f} | {paired} | {minutes} |")
    best = smallest_holding(points)
    commits = sorted({run["commit"][:7] for run in by_candidate[best.candidate] if run.get("commit")}) if best else []
    verdict = (f"The smallest candidate on which every seed held {EXERCISE_ACCURACY}% in each of its last {LAST} "
               f"epochs: **{best.candidate}**, {best.params:,} parameters (its runs: the code of "
               f"{', '.join(commits) or 'a commit not recorded'})." if best else
               f"No candidate held {EXERCISE_ACCURACY}% on every seed in each of its last {LAST} epochs.")
    return "\n".join(rows + ["", verdict, "", screen_machines(record)])


def seed_record(results: dict) -> str:
    """A seed record kept from an earlier design: its summary table, then each model's seeds."""
    return "\n\n".join([seeds_table(results), *(seed_runs(entry) for entry in results.values())])


def output(record: dict) -> str:
    """A benchmark's printed lines, as printed, in a code block."""
    return "\n".join(["```", *record["lines"], "```"])


def time_to_accuracy(record: dict) -> str:
    """README's sentence: the default run's time from start to exit and its accuracy, against the earlier revision
    timed beside it, and the goal."""
    f = record["figures"]
    runs = f"the median of {len(f['runs'])} runs" if len(f["runs"]) > 1 else "one run"
    text = (f"**Time.** `python -m s6 train` took {f['s6_seconds']:.1f} s from start to exit on {f['device']} "
            f"({runs}, {record['date']}), ending at {f['s6_accuracy']:.2f}%")
    starts = [run["before_epoch_1"] for run in f["runs"] if run.get("before_epoch_1")]
    if starts:
        text += f" ({min(starts):.1f} s before epoch 1 at best)"
    if "against" in f:
        epochs = f["against_runs"][0]["epochs"]
        text += (f"; the earlier default, commit {f['against']}'s {epochs}-epoch Model-2, timed alternately with it in "
                 f"the same benchmark run, took {f['against_seconds']:.1f} s: {f['speedup']:.2f} times as long")
    text += "."
    if f["device"].startswith("cpu"):
        missed = f["s6_seconds"] / GOAL_SECONDS
        text += (f" The goal of a default run within {GOAL_SECONDS} s on a 2-core CPU is "
                 + ("met on that machine." if missed <= 1 else f"missed on that machine, by a factor of {missed:.1f}."))
    return text


def time_plain(record: dict) -> str:
    """README's one plain sentence on time: about how long a default run takes on a 2-core CPU, the timed figure and
    the earlier design's, with no CPU internals (those are docs/speed.md's, generated from the same record)."""
    f = record["figures"]
    minutes = max(1, round(f["s6_seconds"] / 60))
    runs = f"the median of {len(f['runs'])} runs" if len(f["runs"]) > 1 else "one run"
    about = "a minute" if minutes == 1 else f"{minutes} minutes"
    text = (f"**Time.** A default run takes about {about} on a 2-core CPU: `python -m s6 train` "
            f"took {f['s6_seconds']:.1f} s from start to exit on the 2-core machine we timed ({runs}, "
            f"{record['date']})")
    if "against" in f:
        text += (f", {f['speedup']:.2f} times faster than the design it replaced (commit {f['against']}'s Model-2, "
                 f"{f['against_seconds']:.1f} s in the same benchmark)")
    return text + "."


def settings_text(settings: dict) -> str:
    return " ".join(f"{name}={value}" for name, value in settings.items()) or "no settings"


def paths_sentence(record: dict, results: dict) -> str:
    """README's sentence on CPU paths: which path the seed record's runs took, and how far the same seeds moved when
    bench_paths.py pinned them to another path of a CPU."""
    f = record["figures"]
    model, runs = f["model"], f["runs"]
    recorded = {run.get("path", "a path not recorded") for run in results[model]["runs"]}
    text = (f"**CPU paths.** {display_name(model)}'s {len(results[model]['runs'])} seeds on record ran on "
            f"{' and '.join(sorted(recorded))}.")
    moves, parts = [], []
    for run in runs:
        kept = f["record"].get(str(run["seed"]))
        if kept is None:
            continue
        moves.append(abs(run["test_acc"][-1] - kept["final_test_acc"]))
        parts.append(f"seed {run['seed']} ended at {run['test_acc'][-1]:.2f}% (on record: "
                     f"{kept['final_test_acc']:.2f}%)")
    if parts:
        pinned = sorted({f"`{settings_text(run['settings'])}`" for run in runs})
        text += (f" Pinned to another path of {f['device'].split(',')[0].removeprefix('cpu: ')} "
                 f"({'; '.join(pinned)}; {record['date']}), {', '.join(parts)}: the same seed moved "
                 f"{max(moves):.2f} points" + (" at most." if len(moves) > 1 else "."))
    return text


def photos(record: dict) -> str:
    """A Markdown table: the share of photos read right, per condition and set, then the clean digits."""
    f = record["figures"]
    rows = [f"One run, `--count {f['count']}` ({f['count']} photos per condition and set), {f['device']}, "
            f"{record['date']}:", "", "| condition | one digit | numbers | small |", "|---|---|---|---|"]
    rows += [f"| {r['condition']} | {r['one_digit']:.1f}% | {r['numbers']:.1f}% | {r['small']:.1f}% |"
             for r in f["conditions"]]
    rows.append(f"| clean MNIST digits, 28×28, through predict | {f['clean']:.1f}% | | (the raw test tensors: "
                f"{f['raw']:.1f}%) |")
    return "\n".join(rows)


def photos_sentence(record: dict) -> str:
    """README's sentence on photos: the range over the lighting conditions of each set's share read right."""
    f = record["figures"]

    def span(key: str) -> str:
        low, high = min(c[key] for c in f["conditions"]), max(c[key] for c in f["conditions"])
        return f"{low:g}%" if low == high else f"{low:g}–{high:g}%"

    return (f"On {f['count']} photos per condition, rendered from MNIST test digits under {len(f['conditions'])} "
            f"kinds of light, it reads {span('one_digit')} of single digits, {span('numbers')} of numbers of 2–4 "
            f"digits and {span('small')} of small digits (each a thirtieth of a 2,000-pixel-wide photo).")


def backprop_table() -> str:
    """E_total after k - 1 updates, per learning rate, at the iterations of the workbook's Summary table: the numbers
    the workbook holds (a test proves the workbook equals this reference, in LibreOffice's recalculation)."""
    from s6.backprop.network import LEARNING_RATES, Inputs, train
    from s6.backprop.workbook import SUMMARY_ITERATIONS

    def plain(x: float) -> str:  # six decimals, or three significant digits once it is that small
        return f"{x:.6f}" if x >= 1e-3 else f"{x:.{2 - math.floor(math.log10(x))}f}"

    rows = ["| η | " + " | ".join(f"k = {k}" for k in SUMMARY_ITERATIONS) + " |",
            "|---" * (len(SUMMARY_ITERATIONS) + 1) + "|"]
    for lr in LEARNING_RATES:
        errors = train(Inputs(), lr, max(SUMMARY_ITERATIONS))
        rows.append(f"| {lr:.1f} | " + " | ".join(plain(errors[k - 1]["E_total"]) for k in SUMMARY_ITERATIONS) + " |")
    return "\n".join(rows)


def backprop_reading() -> str:
    """README's sentence under the loss chart: how far E_total falls in the workbook's iterations at three learning
    rates, and whether any curve ever rises (a step too large overshoots), read from the reference."""
    from s6.backprop import ITERATIONS
    from s6.backprop.network import LEARNING_RATES, Inputs, train

    errors = {lr: [row["E_total"] for row in train(Inputs(), lr, ITERATIONS)] for lr in LEARNING_RATES}
    low, middle, high = (f"{100 * errors[lr][-1] / errors[lr][0]:.3g}% with η = {lr}" for lr in (0.1, 0.5, 2.0))
    rising = [f"η = {lr}" for lr, e in errors.items() if any(b > a for a, b in zip(e, e[1:]))]
    ending = (f"{' and '.join(rising)} rises at some iteration: its step overshoots" if rising else
              f"no curve ever rises: on this small, smooth problem even η = {LEARNING_RATES[-1]} does not overshoot")
    return (f"Over the workbook's {ITERATIONS} iterations E_total falls to {low}, to {middle} and to {high} of "
            f"where it started: the larger η, the faster it falls, and {ending}.")


def derivation_table() -> str:
    """The Derivation sheet's steps (s6.backprop.derivation), each with what it comes to at the default inputs."""
    from s6.backprop.derivation import STEPS, equations, evaluate
    from s6.backprop.network import Inputs, forward_backward

    inputs = Inputs()
    v = forward_backward(inputs.i1, inputs.i2, inputs.t1, inputs.t2, inputs.w)
    rows = ["| for | step | at the defaults |", "|---|---|---|"]
    for target, text in STEPS:
        values = []
        for _, *sides in equations(text):
            value = next((x for side in reversed(sides) if (x := evaluate(side, v)) is not None), None)
            values += [] if value is None else [f"{value:.6g}"]
        rows.append(f"| {target} | {text} | {'; '.join(values)} |")
    return "\n".join(rows)


def backprop_defaults() -> str:
    """The workbook's default inputs (s6.backprop.network.Inputs), as a line of prose."""
    from s6.backprop.network import WEIGHTS, Inputs

    inputs = Inputs()
    return (f"i1 = {inputs.i1:g}, i2 = {inputs.i2:g}, t1 = {inputs.t1:g}, t2 = {inputs.t2:g}; "
            + ", ".join(f"{w} = {value:g}" for w, value in zip(WEIGHTS, inputs.w, strict=True)) + ".")


def template_error() -> str:
    """What the widely copied template's slip (a_h1's sigmoid slope in ∂E/∂w3 and ∂E/∂w4) comes to here."""
    from s6.backprop.derivation import evaluate, gradient
    from s6.backprop.network import Inputs, forward_backward

    inputs = Inputs()
    v = forward_backward(inputs.i1, inputs.i2, inputs.t1, inputs.t2, inputs.w)
    slips = [(w, evaluate(gradient(w).replace("·a_h2·(1 − a_h2)·", "·a_h1·(1 − a_h1)·"), v), v[f"dE/d{w}"])
             for w in ("w3", "w4")]
    return ("A widely copied template of this sheet writes a_h1(1 − a_h1) in ∂E/∂w3 and ∂E/∂w4; with these inputs "
            "the error is small (" + ", ".join(f"{wrong:.6g} instead of {right:.6g} for {w}" for w, wrong, right
                                               in slips) + "), which is why its charts hide it.")


def worked_update(workbook: Path, sheet: str = "LR=0.5", weight: str = "w5") -> str:
    """One gradient-descent step of ``weight`` on ``sheet``, written out with the values the committed workbook
    stores (its cells named), so README closes the loop from a gradient to the new weight."""
    import openpyxl
    from openpyxl.utils import get_column_letter

    from s6.backprop.network import COLUMNS
    from s6.backprop.workbook import HEADER_ROW, LR_CELL

    ws = openpyxl.load_workbook(workbook, data_only=True)[sheet]
    w, g = (get_column_letter(COLUMNS.index(name) + 1) for name in (weight, f"d{'E/d'}{weight}"))
    first = HEADER_ROW + 1
    lr, old, grad, new = (ws[cell].value for cell in (LR_CELL.replace("$", ""), f"{w}{first}", f"{g}{first}",
                                                       f"{w}{first + 1}"))
    sub = weight[1:]
    return (f"**The update.** Each row's weights are the row above's minus η times its gradient; on sheet `{sheet}`, "
            f"w{sub} ← w{sub} − η·∂E_total/∂w{sub} = {old:g} − {lr:g} · {grad:.6f} = **{new:.6f}** "
            f"(cells `{w}{first}`, `{LR_CELL}`, `{g}{first}` → `{w}{first + 1}`).")


def run_outcome(metrics: dict) -> str:
    """A run's final accuracy, its epochs, their time in all and each, and its device."""
    seconds = [epoch["seconds"] for epoch in metrics["epochs"]]
    return (f"Seed {metrics['seed']}: **{metrics['epochs'][-1]['test_acc']:.2f}%** test accuracy after "
            f"{len(seconds)} epochs, {sum(seconds):.1f} s of training and testing ({min(seconds):.1f}–"
            f"{max(seconds):.1f} s an epoch), on {metrics['device']}.")


def notebook_run(notebook: dict) -> str:
    """Where and how long the notebook's committed run took (its cells' own timestamps), and what it ended at."""
    code = [cell for cell in notebook["cells"] if cell["cell_type"] == "code"]
    start = datetime.fromisoformat(code[0]["metadata"]["execution"]["iopub.execute_input"])
    end = datetime.fromisoformat(code[-1]["metadata"]["execution"]["shell.execute_reply"])
    text = "\n".join("".join(out.get("text", "")) for cell in code for out in cell.get("outputs", []))
    trained = re.findall(r"training (model\d) \(.*?\) for .*? on (.*?), seed (\d+);", text)
    final = re.search(r"^final: ([\d.]+)%", text, re.M)
    if not trained or final is None:
        raise ValueError("the notebook's outputs hold no training run: execute it in full first")
    minutes, seconds = divmod(round((end - start).total_seconds()), 60)
    device, seed = trained[0][1], trained[0][2]
    return (f"The committed run took {minutes} min {seconds} s from the first cell to the last, on {device} "
            f"({start.date()}); seed {seed}: "
            f"{' and '.join(display_name(m) for m, _, _ in trained)} trained, Model-2 ended at {final.group(1)}%.")


# What README's tables say of a model, read off its module; and of a screen, its smallest size that held.


def block_table(model: nn.Module, input_size: int = 28) -> str:
    """A Markdown table, a row per named layer of the model: what it does, its output, its receptive field and its
    parameters; README's short form of ``describe``."""
    shapes: dict[str, tuple[int, ...]] = {}

    def keep_shape(name: str):
        def hook(module: nn.Module, inputs: tuple, output: torch.Tensor) -> None:  # None: the output stays as it is
            shapes[name] = tuple(output.shape)
        return hook

    hooks = [child.register_forward_hook(keep_shape(name)) for name, child in model.named_children()]
    try:
        rf = {row.layer.split(".")[0]: row.rf for row in receptive_field_table(model, input_size)}  # a layer's last
    finally:
        for hook in hooks:
            hook.remove()
    rows = ["| layer | what it does | output | receptive field | parameters |", "|---|---|---|---|---|"]
    for name, child in model.named_children():
        steps = [_step(module) for module in (child.modules() if list(child.children()) else [child])]
        shape = shapes[name]
        output = "×".join(map(str, shape[1:])) if len(shape) == 4 else str(shape[1])
        params = sum(p.numel() for p in child.parameters() if p.requires_grad)
        rows.append(f"| {name} | {' → '.join(s for s in steps if s)} | {output} | {rf.get(name, '')} | {params:,} |")
    rows.append(f"| **all** | | | | **{count_parameters(model):,}** |")
    return "\n".join(rows)


def _step(module: nn.Module) -> str:
    """One module in words, for ``block_table``; containers say nothing of their own."""
    if isinstance(module, nn.Conv2d):
        kind = " depthwise" if module.groups == module.in_channels > 1 else ""
        return f"{module.kernel_size[0]}×{module.kernel_size[1]}{kind} conv to {module.out_channels}"
    if isinstance(module, nn.Dropout):
        return f"Dropout {module.p:g}"
    names = {nn.MaxPool2d: "max-pool", nn.BatchNorm2d: "BatchNorm", nn.ReLU: "ReLU",
             nn.AdaptiveAvgPool2d: "global average pool", nn.ChannelShuffle: "channel shuffle"}
    return next((words for kind, words in names.items() if isinstance(module, kind)), "")


def dropout_placement(model: nn.Module) -> str | None:
    """Where the model drops values, "0.05 after blocks 5 and 6" (a block counted by its place among the model's
    layers); None when nowhere."""
    dropped = [(i, m.p) for i, child in enumerate(model.children(), 1) for m in child.modules()
               if isinstance(m, nn.Dropout) and m.p > 0]
    if not dropped:
        return None
    rates = "/".join(f"{p:g}" for p in sorted({p for _, p in dropped}))
    return f"{rates} after blocks {' and '.join(str(i) for i, _ in dropped)}"


def he_initialised(model: nn.Module) -> bool:
    """Whether the model starts from He (Kaiming) weights, as Model-1 does: read off its biases, which s6 zeroes
    only where it draws He weights (PyTorch's default draws them at random, never all zero)."""
    biases = [m.bias for m in model.modules() if isinstance(m, nn.Conv2d) and m.bias is not None]
    return bool(biases) and not any(bias.any() for bias in biases)


def smallest_holding(points: list[Point], bar: float = EXERCISE_ACCURACY) -> Point | None:
    """The candidate with the fewest parameters on which every seed held the bar in each of its last epochs."""
    holding = [p for p in points if p.holds(bar)]
    return min(holding, key=lambda p: p.params) if holding else None


def read_json(path: Path) -> dict:
    return json.loads(path.read_text())


@dataclass(frozen=True)
class Block:
    """One kind of generated block: what it says, and the function that writes it."""

    what: str  # one line, for --list
    write: Callable[..., str]  # (path of its record) -> text for a block that reads one, else () -> text
    reads_file: bool = False  # True: written <!-- s6:NAME PATH -->, PATH its record, relative to the root


def blocks(results: dict) -> dict[str, Block]:
    """Every block there is, by name: the one place render and --list look them up."""
    from_printout = {"output": ("a benchmark's printout (benchmarks/printout.py), or a .txt, verbatim", output),
                     "time": ("the time to accuracy in full: device, runs, start-up, the earlier design "
                              "(bench_time_to_accuracy.py)", time_to_accuracy),
                     "time-plain": ("README's one plain sentence on the same record", time_plain),
                     "photos": ("predict's accuracy on photos, a row per condition (bench_predict_photos.py)", photos),
                     "photos-sentence": ("README's sentence on the same record, each set's range", photos_sentence)}
    from_json = {"notebook-run": ("how long the committed notebook's run took, where, what it ended at", notebook_run),
                 "run": ("one training run's outcome, from its metrics.json", run_outcome),
                 "log": ("a run's epoch log as the CLI printed it, from its metrics.json", epoch_log),
                 "sweep": ("every candidate of sweep_model3.py's record, a row each", sweep_table),
                 "screen": ("every candidate of screen_model3.py's record: seeds, mean, min", screen_table),
                 "validation-screen": ("screen_model2.py's record on the validation split, against its reference",
                                       validation_screen),
                 "frontier": ("a screen of several sizes (screen_model3.py): each size's worst and mean seed, "
                              "the smallest that held", frontier_table),
                 "seed-record": ("a seed record kept from an earlier design: its table and every seed", seed_record)}
    table = {name: Block(what, lambda path, write=write: write(load_printout(path)), reads_file=True)
             for name, (what, write) in from_printout.items()}
    table |= {name: Block(what, lambda path, write=write: write(read_json(path)), reads_file=True)
              for name, (what, write) in from_json.items()}
    table["worked-update"] = Block("one weight's update written out with the workbook's stored values (Part 1)",
                                   worked_update, reads_file=True)
    table["paths"] = Block("README's sentence on CPU paths: the seed record's, and a seed moved to another "
                           "(bench_paths.py)", lambda path: paths_sentence(load_printout(path), results),
                           reads_file=True)
    table |= {
        "seeds": Block("a row per model and role: final test accuracy over its seeds", lambda: seeds_table(results)),
        "next-exercise": Block("README's rows for the course's next exercise, against Model-3",
                               lambda: next_exercise_table(results)),
        "models": Block("README's table of the models: role, parameters, channels, normalisation, schedule",
                        models_table),
        "requirements": Block("README's first table: the exercise's requirements against Model-2",
                              lambda: requirements_table(results)),
        "backprop": Block("E_total at a few iterations for each learning rate (Part 1)", backprop_table),
        "derivation": Block("every step of Part 1's chain rule, with its value at the defaults", derivation_table),
        "template-error": Block("what the copied template's slip in dE/dw3 and dE/dw4 comes to", template_error),
        "backprop-reading": Block("how far E_total falls at three learning rates, and whether any curve rises",
                                  backprop_reading),
        "backprop-defaults": Block("the workbook's default inputs", backprop_defaults),
    }
    for model, entry in results.items():
        table[f"layers-{model}"] = Block(f"{model}'s layer table (s6 summary)", lambda model=model: layers(model))
        table[f"blocks-{model}"] = Block(f"{model}'s layers, short", lambda model=model: block_rows(model))
        table[f"seed-runs-{model}"] = Block(f"every seed of {model}", lambda entry=entry: seed_runs(entry))
        table[f"devices-{model}"] = Block(f"which machine ran which seeds of {model}",
                                          lambda entry=entry: devices(entry))
        table[f"summary-{model}"] = Block(f"{model}'s mean, min and max per role",
                                          lambda model=model: summary(model, results))
        if model in REGISTRY and REGISTRY[model].goal:
            table[f"goal-{model}"] = Block(f"whether {model}'s goal holds, per role",
                                           lambda model=model: goal(model, results))
            if REGISTRY[model].goal.last > 1:
                table[f"last-epochs-{model}"] = Block(f"each seed of {model}: its lowest of the last epochs",
                                                      lambda model=model: last_epochs(model, results))
    return table


def render(text: str, results: dict, root: Path = Path(".")) -> str:
    """``text`` with every marked block regenerated; an unknown block name is an error, not a silent skip."""
    table = blocks(results)

    def fill(match: re.Match) -> str:
        name, argument = match.group(2), match.group(3)
        if name not in table:
            raise KeyError(f"unknown report block {name!r}; known: {', '.join(sorted(table))}")
        block = table[name]
        if block.reads_file and argument is None:
            raise S6Error(f"block {name!r} needs the path of its source: <!-- s6:{name} PATH -->")
        try:
            content = block.write(root / argument) if block.reads_file else block.write()
        except FileNotFoundError as e:
            raise S6Error(f"block {name!r} reads {e.filename}, which does not exist (a benchmark's --save "
                          "writes it)") from None
        except json.JSONDecodeError as e:
            raise S6Error(f"block {name!r} reads {argument}, which is not valid JSON ({e})") from None
        return f"{match.group(1)}{content}\n{match.group(5)}"

    return BLOCK.sub(fill, text)


def documents(root: Path) -> list[Path]:
    return [root / "README.md", *sorted((root / "docs").glob("*.md"))]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python tools/report.py", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--root", default=".", help="the repository root (default: the current folder)")
    parser.add_argument("--check", action="store_true", help="change nothing; exit 1 if a block is out of date")
    parser.add_argument("--list", action="store_true", help="name every block, what it writes and what it reads")
    args = parser.parse_args(argv)
    root = Path(args.root)
    seeds = root / "results" / "seeds.json"
    if not seeds.is_file():
        print(f"error: no {seeds} (the seed record benchmarks/bench_seeds.py writes): run this from the repository "
              "root, or give the root with --root DIR", file=sys.stderr)
        return 1
    results = load_seed_results(seeds)
    if args.list:
        for name, block in blocks(results).items():
            print(f"<!-- s6:{name}{' PATH' if block.reads_file else ''} -->  {block.what}")
        return 0
    stale, failed = [], False
    for path in documents(root):  # a document that cannot be rendered is named, and the others still are
        text = path.read_text()
        try:
            new = render(text, results, root)
        except (S6Error, KeyError, ValueError) as e:
            print(f"error: {path}: {e.args[0]}", file=sys.stderr)  # KeyError's str() would quote it
            failed = True
            continue
        if new != text:
            stale.append(path)
            if not args.check:
                atomic_write_bytes(path, new.encode())
    for path in stale:
        print(f"{'out of date' if args.check else 'rewrote'}: {path}")
    if not stale and not failed:
        print(f"every generated block is up to date ({len(documents(root))} documents)")
    return 1 if failed or (stale and args.check) else 0


if __name__ == "__main__":
    sys.exit(main())
