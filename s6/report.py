"""The figures README and docs/ quote, generated from results/seeds.json instead of typed by hand.

A block between ``<!-- s6:NAME -->`` and ``<!-- /s6:NAME -->`` in a Markdown file is output of this module;
``python -m s6.report`` rewrites every such block in place, and ``--check`` (which a test runs) fails when a
block no longer matches results/, so a stale figure cannot reach main. Blocks:

* ``seeds``: one row per model and role (development or confirmation seeds): parameters, epochs, seeds,
  mean, min with its seed, max, seconds per epoch;
* ``seed-runs-MODEL``: every seed's final accuracy of that model, development and confirmation apart;
* ``devices-MODEL``: which machine ran which seeds of that model.
"""

from __future__ import annotations

import argparse
import re
import sys
from collections.abc import Callable
from pathlib import Path

from s6.files import atomic_write_bytes
from s6.results import ROLES, load_seed_results, runs_of, seed_span, summaries

BLOCK = re.compile(r"(<!-- s6:([\w-]+) -->\n)(.*?)(<!-- /s6:\2 -->)", re.S)
NAMES = {"model1": "Model-1", "model2": "Model-2", "model3": "Model-3"}


def seeds_table(results: dict) -> str:
    """A Markdown table: a row per model and role, final-epoch test accuracy over its seeds."""
    rows = ["| model | parameters | epochs | seeds | final test accuracy: mean | min (seed) | max | seconds / epoch |",
            "|---|---|---|---|---|---|---|---|"]
    for model, role, s in summaries(results):
        rows.append(f"| {NAMES.get(model, model)} | {results[model]['params']:,} | {s.epochs} | {s.count} {role} "
                    f"({s.seeds}) | **{s.mean:.2f}** | **{s.worst['final_test_acc']:.2f}** ({s.worst['seed']}) | "
                    f"{s.best:.2f} | {s.seconds:.1f} |")
    return "\n".join(rows)


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
    """Which machine ran which seeds, one clause per machine."""
    machines = sorted({run["device"] for run in entry["runs"]})
    text = "; ".join(f"seeds {seed_span([r['seed'] for r in entry['runs'] if r['device'] == m])} on {m}"
                     for m in machines)
    return f"Devices: {text}."


def generators(results: dict) -> dict[str, Callable[[], str]]:
    blocks: dict[str, Callable[[], str]] = {"seeds": lambda: seeds_table(results)}
    for model, entry in results.items():
        blocks[f"seed-runs-{model}"] = lambda entry=entry: seed_runs(entry)
        blocks[f"devices-{model}"] = lambda entry=entry: devices(entry)
    return blocks


def render(text: str, results: dict) -> str:
    """``text`` with every marked block regenerated; an unknown block name is an error, not a silent skip."""
    blocks = generators(results)

    def fill(match: re.Match) -> str:
        name = match.group(2)
        if name not in blocks:
            raise KeyError(f"unknown report block {name!r}; known: {', '.join(sorted(blocks))}")
        return f"{match.group(1)}{blocks[name]()}\n{match.group(4)}"

    return BLOCK.sub(fill, text)


def documents(root: Path) -> list[Path]:
    return [root / "README.md", *sorted((root / "docs").glob("*.md"))]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m s6.report", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--root", default=".", help="the repository root (default: the current folder)")
    parser.add_argument("--check", action="store_true", help="change nothing; exit 1 if a block is out of date")
    args = parser.parse_args(argv)
    root = Path(args.root)
    results = load_seed_results(root / "results" / "seeds.json")
    stale = []
    for path in documents(root):
        text = path.read_text()
        new = render(text, results)
        if new != text:
            stale.append(path)
            if not args.check:
                atomic_write_bytes(path, new.encode())
    for path in stale:
        print(f"{'out of date' if args.check else 'rewrote'}: {path}")
    return 1 if stale and args.check else 0


if __name__ == "__main__":
    sys.exit(main())
