"""Time to a final test accuracy: ``python -m s6 train`` as a user types it, from start to exit, against the same
command at an earlier revision (and, optionally, the best published peer recipe of this exercise), on one device.

(a) s6: the default run of this checkout, timed from start to exit; the time before epoch 1 (imports, data, the
    model) is read off the moment its first line appears.
(b) ``--against REV``: the default run of revision REV, from a git worktree of it, in the same benchmark run,
    alternating with (a) round by round (A B A B), so both see the same machine.
(c) ``--beside MODEL``: ``python -m s6 train --model MODEL`` of this checkout, alternating with (a) round by round;
    prints its median time over the default's (``MODEL/default: X.XX``).
(d) ``--peer-epochs N``: the best published run of the Session 6 exercise, written from its description: a
    3x3-conv network with BatchNorm and Dropout (PeerNet below; its parameter count is printed), batch 256,
    SGD lr 0.01 then 0.001 after epoch 15, 20 epochs, torchvision MNIST with per-image transforms through a
    DataLoader. N < 20 trains N epochs and projects the 20-epoch time from their mean (said so in the output);
    its accuracy is then that of epoch N, not a result.

Prints each run, then ``speed-up: X.XX``: the earlier revision's median seconds over this one's.

    python benchmarks/bench_time_to_accuracy.py --data-dir ../shared/mnist --against 558d71b [--rounds 2]
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
from collections.abc import Iterator
from contextlib import contextmanager, nullcontext
from pathlib import Path

import torch
import torch.nn.functional as F
from printout import Printout, add_save_option
from torch import nn

from s6.device import describe_device, resolve_device, sync
from s6.models import MNIST_MEAN, MNIST_STD
from s6.models.registry import REGISTRY
from s6.models.summary import count_parameters
from s6.training.data import mnist_folder, resolve_data_dir

ROOT = Path(__file__).resolve().parent.parent
PEER_EPOCHS = 20  # the peer's schedule
PEER_BATCH = 256  # images per step
PEER_LR = 0.01  # SGD learning rate, times 0.1 after epoch 15
PEER_DROPOUT = 0.05


def block(c_in: int, c_out: int, padding: int = 0) -> nn.Sequential:
    return nn.Sequential(nn.Conv2d(c_in, c_out, 3, padding=padding, bias=False), nn.BatchNorm2d(c_out), nn.ReLU(),
                         nn.Dropout(PEER_DROPOUT))


class PeerNet(nn.Module):
    """The peer's network as described: 3x3 blocks with BatchNorm, ReLU and Dropout, a 1x1 transition after the
    first two, one max-pool, global average pooling and a 1x1 head (17,962 parameters, printed by the benchmark)."""

    def __init__(self) -> None:
        super().__init__()
        self.features = nn.Sequential(
            block(1, 16), block(16, 32),  # 28 -> 26 -> 24
            nn.Conv2d(32, 10, 1, bias=False), nn.MaxPool2d(2),  # 24 -> 12
            block(10, 16), block(16, 16), block(16, 24), block(24, 24, padding=1),  # 12 -> 10 -> 8 -> 6 -> 6
            nn.AdaptiveAvgPool2d(1), nn.Conv2d(24, 10, 1),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.features(x).flatten(1)


def peer_loaders(root: Path) -> tuple:
    from torch.utils.data import DataLoader
    from torchvision import datasets, transforms

    folder = mnist_folder(root)
    tensor = [transforms.ToTensor(), transforms.Normalize((MNIST_MEAN,), (MNIST_STD,))]
    train = datasets.MNIST(str(folder.parent.parent), train=True,
                           transform=transforms.Compose([transforms.RandomRotation(7), *tensor]))
    test = datasets.MNIST(str(folder.parent.parent), train=False, transform=transforms.Compose(tensor))
    return (DataLoader(train, batch_size=PEER_BATCH, shuffle=True, num_workers=2, persistent_workers=True),
            DataLoader(test, batch_size=1000, num_workers=2, persistent_workers=True))


def run_peer(root: Path, device: torch.device, epochs: int, say: Printout) -> tuple[float, float, list[float]]:
    """(wall seconds for ``epochs`` epochs, final test accuracy, seconds of each epoch)."""
    start = time.perf_counter()
    torch.manual_seed(1)
    model = PeerNet().to(device)
    say(f"peer: PeerNet, {count_parameters(model):,} parameters")
    optimizer = torch.optim.SGD(model.parameters(), lr=PEER_LR, momentum=0.9)
    scheduler = torch.optim.lr_scheduler.StepLR(optimizer, step_size=15, gamma=0.1)
    train, test = peer_loaders(root)
    seconds, accuracy = [], 0.0
    for epoch in range(1, epochs + 1):
        begin = time.perf_counter()
        model.train()
        for x, y in train:
            x, y = x.to(device), y.to(device)
            optimizer.zero_grad()
            F.cross_entropy(model(x), y).backward()
            optimizer.step()
        scheduler.step()
        model.eval()
        correct = 0
        with torch.inference_mode():
            for x, y in test:
                correct += int((model(x.to(device)).argmax(1) == y.to(device)).sum())
        sync(device)
        accuracy = correct / 100
        seconds.append(time.perf_counter() - begin)
        say(f"peer epoch {epoch:2d}: test accuracy {accuracy:.2f}%, {seconds[-1]:.1f} s")
    return time.perf_counter() - start, accuracy, seconds


def run_default(source: Path, data_dir: str | None, device: str | None, model: str | None = None) -> dict:
    """`python -m s6 train` of the s6 in folder ``source`` (with ``--model model`` when given), timed from start to
    exit."""
    with tempfile.TemporaryDirectory() as out:
        command = [sys.executable, "-m", "s6", "train", "--out", out, "--quiet"]
        command += ["--model", model] if model else []
        command += ["--data-dir", str(Path(data_dir).resolve())] if data_dir else []
        command += ["--device", device] if device else []
        # -m looks in the working folder first, so ``source``'s package runs, whatever the environment installed
        env = {**os.environ, "PYTHONPATH": str(source), "PYTHONUNBUFFERED": "1"}
        start = time.perf_counter()
        process = subprocess.Popen(command, cwd=source, env=env, stdout=subprocess.PIPE, text=True)
        before_epoch_1 = None
        for line in process.stdout:  # the run's first line comes once the data and the model are ready
            if before_epoch_1 is None and line.startswith("training "):
                before_epoch_1 = time.perf_counter() - start
        if process.wait():
            sys.exit(f"error: python -m s6 train in {source} stopped (exit {process.returncode}); nothing was saved")
        seconds = time.perf_counter() - start
        metrics = json.loads((Path(out) / "metrics.json").read_text())
    epochs = metrics["epochs"]
    return {"seconds": seconds, "before_epoch_1": before_epoch_1, "accuracy": epochs[-1]["test_acc"],
            "epochs": len(epochs), "params": metrics["params"], "commit": metrics.get("commit")}


@contextmanager
def worktree(revision: str) -> Iterator[Path]:
    """A checkout of ``revision`` in a temporary folder, removed afterwards."""
    folder = Path(tempfile.mkdtemp(prefix="s6-against-")) / "s6"
    added = subprocess.run(["git", "-C", str(ROOT), "worktree", "add", "--detach", str(folder), revision],
                           capture_output=True, text=True)
    if added.returncode:
        sys.exit(f"error: cannot check out {revision!r}: {added.stderr.strip().splitlines()[-1]}")
    try:
        yield folder
    finally:
        subprocess.run(["git", "-C", str(ROOT), "worktree", "remove", "--force", str(folder)], capture_output=True)


def describe_run(name: str, run: dict) -> str:
    return (f"{name}: {run['seconds']:.1f} s start to exit ({run['before_epoch_1']:.1f} s before epoch 1), "
            f"{run['epochs']} epochs, {run['params']:,} parameters, final test accuracy {run['accuracy']:.2f}%")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data-dir", default=None, help="MNIST root (default: $S6_DATA_DIR, else ./data)")
    parser.add_argument("--device", choices=["cpu", "cuda"], default=None)
    parser.add_argument("--against", metavar="REV", help="also time the default run of this git revision")
    parser.add_argument("--rounds", type=int, default=1, help="runs of each revision, alternating")
    parser.add_argument("--beside", metavar="MODEL", choices=list(REGISTRY),
                        help="also time `s6 train --model MODEL` of this revision, alternating with the default")
    parser.add_argument("--peer-epochs", type=int, default=0,
                        help=f"peer epochs to time (0: no peer); fewer than {PEER_EPOCHS} projects its schedule")
    add_save_option(parser)
    args = parser.parse_args()
    say = Printout("bench_time_to_accuracy.py")

    device = resolve_device(args.device)
    say(f"on {describe_device(device)}; torch {torch.__version__}")
    ours, theirs, beside = [], [], []
    with worktree(args.against) if args.against else nullcontext() as earlier:
        for _ in range(args.rounds):
            if earlier is not None:
                theirs.append(run_default(earlier, args.data_dir, args.device))
                say(describe_run(f"s6 default at {args.against}", theirs[-1]))
            ours.append(run_default(ROOT, args.data_dir, args.device))
            say(describe_run("s6 default (this revision)", ours[-1]))
            if args.beside:
                beside.append(run_default(ROOT, args.data_dir, args.device, args.beside))
                say(describe_run(f"s6 --model {args.beside} (this revision)", beside[-1]))
    figures = {"device": describe_device(device), "runs": ours,
               "s6_seconds": statistics.median(r["seconds"] for r in ours), "s6_accuracy": ours[-1]["accuracy"]}
    if theirs:
        figures |= {"against": args.against, "against_runs": theirs,
                    "against_seconds": statistics.median(r["seconds"] for r in theirs)}
        figures["speedup"] = figures["against_seconds"] / figures["s6_seconds"]
        say(f"median of {args.rounds}: {figures['s6_seconds']:.1f} s against {figures['against_seconds']:.1f} s at "
            f"{args.against}")
        say(f"speed-up: {figures['speedup']:.2f}")
    if beside:
        seconds = statistics.median(r["seconds"] for r in beside)
        figures["beside"] = {"model": args.beside, "runs": beside, "seconds": seconds,
                             "ratio": seconds / figures["s6_seconds"]}
        say(f"median of {args.rounds}: {seconds:.1f} s for {args.beside} against {figures['s6_seconds']:.1f} s for "
            f"the default")
        say(f"{args.beside}/default: {figures['beside']['ratio']:.2f}")
    if args.peer_epochs:
        peer_seconds, peer_accuracy, epochs = run_peer(resolve_data_dir(args.data_dir), device, args.peer_epochs, say)
        if args.peer_epochs < PEER_EPOCHS:
            projected = peer_seconds + (PEER_EPOCHS - args.peer_epochs) * sum(epochs) / len(epochs)
            say(f"peer: {args.peer_epochs} of {PEER_EPOCHS} epochs timed ({peer_seconds:.1f} s); the full schedule "
                f"projected from their mean: {projected:.1f} s; accuracy after epoch {args.peer_epochs} "
                f"{peer_accuracy:.2f}% (not a final result)")
            peer_seconds = projected
        else:
            say(f"peer: {peer_seconds:.1f} s, final test accuracy {peer_accuracy:.2f}%")
        figures |= {"peer_seconds": peer_seconds, "peer_epochs_timed": args.peer_epochs,
                    "ratio": peer_seconds / figures["s6_seconds"]}
        say(f"peer ratio: {figures['ratio']:.2f}")
    say.figures = figures
    if args.save:
        say.save(args.save)


if __name__ == "__main__":
    main()
