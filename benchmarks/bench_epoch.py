"""One training epoch and one evaluation pass of model2, two ways, in one process on one device:

  (a) torchvision: datasets.MNIST + per-image PIL transforms + DataLoader (batch 128, 2 workers),
      the pytorch/examples way;
  (b) s6: the whole dataset as one tensor on the device, randperm batches, batched augmentation.

Same model, same recipe (optimizer, augmentation), same batch size. Prints both times and, last,
`ratio: X.XX` = torchvision time / s6 time.

    python benchmarks/bench_epoch.py --data-dir ../shared/mnist [--device cuda] [--batch-size 128]
"""

from __future__ import annotations

import argparse
import time

import torch
from printout import Printout, add_save_option

from s6.device import describe_device, resolve_device, sync
from s6.models.registry import build_model, recipe_for
from s6.training.data import augment_schedule, load_mnist, resolve_data_dir, tensor_loaders, torchvision_loaders
from s6.training.train import evaluate, make_optimizer, speed_up, train_epoch


def time_epoch(name: str, train_loader, test_loader, device: torch.device, seed: int,
               say: Printout) -> tuple[float, float, float]:
    """(train seconds, eval seconds, test accuracy) for one epoch of model2 from a fresh init."""
    torch.manual_seed(seed)
    model = speed_up(build_model("model2").to(device))  # as s6 trains it
    optimizer = make_optimizer(model, recipe_for("model2"), len(train_loader), 1)
    sync(device)
    start = time.perf_counter()
    train_epoch(model, train_loader, optimizer, device, progress=False)
    sync(device)
    middle = time.perf_counter()
    _, accuracy = evaluate(model, test_loader, device)
    sync(device)
    end = time.perf_counter()
    say(f"{name:<12} train {middle - start:7.2f} s   eval {end - middle:6.2f} s   "
        f"total {end - start:7.2f} s   test acc after 1 epoch {accuracy:.2f}%")
    return middle - start, end - middle, accuracy


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data-dir", default=None, help="MNIST root (default: $S6_DATA_DIR, else ./data)")
    parser.add_argument("--device", choices=["cpu", "cuda"], default=None)
    parser.add_argument("--batch-size", type=int, default=128, help="the same for both pipelines")
    parser.add_argument("--workers", type=int, default=2, help="DataLoader worker processes for (a)")
    parser.add_argument("--seed", type=int, default=1)
    add_save_option(parser)
    args = parser.parse_args()
    say = Printout("bench_epoch.py")

    device = resolve_device(args.device)
    root = resolve_data_dir(args.data_dir)
    recipe = recipe_for("model2")
    jitter = augment_schedule(recipe, recipe.epochs)  # the first epoch: jittered
    say(f"model2, one epoch (60,000 images) + one test pass (10,000), batch {args.batch_size}, "
        f"on {describe_device(device)}; torch {torch.__version__}")

    start = time.perf_counter()
    mnist = load_mnist(root)
    s6_train, s6_test = tensor_loaders(mnist, args.batch_size, jitter, device, args.seed)
    say(f"s6 data setup (read, verify, normalise, move to device): {time.perf_counter() - start:.2f} s")
    tv_train, tv_test = torchvision_loaders(root, args.batch_size, jitter, args.seed, num_workers=args.workers)

    tv = time_epoch("torchvision", tv_train, tv_test, device, args.seed, say)
    ours = time_epoch("s6", s6_train, s6_test, device, args.seed, say)
    say(f"train ratio: {tv[0] / ours[0]:.2f}   eval ratio: {tv[1] / ours[1]:.2f}")
    say(f"ratio: {(tv[0] + tv[1]) / (ours[0] + ours[1]):.2f}")
    if args.save:
        say.save(args.save)


if __name__ == "__main__":
    main()
