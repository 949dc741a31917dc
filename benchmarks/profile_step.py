"""Where one training step of the default model spends its time, by kind of work, from torch.profiler.

A step is what ``s6.training.train.train_epoch`` does per batch: forward, cross-entropy, backward, the optimiser and the
schedule, on a batch of the recipe's size that the training loader has already augmented. Prints the step's
time (the fastest of several timed rounds, the profiler off) and each kind's share of the operators' own time
(the profiler on), the convolutions first.

It imports whichever s6 is first on the path. An earlier revision is profiled with the copy of this script that
reads its layout: for 558d71b (flat modules), the one at d6ae4fa:

    python benchmarks/profile_step.py --data-dir DIR --save results/bench/profile_step.json
    git worktree add /tmp/old 558d71b && git show d6ae4fa:benchmarks/profile_step.py > /tmp/old/profile_step.py
    PYTHONPATH=/tmp/old python /tmp/old/profile_step.py --data-dir DIR --save results/bench/profile_step_558d71b.json
"""

from __future__ import annotations

import argparse
import time

import torch
from printout import Printout, add_save_option
from torch.profiler import ProfilerActivity, profile

import s6
from s6.device import describe_device
from s6.models.registry import DEFAULT_MODEL, build_model, recipe_for
from s6.models.summary import count_parameters
from s6.training.data import augment_schedule, load_mnist, resolve_data_dir, tensor_loaders
from s6.training.train import OneCycleSGD, make_optimizer, speed_up, train_epoch

# The optimiser's own Python time, named in the profile as its kernels are (the package carries no profiling hook)
OneCycleSGD.step = torch.profiler.record_function("OneCycleSGD.step")(OneCycleSGD.step)

# Each operator the profiler names, by the kind of work it is: the first kind whose words its name contains, in
# any case (the autograd engine's own entries are spelled ConvolutionBackward0, NativeBatchNormBackward0, ...).
KINDS = {
    "convolution": ("conv",),
    "BatchNorm": ("batch_norm", "batchnorm"),
    "Dropout's random mask": ("bernoulli", "uniform_", "random_"),
    "max-pool": ("max_pool",),
    "ReLU": ("relu", "threshold", "clamp_min"),
    "optimiser and schedule": ("optimizer", "sgd", "_foreach", "lr_scheduler"),  # OneCycleSGD.step, too
}


def kind_of(operator: str) -> str:
    for kind, words in KINDS.items():
        if any(word in operator.lower() for word in words):
            return kind
    return "everything else"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data-dir", default=None, help="MNIST root (default: $S6_DATA_DIR, else ./data)")
    parser.add_argument("--model", default=DEFAULT_MODEL, help="a model of the registry (default: %(default)s)")
    parser.add_argument("--steps", type=int, default=20, help="steps per timed round, and profiled")
    add_save_option(parser)
    args = parser.parse_args()
    say = Printout("profile_step.py")

    device, recipe = torch.device("cpu"), recipe_for(args.model)
    mnist = load_mnist(resolve_data_dir(args.data_dir))
    torch.manual_seed(1)
    model = speed_up(build_model(args.model))  # as s6 trains it
    loader, _ = tensor_loaders(mnist, recipe.batch_size, augment_schedule(recipe, recipe.epochs), device, 1,
                               train_subset=recipe.batch_size * args.steps)
    optimizer = make_optimizer(model, recipe, len(loader), 20)

    def steps() -> None:
        train_epoch(model, list(loader), optimizer, device, progress=False)  # augmented beforehand

    steps()  # warm-up: the first steps allocate and pick kernels
    rounds = []
    for _ in range(5):
        start = time.perf_counter()
        steps()
        rounds.append((time.perf_counter() - start) / args.steps * 1000)
    with profile(activities=[ProfilerActivity.CPU]) as prof:
        steps()
    shares: dict[str, float] = {}
    for event in prof.key_averages():
        shares[kind_of(event.key)] = shares.get(kind_of(event.key), 0.0) + event.self_cpu_time_total
    total = sum(shares.values())
    shares = {kind: 100 * us / total for kind, us in sorted(shares.items(), key=lambda kv: -kv[1])}

    say(f"{args.model} (s6 {s6.__version__}, {count_parameters(model):,} parameters), batch {recipe.batch_size}, "
        f"on {describe_device(device)}; torch {torch.__version__}")
    say(f"one training step: {min(rounds):.1f} ms (fastest of 5 rounds of {args.steps} steps; slowest "
        f"{max(rounds):.1f} ms)")
    say("share of the operators' own time in a step:")
    for kind in ("convolution", *[k for k in shares if k != "convolution"]):
        say(f"  {kind:<26} {shares.get(kind, 0.0):5.1f}%")
    say.figures = {"device": describe_device(device), "s6": s6.__version__, "step_ms": min(rounds),
                   "shares": shares}
    if args.save:
        say.save(args.save)


if __name__ == "__main__":
    main()
