"""What the two validation screens share: one run of a candidate on one seed, and the record it is added to.

A run trains on the first 50,000 training images and is scored on the last 10,000 (``--validation``), so no choice
made with a screen ever looks at the test set. A row keeps every epoch's validation accuracy: the final epoch is the
result, and the last few say whether it held there or only touched it.
"""

from __future__ import annotations

import argparse
import fcntl
import json
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import torch
from torch import nn

from s6 import save_json
from s6.device import provenance
from s6.models.recipe import Recipe
from s6.training.data import MNISTTensors, load_mnist, resolve_data_dir
from s6.training.run import new_plan, train_run

VALIDATION = 10000  # the last 10,000 of the 60,000 training images
LAST = 3  # the last epochs a progress line reports the lowest of


def screen(model: str, candidate: str, note: str, network: Callable[[], nn.Module], recipe: Recipe, seed: int,
           mnist: MNISTTensors, out_dir: Path) -> dict:
    """One validation run of the network ``network`` builds, trained by ``recipe`` (through the CLI's own
    ``train_run``, as ``model``): its row of the record."""
    start = time.perf_counter()
    result = train_run(new_plan(model, seed=seed, epochs=recipe.epochs, validation=VALIDATION),
                       out=out_dir, device="cpu", progress=False, log=lambda _: None, mnist=mnist,
                       overwrite=True, network=network, recipe=recipe)
    return {"candidate": candidate, "note": note, "seed": seed, "params": result.metrics["params"],
            "epochs": len(result.metrics["epochs"]), "final_val_acc": result.final_accuracy,
            "val_accs": [e["val_acc"] for e in result.metrics["epochs"]],
            "seconds": round(time.perf_counter() - start, 1), "threads": torch.get_num_threads(),
            "device": result.metrics["device"],
            **{key: result.metrics[key] for key in provenance(recipe)}}  # as the run began: the code it ran


def record(out: Path, row: dict, reference: str, chosen: str | None = None) -> None:
    """Add one row to the record at ``out`` (replacing that candidate's row for that seed), under a lock: two
    screens may run side by side, one a core. ``reference``: the candidate the others are compared with;
    ``chosen``: the one that became the model, once there is one."""
    with open(out.with_suffix(".lock"), "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        rows = json.loads(out.read_text())["runs"] if out.exists() else []
        rows = [r for r in rows if (r["candidate"], r["seed"]) != (row["candidate"], row["seed"])] + [row]
        save_json(out, {"reference": reference, **({"chosen": chosen} if chosen else {}),
                        "runs": sorted(rows, key=lambda r: (r["candidate"], r["seed"]))})


def main(model: str, description: str, candidates: dict, default_out: Path, reference: str,
         chosen: str | None = None) -> None:
    """A screen's command line: each named candidate (with ``note``, ``network``, ``recipe`` and, if it has one,
    ``family``) on each seed, a row added to the record after every run and a line printed."""
    parser = argparse.ArgumentParser(description=description, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--candidates", nargs="+", choices=list(candidates), required=True)
    parser.add_argument("--seeds", nargs="+", type=int, required=True)
    parser.add_argument("--data-dir", default=None, help="MNIST root (default: $S6_DATA_DIR, else ./data)")
    parser.add_argument("--out", default=str(default_out))
    args = parser.parse_args()
    out, mnist = Path(args.out), load_mnist(resolve_data_dir(args.data_dir))
    for seed in args.seeds:
        for name in args.candidates:
            candidate = candidates[name]
            with tempfile.TemporaryDirectory() as scratch:
                row = screen(model, name, candidate.note, candidate.network, candidate.recipe, seed, mnist,
                             Path(scratch))
            family = getattr(candidate, "family", None)  # the frontier draws a line per family
            record(out, row | ({"family": family} if family else {}), reference, chosen)
            print(f"{name} seed {seed}: {row['final_val_acc']:.2f}% validation, the last {LAST} epochs at least "
                  f"{min(row['val_accs'][-LAST:]):.2f}% ({row['seconds']:.0f} s, {row['params']:,} parameters)",
                  flush=True)
