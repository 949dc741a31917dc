"""Does the quick loop catch realistic bugs? Plant each of a list of named mutations, one at a time, in a scratch copy
of the repository, run ``pytest -m "not slow" -x`` there, and report which were caught, by which test, in how long.

Each mutation is an exact replacement of source text that must occur exactly once, so a list that no longer matches
the code fails loudly instead of planting nothing. The copy is the repository's tracked and new files as they are
now (``git ls-files``); the unmutated copy's quick loop runs first and must pass, or no result would mean anything.

    python tools/mutants.py                                  # every mutation (about half an hour on 2 cores)
    python tools/mutants.py --only evaluate-without-eval     # one of them
    python tools/mutants.py --save results/mutants.json      # keep the printout: docs/testing.md shows it
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
QUICK_LOOP = ["-m", "pytest", "-m", "not slow", "-x", "-q", "-p", "no:cacheprovider"]
SHOWN = 'pytest -m "not slow" -x'  # QUICK_LOOP as the printout names it


@dataclass(frozen=True)
class Mutation:
    name: str
    bug: str  # the slip it stands for, in words
    edits: tuple[tuple[str, str, str], ...]  # (file, text, its replacement): each text occurs exactly once


def mutation(name: str, bug: str, *edits: tuple[str, str, str]) -> Mutation:
    return Mutation(name, bug, edits)


TRAIN, BATCHES, WORKBOOK = "s6/training/train.py", "s6/training/data.py", "s6/backprop/workbook.py"
CHECKPOINT, SGD = "s6/training/checkpoint.py", "s6/training/train.py"

MUTATIONS = (
    # the planted bugs of issue 39, in its order
    mutation("dropout-rescale", "Dropout's 1/(1-p) rescale removed",
             (TRAIN, "return x * (keep * (1 / (1 - self.p)))", "return x * keep")),
    mutation("model2-epochs", "Model-2's epochs 5 -> 4",
             ("s6/models/model2.py", "    epochs=5,  # passes", "    epochs=4,  # passes")),
    mutation("model2-peak-lr", "Model-2's peak learning rate 0.3 -> 0.2",
             ("s6/models/model2.py", "    max_lr=0.3,  # peak", "    max_lr=0.2,  # peak")),
    mutation("no-scheduler-step", "the optimiser never steps the one-cycle schedule",
             (SGD, "        self.steps += 1\n", "")),
    mutation("evaluate-without-eval", "evaluate() without model.eval(): BatchNorm's batch statistics, Dropout on",
             (TRAIN, "    model.eval()\n    total_loss", "    total_loss")),
    mutation("resume-without-torch-rng", "resume without the torch RNG state (Dropout's masks)",
             (CHECKPOINT, '    torch.set_rng_state(checkpoint["rng"]["torch"])\n', "")),
    mutation("resume-without-optimizer", "resume without the optimiser state (momentum)",
             (CHECKPOINT, "    optimizer.load_state_dict(optimizer_state(checkpoint))\n", "")),
    mutation("workbook-template-slip", "the workbook's dE/dw3 with a_h1's slope (the template's slip)",
             (WORKBOOK, "f[\"dE/dw3\"] = f\"={d_a_h2}*{c['a_h2']}*(1-{c['a_h2']})*{c['i1']}\"",
              "f[\"dE/dw3\"] = f\"={d_a_h2}*{c['a_h1']}*(1-{c['a_h1']})*{c['i1']}\"")),
    mutation("workbook-update-sign", "the workbook's weight update w + lr*dE/dw",
             (WORKBOOK, 'f"={col[w]}{row - 1}-{LR_CELL}*', 'f"={col[w]}{row - 1}+{LR_CELL}*')),
    mutation("no-centring-by-mass", "predict's digit not centred by its centre of mass",
             ("s6/inference/digits.py", "    dy = round(13.5 - float((canvas * ys).sum() / mass))\n"
              "    dx = round(13.5 - float((canvas * xs).sum() / mass))\n", "    dy = dx = 0\n")),
    mutation("no-polarity-check", "predict assumes dark ink on light paper",
             ("s6/inference/digits.py", "    dark = ink_is_dark(pixels)", "    dark = True")),
    mutation("augment-angle-x10", "the augmentation's angle ten times the recipe's",
             (BATCHES, "draws[0] * math.radians(augment.degrees)",
              "draws[0] * math.radians(augment.degrees * 10)")),
    mutation("clean-epoch-augmented", "the schedule's off-by-one: the clean last epoch still augmented",
             (BATCHES, "epochs - recipe.clean_epochs + 1 if", "epochs - recipe.clean_epochs + 2 if")),
    mutation("readme-median", "a generated README figure: median instead of mean",
             ("s6/results/seeds.py", "mean=sum(accs) / len(accs)", "mean=sorted(accs)[len(accs) // 2]")),
    mutation("direct-write", "the atomic write replaced by a direct write",
             ("s6/__init__.py", "    path.parent.mkdir(parents=True, exist_ok=True)\n    fd, tmp",
              "    path.parent.mkdir(parents=True, exist_ok=True)\n    path.write_bytes(data)\n    return\n"
              "    fd, tmp")),
    mutation("no-cli-error-handler", "the CLI's one-line error handler removed (a traceback instead)",
             ("s6/cli.py", '    except S6Error as e:\n        print(f"error: {e}", file=sys.stderr)\n'
              "        return 130 if isinstance(e, TrainingInterrupted) else 1\n", "")),
    mutation("validation-overlap", "the validation split overlaps training by one image (tensor loader)",
             (BATCHES, "scored_images, scored_labels = mnist.train_images[cut:], mnist.train_labels[cut:]",
              "scored_images, scored_labels = mnist.train_images[cut - 1:], mnist.train_labels[cut - 1:]")),
    mutation("loader-reseeded", "the training loader reseeded every epoch: same order, same jitter",
             (BATCHES, "        self.generator = torch.Generator(device=self.device)\n"
              "        self.generator.manual_seed(seed)\n",
              "        self.seed = seed\n        self.generator = torch.Generator(device=self.device)\n"),
             (BATCHES, "        n = len(self.labels)\n        if self.shuffle:",
              "        n = len(self.labels)\n        self.generator.manual_seed(self.seed)\n        if self.shuffle:")),
    mutation("evaluate-loss-per-batch", "evaluate()'s loss averaged per batch instead of over the images",
             (TRAIN, 'total_loss += F.cross_entropy(logits, y, reduction="sum")',
              "total_loss += F.cross_entropy(logits, y)"),
             (TRAIN, "return total_loss.item() / seen,", "return total_loss.item() / len(loader),")),
    mutation("default-out-no-subset", "default_out drops the subset suffix",
             ("s6/training/run.py", '    if plan.train_subset is not None:\n        name += f"-subset'
              '{plan.train_subset}"\n', "")),
    # more, in the parts users rely on
    mutation("validation-overlap-torchvision", "the validation split overlaps training by one image (torchvision)",
             (BATCHES, "test_set = Subset(training_images(to_tensor), range(cut, TRAIN_IMAGES))",
              "test_set = Subset(training_images(to_tensor), range(cut - 1, TRAIN_IMAGES))")),
    mutation("resume-without-loader-rng", "resume without the loader's random stream (order, jitter)",
             (CHECKPOINT, '    loader_generator.set_state(checkpoint["rng"]["loader"])\n', "")),
    mutation("resume-without-schedule", "resume without the schedule's state: the one-cycle restarts",
             (SGD, '        self.steps = state["steps"]\n', "")),
    mutation("train-without-train-mode", "train_epoch without model.train(): after evaluate, training in eval mode",
             (TRAIN, "    model.train()\n    losses", "    losses")),
    mutation("no-seed", "a run's weights not seeded: same seed, other weights",
             ("s6/training/run.py", "torch.manual_seed(plan.seed)  # the weights'", "None  # the weights'")),
    mutation("no-zero-grad", "gradients never zeroed: each step adds every earlier batch's",
             (TRAIN, "        optimizer.zero_grad()\n", "")),
    mutation("network-update-sign", "Part 1's reference network climbs its gradient: w + lr*dE/dw",
             ("s6/backprop/network.py", "w = tuple(wi - lr * row", "w = tuple(wi + lr * row")),
    mutation("augment-shift-half", "the augmentation shifts half as far as its recipe says",
             (BATCHES, "shift_x = draws[2] * (2 * augment.translate)",
              "shift_x = draws[2] * augment.translate")),
    mutation("normalise-std", "images normalised with the std the wrong way round",
             (BATCHES, "/ 255.0 - MNIST_MEAN) / MNIST_STD", "/ 255.0 - MNIST_MEAN) * MNIST_STD")),
    mutation("finite-check-nan-only", "a diverging loss goes unreported once it is infinite",
             (TRAIN, "bad = (~torch.isfinite(losses)).nonzero()", "bad = torch.isnan(losses).nonzero()")),
)


def mutated(text: str, old: str, new: str, where: str) -> str:
    """``text`` with its one ``old`` replaced by ``new``; ValueError when ``old`` is not there exactly once."""
    count = text.count(old)
    if count != 1:
        raise ValueError(f"{where}: the text to replace occurs {count} times, not once: {old!r}")
    return text.replace(old, new)


def check_all(root: Path, mutations: tuple[Mutation, ...]) -> None:
    """Every edit of every mutation applies to the source as it is, before anything runs for minutes."""
    for m in mutations:
        texts: dict[str, str] = {}
        for path, old, new in m.edits:
            texts[path] = mutated(texts.get(path) or (root / path).read_text(), old, new, f"{m.name}: {path}")


def scratch_copy(root: Path, into: Path) -> Path:
    """The repository's tracked and new (not ignored) files, as they are now, copied under ``into``."""
    listed = subprocess.run(["git", "-C", str(root), "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
                            capture_output=True, check=True).stdout.decode().split("\0")
    for name in filter(None, listed):
        if (root / name).is_file():  # a file deleted but not yet committed is listed and absent
            (into / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(root / name, into / name)
    return into


@dataclass(frozen=True)
class Outcome:
    failed: bool
    first_failure: str  # the test that failed first, or why the run stopped; "" when it passed
    summary: str  # pytest's last line
    seconds: float


def quick_loop(copy: Path, timeout: float) -> Outcome:
    """The quick loop in ``copy``, its s6 first on the path (not an installed one), stopping at the first failure."""
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(copy), *filter(None, [os.environ.get("PYTHONPATH")])])}
    start = time.perf_counter()
    try:
        done = subprocess.run([sys.executable, *QUICK_LOOP], cwd=copy, env=env, capture_output=True, text=True,
                              timeout=timeout)
    except subprocess.TimeoutExpired:
        return Outcome(True, f"timed out after {timeout:.0f} s", "", time.perf_counter() - start)
    seconds = time.perf_counter() - start
    lines = done.stdout.strip().splitlines() or [""]
    failure = re.search(r"^(?:FAILED|ERROR) (.+?)(?: - .*)?$", done.stdout, re.M)  # a test's id may hold spaces
    first = failure[1] if failure else ("" if done.returncode == 0 else f"pytest exit {done.returncode}")
    return Outcome(done.returncode != 0, first, lines[-1].strip("= "), seconds)


