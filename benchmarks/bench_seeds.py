"""Train each model on its default recipe for several seeds; report the FINAL-epoch test accuracy.

Each run is `python -m s6 train --model M --seed S --out results/M/seedS`, exactly what a user types,
so results/M/seedS/metrics.json is that run's own record. results/seeds.json collects them, each run
with its device, its CPU path, its commit and its role, and is rewritten (atomically) after every run, so an
interrupted benchmark keeps what it finished. The same seed ends a few hundredths apart on two CPU
paths (AVX2, AVX-512), so one record holds one path per model: a run on another path is refused, to be
recorded beside it (--out results/avx512).

A role is "development" (seeds that may steer the design: decide on them) or "confirmation" (seeds
run once after the design is fixed, reported as they come): a claim about every seed needs both.

    python benchmarks/bench_seeds.py --models model2 --seeds $(seq 1 20) --data-dir ../shared/mnist
    python benchmarks/bench_seeds.py --models model2 --seeds $(seq 21 40) --role confirmation
"""

from __future__ import annotations

import argparse
import fcntl
import json
import subprocess
import sys
from pathlib import Path

from s6 import save_json
from s6.models.registry import REGISTRY
from s6.results.seeds import ROLES, seeds_table

ROOT = Path(__file__).resolve().parent.parent


def run_seed(model: str, seed: int, out: Path, data_dir: str | None) -> dict:
    args = [sys.executable, "-m", "s6", "train", "--model", model, "--seed", str(seed), "--out", str(out), "--quiet",
            "--overwrite"]  # a benchmark reruns a seed on purpose: its record is replaced, in seeds.json too
    if data_dir:
        args += ["--data-dir", data_dir]
    subprocess.run(args, cwd=ROOT, check=True)
    return json.loads((out / "metrics.json").read_text())


def record(summary_path: Path, model: str, metrics: dict, role: str) -> dict:
    """Add one run to the seed record (replacing that seed's), under a lock and re-read: two benchmarks may run
    side by side, one a core (OMP_NUM_THREADS=1), and neither may drop the other's runs. Returns the record."""
    with open(summary_path.with_suffix(".lock"), "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        results = json.loads(summary_path.read_text()) if summary_path.exists() else {}
        epochs = metrics["epochs"]
        entry = results.setdefault(model, {"params": metrics["params"], "runs": []})
        if entry["params"] != metrics["params"]:  # another design: the runs recorded so far are of another model
            entry["runs"] = []
        entry["params"] = metrics["params"]
        entry["runs"] = [r for r in entry["runs"] if r["seed"] != metrics["seed"]] + [{
            "seed": metrics["seed"],
            "role": role,
            "epochs": len(epochs),
            "final_test_acc": epochs[-1]["test_acc"],
            "test_accs": [e["test_acc"] for e in epochs],  # every epoch's: did it hold through the last few?
            "seconds_per_epoch": round(sum(e["seconds"] for e in epochs) / len(epochs), 2),
            "device": metrics["device"],
            "path": metrics["cpu_path"],
            "commit": metrics.get("commit"),  # the code it ran: a record outlives the design it measured
        }]
        entry["runs"].sort(key=lambda r: r["seed"])
        save_json(summary_path, results)
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    # No defaults: a run replaces the committed record of each seed it names, so it names them on purpose.
    parser.add_argument("--models", nargs="+", choices=list(REGISTRY), required=True)
    parser.add_argument("--seeds", nargs="+", type=int, required=True)
    parser.add_argument("--role", choices=ROLES, default="development",
                        help="development: seeds that steer the design; confirmation: run once, after it is fixed")
    parser.add_argument("--data-dir", default=None, help="MNIST root (default: $S6_DATA_DIR, else ./data)")
    parser.add_argument("--out", default=str(ROOT / "results"), help="where metrics and seeds.json go")
    args = parser.parse_args()

    from s6.device import cpu_path  # torch, once the arguments are known to be right

    out, path = Path(args.out), cpu_path()
    summary_path = out / "seeds.json"
    results = json.loads(summary_path.read_text()) if summary_path.exists() else {}
    out.mkdir(parents=True, exist_ok=True)
    for model in args.models:
        kept = {run.get("path") for run in results.get(model, {}).get("runs", [])} - {None, path}
        if kept:
            sys.exit(f"error: {summary_path} holds {model} on {kept.pop()}, and this CPU runs {path}; "
                     "record this path beside it: --out results/<path>")
    for model in args.models:
        for seed in args.seeds:
            try:
                metrics = run_seed(model, seed, out / model / f"seed{seed}", args.data_dir)
            except subprocess.CalledProcessError as e:  # the run has said why, in one line, just above
                kept = f"{summary_path} keeps the seeds finished before it" if summary_path.exists() else \
                    "nothing was recorded"
                sys.exit(f"error: {model} seed {seed} stopped (exit {e.returncode}); {kept}")
            results = record(summary_path, model, metrics, args.role)
            epochs = metrics["epochs"]
            print(f"{model} seed {seed}: final test accuracy {epochs[-1]['test_acc']:.2f}% after {len(epochs)} epochs")
    print(seeds_table(results))


if __name__ == "__main__":
    main()
