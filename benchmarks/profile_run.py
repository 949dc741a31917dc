"""Where the seconds of a default run go, from start to exit: ``python -m s6 train`` as a user types it, split into
its parts by timing the functions it calls in that very process (no profiler, so nothing is slowed).

The run is started in a fresh process; a few lines before s6's own main time its imports, and each function below
is wrapped to add its seconds to its part. What the parts do not cover (argument parsing, the log's lines, the
time between the last line and exit) is "the rest". The steps' share is what the run spends training, less the
augmentation it does batch by batch.

    python benchmarks/profile_run.py --data-dir ../shared/mnist [--rounds 2] [--save results/bench/profile_run.json]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

# Each part: the functions whose seconds it adds up, as (module, attribute); a class's method as "Class.method".
PARTS = {
    "reading MNIST": [("s6.training.data", "load_mnist")],
    "building the model": [("s6.models.registry", "build_model")],
    "building the optimiser": [("s6.training.train", "OneCycleSGD.__init__")],  # torch.optim imported torch._dynamo
    "augmentation": [("s6.training.data", "random_affine")],
    "training epochs": [("s6.training.train", "train_epoch")],
    "test passes": [("s6.training.train", "evaluate")],
    "checkpoints and metrics": [("s6.training.checkpoint", "save_run"), ("s6", "save_json")],
}
# "the curves figure" is what train_run does after fit's last epoch: it imports matplotlib then, draws and saves.

# Runs inside the timed process: time the imports, wrap PARTS, run the CLI, write the seconds to argv[1].
CHILD = r"""
import time
marks = {"start": time.time()}
import json, sys, functools, importlib
import torch
marks["torch imported"] = time.time()
import s6.cli, s6.training.run  # what train imports, whether at the top of cli.py or inside cmd_train
marks["s6 imported"] = time.time()
parts, seconds = json.loads(sys.argv[2]), {}
def timed(part, function):
    @functools.wraps(function)
    def wrapper(*args, **kwargs):
        start = time.perf_counter()
        try:
            return function(*args, **kwargs)
        finally:
            seconds[part] = seconds.get(part, 0.0) + time.perf_counter() - start
    return wrapper
for part, targets in parts.items():
    for module_name, attribute in targets:
        owner = importlib.import_module(module_name)
        *path, name = attribute.split(".")
        for step in path:
            owner = getattr(owner, step)
        setattr(owner, name, timed(part, getattr(owner, name)))
        for loaded in list(sys.modules.values()):  # a name imported before the wrap ("from X import f") too
            if loaded is not owner and getattr(loaded, name, None) is getattr(owner, name).__wrapped__:
                setattr(loaded, name, getattr(owner, name))
def marked(label, function):  # the moment it returns
    @functools.wraps(function)
    def wrapper(*args, **kwargs):
        try:
            return function(*args, **kwargs)
        finally:
            marks[label] = time.time()
    return wrapper
def marked_end(label, generator_function):  # the moment its generator is exhausted (fit yields each epoch)
    @functools.wraps(generator_function)
    def wrapper(*args, **kwargs):
        yield from generator_function(*args, **kwargs)
        marks[label] = time.time()
    return wrapper
s6.training.run.fit = marked_end("fit ended", s6.training.run.fit)
s6.training.run.train_run = marked("train_run returned", s6.training.run.train_run)
code = 1
try:
    code = s6.cli.main(sys.argv[3:])
finally:
    marks["main returned"] = time.time()
    with open(sys.argv[1], "w") as f:
        json.dump({"marks": marks, "seconds": seconds}, f)
s6.cli.exit_now(code)  # as the command line ends
"""


def profile_once(args: list[str], env: dict) -> dict:
    """One default run in a fresh process: its seconds from start to exit, and each part's."""
    with tempfile.TemporaryDirectory() as tmp:
        record = Path(tmp) / "seconds.json"
        start = time.time()
        subprocess.run([sys.executable, "-c", CHILD, str(record), json.dumps(PARTS), "train", *args,
                        "--out", str(Path(tmp) / "run")], check=True, env=env, cwd=ROOT, stdout=subprocess.DEVNULL)
        end = time.time()
        child = json.loads(record.read_text())
    marks, seconds = child["marks"], child["seconds"]
    parts = {"python and import torch": marks["torch imported"] - start,
             "import s6": marks["s6 imported"] - marks["torch imported"]}
    parts |= {part: seconds.get(part, 0.0) for part in PARTS}
    parts["the curves figure"] = marks["train_run returned"] - marks["fit ended"]
    parts["training steps"] = parts.pop("training epochs") - parts["augmentation"]
    parts["exit"] = end - marks["main returned"]
    parts["the rest"] = (end - start) - sum(parts.values())
    return {"total": end - start, "parts": parts}


def main() -> None:
    from printout import Printout, add_save_option

    from s6.device import describe_device

    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data-dir", default=None, help="MNIST's folder (default: $S6_DATA_DIR, else ./data)")
    parser.add_argument("--rounds", type=int, default=2, help="default runs to profile; medians (default: 2)")
    parser.add_argument("--seed", type=int, default=1, help="the run's seed (default: %(default)s)")
    add_save_option(parser)
    args = parser.parse_args()
    import torch

    env = dict(os.environ)
    if args.data_dir:
        env["S6_DATA_DIR"] = str(Path(args.data_dir).resolve())
    say = Printout("profile_run.py")
    say(f"python -m s6 train --seed {args.seed}, start to exit, on {describe_device(torch.device('cpu'))}; "
        f"torch {torch.__version__}; {args.rounds} runs, medians")
    runs = [profile_once(["--seed", str(args.seed), "--quiet"], env) for _ in range(args.rounds)]
    total = statistics.median(run["total"] for run in runs)
    median = {part: statistics.median(run["parts"][part] for run in runs) for part in runs[0]["parts"]}
    for part, value in sorted(median.items(), key=lambda kv: -kv[1]):
        say(f"  {part:<55} {value:6.2f} s  {100 * value / total:5.1f}%")
    each = ", ".join(f"{run['total']:.1f}" for run in runs)
    say(f"  {'start to exit':<55} {total:6.2f} s  (runs: {each} s)")
    say(f"training steps: {100 * median['training steps'] / total:.1f}% of the run")
    say.figures = {"device": describe_device(torch.device("cpu")), "total": total, "parts": median,
                   "runs": [run["total"] for run in runs]}
    if args.save:
        say.save(args.save)


if __name__ == "__main__":
    main()