def copied_from() -> str:
    """The commit the scratch copy is taken from, named when it is taken: the record's own "commit" is read when it
    is saved, half an hour later, by which time the repository may have moved on."""
    from s6.device import source_commit

    commit = source_commit(ROOT)
    return "the repository (not a git clone)" if commit is None else f"commit {commit[:7]}{commit[40:]}"


def machine() -> str:
    import torch

    from s6.device import describe_device

    return f"{describe_device(torch.device('cpu'))}, torch {torch.__version__}"  # the device names its vector path


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--only", metavar="NAME", action="append", choices=[m.name for m in MUTATIONS],
                        help="run this mutation only; repeat for more (default: every one; --list names them)")
    parser.add_argument("--list", action="store_true", help="name every mutation and the slip it stands for")
    parser.add_argument("--timeout", type=float, default=600.0,
                        help="seconds one quick loop may take before it counts as caught by a hang (default: 600)")
    sys.path.insert(0, str(ROOT / "benchmarks"))  # printout.py, the benchmarks' record keeper
    from printout import Printout, add_save_option

    add_save_option(parser)
    args = parser.parse_args(argv)
    if args.list:
        for m in MUTATIONS:
            print(f"{m.name:32}  {m.bug}  ({', '.join(dict.fromkeys(path for path, _, _ in m.edits))})")
        return 0
    chosen = tuple(m for m in MUTATIONS if not args.only or m.name in args.only)
    check_all(ROOT, chosen)
    say = Printout("tools/mutants.py")
    with tempfile.TemporaryDirectory(prefix="s6-mutants-") as scratch:
        copy = scratch_copy(ROOT, Path(scratch))
        say(f"quick loop: {SHOWN}, in a scratch copy of {copied_from()}, one mutation at a time; on {machine()}")
        baseline = quick_loop(copy, args.timeout)
        say(f"no mutation: {baseline.summary} ({baseline.seconds:.0f} s in all)")
        if baseline.failed:
            say(f"the unmutated copy fails ({baseline.first_failure}): fix that first; no mutation was run")
            return 1
        results = []
        for m in chosen:
            originals = {path: (copy / path).read_text() for path, _, _ in m.edits}
            for path, old, new in m.edits:
                (copy / path).write_text(mutated((copy / path).read_text(), old, new, m.name))
            outcome = quick_loop(copy, args.timeout)
            for path, text in originals.items():
                (copy / path).write_text(text)
            results.append({"name": m.name, "bug": m.bug, "files": list(originals), "caught": outcome.failed,
                            "by": outcome.first_failure, "seconds": round(outcome.seconds, 1)})
            say(f"{'caught' if outcome.failed else 'MISSED'}  {m.name:31} {outcome.seconds:4.0f} s  "
                f"{outcome.first_failure or outcome.summary}")
    caught = sum(r["caught"] for r in results)
    say(f"{caught} of {len(results)} mutations caught by the quick loop")
    say.figures = {"caught": caught, "mutations": results, "baseline": baseline.summary,
                   "baseline_seconds": round(baseline.seconds, 1)}
    if args.save:
        say.save(args.save)
    return 0 if caught == len(results) else 1


if __name__ == "__main__":
    sys.exit(main())
