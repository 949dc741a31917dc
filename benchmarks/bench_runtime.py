"""Which runtime choices speed up model2's training on this machine? Each is timed in one run.

For every variant: seconds per 60,000-image training epoch, extrapolated from N batches after a
warm-up, with the s6 TensorLoader and model2's recipe; and, for evaluation, seconds per 10,000-image
test pass at several batch sizes. A choice is kept in s6 only if it wins here (see README).
On CUDA the variants are the GPU's own: cuDNN autotuning, bfloat16 autocast, torch.compile.

    python benchmarks/bench_runtime.py --data-dir ../shared/mnist [--batches 150] [--device cuda]
"""

from __future__ import annotations

import argparse
import time

import torch

from s6.data import load_mnist, resolve_data_dir, tensor_loaders
from s6.device import describe_device, resolve_device, sync
from s6.models import MODELS, ConvBN, Net, build_model
from s6.printout import Printout, add_save_option
from s6.recipe import recipe_for
from s6.train import evaluate, make_optimizer, train_epoch


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
) -> float:
    recipe = recipe_for("model2")
    model = model.to(device)
    if channels_last:
        model = model.to(memory_format=torch.channels_last)
    trainer = Bfloat16(model) if bf16 else model
    trainer = torch.compile(trainer, dynamic=False) if compile else trainer
    warmup, _ = tensor_loaders(mnist, batch_size, recipe.augment, device, 0, train_subset=batch_size * 10)
    timed, _ = tensor_loaders(mnist, batch_size, recipe.augment, device, 0, train_subset=batch_size * batches)
    optimizer, scheduler = make_optimizer(model, recipe, len(warmup) + len(timed), 1)
    train_epoch(trainer, warmup, optimizer, scheduler, device, progress=False)
    sync(device)
    start = time.perf_counter()
    train_epoch(trainer, timed, optimizer, scheduler, device, progress=False)
    sync(device)
    return (time.perf_counter() - start) / (batch_size * batches) * 60000


def cpu_variants(mnist, batches: int) -> dict[str, float]:
    cpu = torch.device("cpu")
    threads = torch.get_num_threads()
    batch = recipe_for("model2").batch_size
    variants = {f"s6 default (batch {batch}, Dropout from block 3 on)": epoch_seconds(
        mnist, build_model("model2"), batches, batch, cpu)}
    variants["channels_last memory format"] = epoch_seconds(mnist, build_model("model2"), batches, batch, cpu, True)
    model2 = MODELS["model2"]
    everywhere = Net(model2.changed(model2.names(ConvBN), dropout=0.05))  # the 26x26 and 11x11 maps too
    variants["Dropout after every block, the 26x26 map too"] = epoch_seconds(mnist, everywhere, batches, batch, cpu)
    variants[f"batch {2 * batch} instead of {batch}"] = epoch_seconds(
        mnist, build_model("model2"), batches // 2, 2 * batch, cpu)
    torch.set_num_threads(1)
    variants["1 thread instead of all cores"] = epoch_seconds(mnist, build_model("model2"), batches, batch, cpu)
    torch.set_num_threads(threads)
    return variants


def cuda_variants(mnist, batches: int, device: torch.device, say: Printout) -> dict[str, float]:
    batch = recipe_for("model2").batch_size

    def timed(**options) -> float:
        try:
            return epoch_seconds(mnist, build_model("model2"), batches, batch, device, **options)
        except Exception as e:  # a variant that fails here (torch.compile, say) is reported, not fatal
            say(f"  {options} failed: {str(e).strip().splitlines()[0] if str(e).strip() else type(e).__name__}")
            return float("nan")

    variants = {f"s6 default (batch {batch}, float32, eager)": timed()}
    variants["channels_last memory format"] = timed(channels_last=True)
    variants["bfloat16 autocast"] = timed(bf16=True)
    variants["torch.compile"] = timed(compile=True)
    variants["torch.compile + bfloat16 autocast"] = timed(compile=True, bf16=True)
    torch.backends.cudnn.benchmark = True
    variants["cuDNN autotuning (cudnn.benchmark)"] = timed()
    torch.backends.cudnn.benchmark = False
    return variants


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data-dir", default=None, help="MNIST root (default: $S6_DATA_DIR, else ./data)")
    parser.add_argument("--batches", type=int, default=150, help="timed training batches per variant")
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
    base = next(iter(variants.values()))
    for name, seconds in variants.items():
        say(f"  {name:<52} {seconds:6.2f} s   x{base / seconds:.2f} speed vs default")

    say("evaluation, seconds per 10k-image test pass (inference_mode):")
    model = build_model("model2").to(device)
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
