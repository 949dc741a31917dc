"""Which runtime choices speed up model2's training on this machine? Each is timed in one run.

For every variant: seconds per 60,000-image training epoch, extrapolated from N batches after a
warm-up, with the s6 TensorLoader and model2's recipe; and, for evaluation, seconds per 10,000-image
test pass at several batch sizes. A choice is kept in s6 only if it wins here (see README).

    python benchmarks/bench_runtime.py --data-dir ../shared/mnist [--batches 150]
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from s6.data import load_mnist, resolve_data_dir, tensor_loaders  # noqa: E402
from s6.models import Model2, build_model, recipe_for  # noqa: E402
from s6.run import describe_device  # noqa: E402
from s6.train import evaluate, make_optimizer, train_epoch  # noqa: E402


def epoch_seconds(mnist, model: torch.nn.Module, batches: int, batch_size: int, channels_last: bool = False) -> float:
    recipe = recipe_for("model2")
    if channels_last:
        model = model.to(memory_format=torch.channels_last)
    warmup, _ = tensor_loaders(mnist, batch_size, recipe.augment, "cpu", 0, train_subset=batch_size * 10)
    timed, _ = tensor_loaders(mnist, batch_size, recipe.augment, "cpu", 0, train_subset=batch_size * batches)
    optimizer, scheduler = make_optimizer(model, recipe, len(warmup) + len(timed), 1)
    train_epoch(model, warmup, optimizer, scheduler, torch.device("cpu"), progress=False)
    start = time.perf_counter()
    train_epoch(model, timed, optimizer, scheduler, torch.device("cpu"), progress=False)
    return (time.perf_counter() - start) / (batch_size * batches) * 60000


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data-dir", default=None, help="MNIST root (default: $S6_DATA_DIR, else ./data)")
    parser.add_argument("--batches", type=int, default=150, help="timed training batches per variant")
    args = parser.parse_args()

    mnist = load_mnist(resolve_data_dir(args.data_dir))
    threads = torch.get_num_threads()
    print(f"model2 on {describe_device(torch.device('cpu'))}; torch {torch.__version__}")
    print("training, seconds per 60k-image epoch (lower is better):")
    base = epoch_seconds(mnist, build_model("model2"), args.batches, 64)
    variants = {"s6 default (batch 64, Dropout after the pool only)": base}
    variants["channels_last memory format"] = epoch_seconds(mnist, build_model("model2"), args.batches, 64, True)
    everywhere = Model2()
    for block in (everywhere.block1, everywhere.block2):  # the 26x26 and 24x24 maps
        block.append(torch.nn.Dropout(0.05))
    variants["Dropout after every block, the big maps too"] = epoch_seconds(mnist, everywhere, args.batches, 64)
    variants["batch 128 instead of 64"] = epoch_seconds(mnist, build_model("model2"), args.batches // 2, 128)
    torch.set_num_threads(1)
    variants["1 thread instead of all cores"] = epoch_seconds(mnist, build_model("model2"), args.batches, 64)
    torch.set_num_threads(threads)
    for name, seconds in variants.items():
        print(f"  {name:<52} {seconds:6.1f} s   x{base / seconds:.2f} speed vs default")

    print("evaluation, seconds per 10k-image test pass (inference_mode):")
    model = build_model("model2")
    for batch in (128, 500, 2000, 10000):
        _, test = tensor_loaders(mnist, 64, None, "cpu", 0, test_batch_size=batch)
        evaluate(model, test, torch.device("cpu"))
        start = time.perf_counter()
        evaluate(model, test, torch.device("cpu"))
        print(f"  batch {batch:>5}: {time.perf_counter() - start:5.2f} s")


if __name__ == "__main__":
    main()
