"""How far the same seed moves between CPU paths: the default run of each seed, on each vector path this CPU can be
pinned to, beside the seed record's final test accuracy (results/seeds.json).

PyTorch's own kernels and oneDNN's convolutions each pick the widest vector instructions the CPU has (AVX-512, AVX2,
...); two documented settings cap them: ``ATEN_CPU_CAPABILITY`` (default, avx2, avx512) and ``ONEDNN_MAX_CPU_ISA``
(SSE41, AVX2, AVX512_CORE, ...). Other instructions add and round in another order, so a seed ends a few
hundredths apart, and a record says which path made it (metrics.json's cpu_path). A path wider than the CPU's cannot
be pinned: an AVX2-only CPU runs "avx2" and "default", not "avx512".

    python benchmarks/bench_paths.py --data-dir ../shared/mnist --seeds 1 2 --paths default [--save FILE]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

# Each path by name: the settings that pin it. "native" is whatever this CPU picks by itself.
PATHS = {
    "native": {},
    "avx2": {"ATEN_CPU_CAPABILITY": "avx2", "ONEDNN_MAX_CPU_ISA": "AVX2"},
    "default": {"ATEN_CPU_CAPABILITY": "default", "ONEDNN_MAX_CPU_ISA": "SSE41"},  # no vectors past SSE4.1
}


def run_on_path(model: str, seed: int, settings: dict, data_dir: str | None) -> dict:
    """One default run of ``model`` and ``seed`` under ``settings``, in a fresh process: its accuracies and seconds."""
    with tempfile.TemporaryDirectory() as out:
        command = [sys.executable, "-m", "s6", "train", "--model", model, "--seed", str(seed), "--out", out, "--quiet"]
        command += ["--data-dir", str(Path(data_dir).resolve())] if data_dir else []
        start = time.perf_counter()
        done = subprocess.run(command, cwd=ROOT, env={**os.environ, **settings}, stdout=subprocess.DEVNULL)
        seconds = time.perf_counter() - start
        if done.returncode:
            sys.exit(f"error: seed {seed} under {settings or 'no settings'} stopped (exit {done.returncode})")
        metrics = json.loads((Path(out) / "metrics.json").read_text())
    return {"seed": seed, "settings": settings, "path": metrics["cpu_path"], "seconds": seconds,
            "test_acc": [epoch["test_acc"] for epoch in metrics["epochs"]]}


def main() -> None:
    from printout import Printout, add_save_option

    from s6.device import describe_device
    from s6.results.seeds import load_seed_results

    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data-dir", default=None, help="MNIST root (default: $S6_DATA_DIR, else ./data)")
    parser.add_argument("--seeds", nargs="+", type=int, default=[1], help="seeds to run (default: 1)")
    parser.add_argument("--paths", nargs="+", choices=list(PATHS), default=["default"],
                        help="paths to pin, besides the record's (default: default)")
    parser.add_argument("--model", default="model2", help="a model of the seed record (default: %(default)s)")
    add_save_option(parser)
    args = parser.parse_args()
    import torch

    record = {run["seed"]: run for run in load_seed_results(ROOT / "results" / "seeds.json")[args.model]["runs"]}
    say = Printout("bench_paths.py")
    device = describe_device(torch.device("cpu"))
    say(f"python -m s6 train --model {args.model} --seed S, on {device}; torch {torch.__version__}")
    runs = []
    for seed in args.seeds:
        recorded = record.get(seed)
        if recorded:
            path = recorded.get("path", "a path not recorded")
            say(f"seed {seed}, the record: {recorded['final_test_acc']:.2f}% on {path}")
        for name in args.paths:
            run = run_on_path(args.model, seed, PATHS[name], args.data_dir)
            runs.append(run)
            moved = ""
            if recorded:
                delta = run["test_acc"][-1] - recorded["final_test_acc"]
                moved = "; equal to the record" if abs(delta) < 0.005 else f"; {delta:+.2f} points from the record"
            epochs = " ".join(f"{acc:.2f}" for acc in run["test_acc"])
            say(f"seed {seed}, pinned to {name} ({run['path']}): {run['test_acc'][-1]:.2f}%{moved} "
                f"(each epoch: {epochs}; {run['seconds']:.0f} s)")
    say.figures = {"device": device, "model": args.model, "runs": runs,
                   "record": {seed: record[seed] for seed in args.seeds if seed in record}}
    if args.save:
        say.save(args.save)


if __name__ == "__main__":
    main()
