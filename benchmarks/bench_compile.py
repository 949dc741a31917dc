"""Does ``torch.compile`` make the default training step faster on this CPU, once its compile time is counted?

Each measurement is a fresh Python process, as a user's run would be, so the compile cache is what it would be:

  eager     today's step, as ``python -m s6 train`` takes it;
  cold      ``torch.compile(model)`` with an empty inductor cache: the first run on a machine;
  warm      the same, with the cache that the cold run left: every later run.

A process imports s6, loads MNIST, builds Model-2 and its optimiser, takes its first two steps (the compile happens
there), then times rounds of ``--steps`` steps on batches augmented beforehand; the fastest round counts. Rounds of
processes alternate (eager, compiled, eager, compiled, ...), so both see the same machine. Prints, per kind, the
seconds to the end of the first two steps, counted from the process's start, and the step's milliseconds; last,
``ratio: X.XX`` = eager step / compiled (warm) step, above 1 when compiling pays.

    python benchmarks/bench_compile.py --data-dir ../shared/mnist [--rounds 2] [--save results/bench/compile.json]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

import torch
from printout import Printout, add_save_option

from s6.device import describe_device
from s6.models.registry import DEFAULT_MODEL, build_model, recipe_for
from s6.training.data import augment_schedule, load_mnist, resolve_data_dir, tensor_loaders
from s6.training.train import make_optimizer, speed_up, train_epoch


def child(data_dir: str | None, compiled: bool, steps: int, rounds: int) -> dict:
    """One process's measurement: the wall clock at the end of its first two steps, and its steps' ms."""
    device, recipe = torch.device("cpu"), recipe_for(DEFAULT_MODEL)
    schedule = augment_schedule(recipe, recipe.epochs)
    loader, _ = tensor_loaders(load_mnist(resolve_data_dir(data_dir)), recipe.batch_size, schedule, device, 1,
                               train_subset=recipe.batch_size * steps)
    batches = list(loader)  # augmented once, beforehand: the rounds time the step alone
    torch.manual_seed(1)
    model = speed_up(build_model(DEFAULT_MODEL))  # as s6 trains it
    model = torch.compile(model) if compiled else model
    optimizer = make_optimizer(model, recipe, len(batches), 1 + 2 * rounds)
    train_epoch(model, batches[:2], optimizer, device, progress=False)
    first = time.time()  # the parent subtracts the moment it started this process
    step_ms = []
    for _ in range(rounds):
        start = time.perf_counter()
        train_epoch(model, batches, optimizer, device, progress=False)
        step_ms.append((time.perf_counter() - start) / steps * 1000)
    return {"first_steps_at": first, "step_ms": min(step_ms)}


def measure(data_dir: str | None, kind: str, cache: str, steps: int) -> dict:
    """A fresh process's figures: seconds from its start to the end of its first two steps, and its step's ms.
    The inductor cache is ``cache``, emptied first for a cold run."""
    if kind == "cold":
        shutil.rmtree(cache)
        os.mkdir(cache)
    command = [sys.executable, __file__, "--child", "eager" if kind == "eager" else "compiled", "--steps", str(steps)]
    if data_dir:
        command += ["--data-dir", data_dir]
    started = time.time()
    done = subprocess.run(command, capture_output=True, text=True, env={**os.environ, "TORCHINDUCTOR_CACHE_DIR": cache})
    if done.returncode:
        raise SystemExit(f"bench_compile.py: the {kind} run failed: {done.stderr.strip().splitlines()[-1]}")
    figures = json.loads(done.stdout.strip().splitlines()[-1])
    return {"first_steps_s": figures["first_steps_at"] - started, "step_ms": figures["step_ms"]}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data-dir", default=None, help="MNIST root (default: $S6_DATA_DIR, else ./data)")
    parser.add_argument("--steps", type=int, default=20, help="steps per timed round (default: 20)")
    parser.add_argument("--rounds", type=int, default=2, help="processes of each kind (default: 2); the first "
                        "compiled one is cold, the rest warm")
    parser.add_argument("--child", choices=["eager", "compiled"], help=argparse.SUPPRESS)
    add_save_option(parser)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(child(args.data_dir, args.child == "compiled", args.steps, rounds=5)))
        return
    say = Printout("bench_compile.py")
    say(f"{DEFAULT_MODEL} training step, batch {recipe_for(DEFAULT_MODEL).batch_size}, on "
        f"{describe_device(torch.device('cpu'))}; torch {torch.__version__}")
    runs: dict[str, list[dict]] = {"eager": [], "cold": [], "warm": []}
    with tempfile.TemporaryDirectory(prefix="s6-inductor-") as cache:
        for round_ in range(args.rounds):
            for kind in ("eager", "cold" if round_ == 0 else "warm"):
                runs[kind].append(measure(args.data_dir, kind, cache, args.steps))
                run = runs[kind][-1]
                say(f"  {kind:<6} first two steps done {run['first_steps_s']:6.2f} s after start   "
                    f"step {run['step_ms']:5.1f} ms")
    median = {kind: {key: statistics.median(run[key] for run in done) for key in done[0]}
              for kind, done in runs.items() if done}
    say("medians:")
    for kind, figures in median.items():
        say(f"  {kind:<6} first two steps {figures['first_steps_s']:6.2f} s   step {figures['step_ms']:5.1f} ms")
    compiled = median.get("warm", median["cold"])
    say(f"ratio: {median['eager']['step_ms'] / compiled['step_ms']:.2f}")
    say.figures = {"device": describe_device(torch.device("cpu")), "median": median}
    if args.save:
        say.save(args.save)


if __name__ == "__main__":
    main()
