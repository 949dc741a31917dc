"""Which changes to the training step speed up Model-2 on this machine? Each is timed in one run, side by side.

On the CPU the variants are cumulative, from Model-2 as it was at 558d71b to today's: each row adds one change to
the row above, so each row's ratio to the first says what the changes so far bought. A variant's figure is
seconds per 60,000-image training epoch (augmentation included, as the training loader does it), extrapolated
from N batches after a warm-up; every round times every variant once, in turn, and the fastest round counts,
so a busy moment of the machine does not land on one variant only. Then evaluation, seconds per 10,000-image
test pass, at several batch sizes. On CUDA the variants are the GPU's own: cuDNN autotuning, bfloat16 autocast,
torch.compile.

    python benchmarks/bench_runtime.py --data-dir ../shared/mnist [--batches 150] [--rounds 3] [--device cuda]
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable

import torch
from printout import Printout, add_save_option
from variants import model2_widths, pool_after, pool_first, with_torch_dropout

from s6.device import describe_device, resolve_device, sync
from s6.models.registry import build_model, recipe_for
from s6.training.data import augment_schedule, load_mnist, resolve_data_dir, tensor_loaders
from s6.training.train import evaluate, make_optimizer, speed_up, train_epoch


class Bfloat16(torch.nn.Module):
    """Runs the wrapped model's forward pass under bfloat16 autocast; the loss stays float32."""

    def __init__(self, model: torch.nn.Module) -> None:
        super().__init__()
        self.model = model

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        with torch.autocast(x.device.type, dtype=torch.bfloat16):
            return self.model(x).float()


def epoch_seconds(
    mnist, model: torch.nn.Module, batches: int, batch_size: int, device: torch.device,
    channels_last: bool = False, bf16: bool = False, compile: bool = False,
) -> Callable[[], float]:
    """A timer of ``model``'s training: each call trains ``batches`` batches and returns seconds per epoch."""
    recipe = recipe_for("model2")
    model = model.to(device)
    if channels_last:
        model = model.to(memory_format=torch.channels_last)
    trainer = Bfloat16(model) if bf16 else model
    trainer = torch.compile(trainer, dynamic=False) if compile else trainer
    jitter = augment_schedule(recipe, recipe.epochs)  # the first epoch's: jittered
    warmup, _ = tensor_loaders(mnist, batch_size, jitter, device, 0, train_subset=batch_size * 10)
    timed, _ = tensor_loaders(mnist, batch_size, jitter, device, 0, train_subset=batch_size * batches)
    optimizer = make_optimizer(model, recipe, len(warmup) + 100 * len(timed), 1)
    train_epoch(trainer, warmup, optimizer, device, progress=False)

    def timer() -> float:
        sync(device)
        start = time.perf_counter()
        train_epoch(trainer, timed, optimizer, device, progress=False)
        sync(device)
        return (time.perf_counter() - start) / (batch_size * batches) * 60000

    return timer


def cpu_variants(mnist, batches: int) -> dict[str, Callable[[], float]]:
    """Model-2 of 558d71b, then one change after another, to today's; then two choices not taken."""
    cpu, batch = torch.device("cpu"), recipe_for("model2").batch_size
    widths = model2_widths()
    ten, dropped = (10, *widths[1:]), (3, 4, 5, 6)  # Model-2 of 558d71b: 10 channels, Dropout after blocks 3-6
    rows = [
        ("Model-2 of 558d71b (10 channels, pool after block 1)", with_torch_dropout(pool_after(ten, dropped))),
        ("+ block 1 pools before its BatchNorm and ReLU",
         with_torch_dropout(pool_first(ten, dropout_after=dropped, channels_last=False))),
        ("+ 8 channels in block 1, not 10",
         with_torch_dropout(pool_first(widths, dropout_after=dropped, channels_last=False))),
        ("+ channels-last maps", with_torch_dropout(pool_first(widths, dropout_after=dropped))),
        ("+ Dropout's masks from 16 random bits a value", pool_first(widths, dropout_after=dropped)),
        ("+ Dropout after blocks 5-6 only: today's Model-2", speed_up(build_model("model2"))),
    ]
    variants = {name: epoch_seconds(mnist, model, batches, batch, cpu) for name, model in rows}
    variants[f"  today's, batch {2 * batch} (not taken)"] = epoch_seconds(
        mnist, speed_up(build_model("model2")), batches // 2, 2 * batch, cpu)
    return variants


def cuda_variants(mnist, batches: int, device: torch.device, say: Printout) -> dict[str, Callable[[], float]]:
    batch = recipe_for("model2").batch_size

    def timed(**options) -> Callable[[], float]:
        try:
            return epoch_seconds(mnist, speed_up(build_model("model2")), batches, batch, device, **options)
        except Exception as e:  # a variant that fails here (torch.compile, say) is reported, not fatal
            say(f"  {options} failed: {str(e).strip().splitlines()[0] if str(e).strip() else type(e).__name__}")
            return lambda: float("nan")

    variants = {f"s6 default (batch {batch}, float32, eager)": timed()}
    variants["channels_last memory format"] = timed(channels_last=True)
    variants["bfloat16 autocast"] = timed(bf16=True)
    variants["torch.compile"] = timed(compile=True)
    variants["torch.compile + bfloat16 autocast"] = timed(compile=True, bf16=True)
    plain = timed()

    def autotuned() -> float:
        torch.backends.cudnn.benchmark = True
        try:
            return plain()
        finally:
            torch.backends.cudnn.benchmark = False

    variants["cuDNN autotuning (cudnn.benchmark)"] = autotuned
    return variants


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data-dir", default=None, help="MNIST root (default: $S6_DATA_DIR, else ./data)")
    parser.add_argument("--batches", type=int, default=150, help="timed training batches per variant and round")
    parser.add_argument("--rounds", type=int, default=3, help="rounds; each times every variant once, in turn")
    parser.add_argument("--device", choices=["cpu", "cuda"], default="cpu")
    add_save_option(parser)
    args = parser.parse_args()
    say = Printout("bench_runtime.py")

    device = resolve_device(args.device)
    mnist = load_mnist(resolve_data_dir(args.data_dir))
    say(f"model2 on {describe_device(device)}; torch {torch.__version__}")
    say("training, seconds per 60k-image epoch (lower is better):")
    if device.type == "cuda":
        variants = cuda_variants(mnist, args.batches, device, say)
    else:
        variants = cpu_variants(mnist, args.batches)
    seconds = {name: [] for name in variants}
    for _ in range(args.rounds):
        for name, timer in variants.items():
            seconds[name].append(timer())
    fastest = {name: min(times) for name, times in seconds.items()}
    base = next(iter(fastest.values()))
    for name, best in fastest.items():
        say(f"  {name:<52} {best:6.2f} s   x{base / best:.2f} speed vs the first row")
    say.figures = {"device": describe_device(device), "epoch_seconds": fastest}

    say("evaluation, seconds per 10k-image test pass (inference_mode):")
    model = speed_up(build_model("model2")).to(device)
    for batch in (128, 500, 2000, 10000):
        _, test = tensor_loaders(mnist, 64, None, device, 0, test_batch_size=batch)
        evaluate(model, test, device)
        sync(device)
        start = time.perf_counter()
        evaluate(model, test, device)
        sync(device)
        say(f"  batch {batch:>5}: {time.perf_counter() - start:5.3f} s")
    if args.save:
        say.save(args.save)


if __name__ == "__main__":
    main()
