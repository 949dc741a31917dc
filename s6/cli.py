"""Command line: ``python -m s6 {train,summary,sheet,backprop-figures}``; ``--help`` on each."""

from __future__ import annotations

import argparse
import platform
import sys
from pathlib import Path

import torch

from s6 import S6Error, __version__
from s6.models import MODELS


class Parser(argparse.ArgumentParser):
    """argparse that reports a bad argument as one line, without the usage block."""

    def error(self, message: str) -> None:  # type: ignore[override]
        self.exit(2, f"{self.prog}: error: {message} (see --help)\n")


def positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number, got {text!r}") from None
    if value <= 0:
        raise argparse.ArgumentTypeError(f"must be at least 1, got {value}")
    return value


def resolve_device(name: str | None) -> torch.device:
    """``cuda`` or ``cpu``; None picks CUDA when there is one."""
    if name is None:
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if name == "cuda" and not torch.cuda.is_available():
        raise S6Error("--device cuda: no CUDA GPU is available here; use --device cpu")
    return torch.device(name)


def describe_device(device: torch.device) -> str:
    """A human name for the hardware, stored in metrics.json and printed in tables."""
    if device.type == "cuda":
        return f"cuda: {torch.cuda.get_device_name(device)}"
    cpu = platform.processor() or platform.machine()
    try:
        with open("/proc/cpuinfo") as f:
            cpu = next(line.split(":", 1)[1].strip() for line in f if line.startswith("model name"))
    except (OSError, StopIteration):
        pass
    return f"cpu: {cpu}, {torch.get_num_threads()} threads"


def cmd_train(args: argparse.Namespace) -> None:
    from s6.checkpoint import save_json, save_torch
    from s6.data import load_mnist, resolve_data_dir, tensor_loaders, torchvision_loaders
    from s6.models import build_model, count_parameters, recipe_for
    from s6.plots import plot_history
    from s6.train import fit, format_epoch

    recipe = recipe_for(args.model)
    device = resolve_device(args.device)
    root = resolve_data_dir(args.data_dir)
    out = Path(args.out or Path("runs") / args.model)
    epochs = args.epochs or recipe.epochs

    if args.loader == "tensor":
        train_loader, test_loader = tensor_loaders(
            load_mnist(root), recipe.batch_size, recipe.augment, device, args.seed, args.train_subset
        )
    else:
        train_loader, test_loader = torchvision_loaders(
            root, recipe.batch_size, recipe.augment, args.seed, args.train_subset
        )
    torch.manual_seed(args.seed)
    model = build_model(args.model)
    metrics = {
        "model": args.model,
        "params": count_parameters(model),
        "seed": args.seed,
        "device": describe_device(device),
        "epochs": [],
    }
    print(f"training {args.model} ({metrics['params']:,} parameters) for {epochs} epochs "
          f"on {metrics['device']}, seed {args.seed}; writing to {out}/")

    def on_epoch(record: dict) -> None:
        metrics["epochs"].append(record)
        save_json(out / "metrics.json", metrics)
        save_torch(out / "model.pt", {"model": args.model, "state_dict": model.state_dict(), "version": __version__})
        print(format_epoch(record), flush=True)

    history = fit(model, recipe, train_loader, test_loader, device, epochs, progress=not args.quiet, on_epoch=on_epoch)
    plot_history(history, f"{args.model}, seed {args.seed}").savefig(out / "curves.png", dpi=100)
    print(f"final test accuracy {history[-1]['test_acc']:.2f}% after {epochs} epochs; "
          f"wrote {out / 'metrics.json'}, {out / 'curves.png'}, {out / 'model.pt'}")


def cmd_summary(args: argparse.Namespace) -> None:
    from s6.models import build_model
    from s6.summary import describe

    print(describe(build_model(args.model)))


def input_setting(text: str) -> tuple[str, float]:
    """``NAME=VALUE`` for one of the workbook's inputs, e.g. ``t1=0.01``."""
    from s6.workbook import inputs_cells

    name, _, value = text.partition("=")
    if name not in inputs_cells():
        names = ", ".join(inputs_cells())
        raise argparse.ArgumentTypeError(f"expected NAME=VALUE with NAME one of {names}, got {text!r}")
    try:
        number = float(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{name} must be a number, got {value!r}") from None
    if number != number or number in (float("inf"), float("-inf")):
        raise argparse.ArgumentTypeError(f"{name} must be a finite number, got {value!r}")
    return name, number


def cmd_sheet(args: argparse.Namespace) -> None:
    from dataclasses import replace

    from s6.backprop import WEIGHTS, Inputs
    from s6.workbook import write_workbook

    settings = dict(args.set)
    inputs = Inputs()
    weights = tuple(settings.pop(w, default) for w, default in zip(WEIGHTS, inputs.w))
    inputs = replace(inputs, w=weights, **settings)
    if Path(args.out).is_dir():
        raise S6Error(f"--out {args.out} is a directory; give a file name such as {args.out}/book.xlsx")
    path = write_workbook(args.out, inputs, args.iterations)
    print(f"wrote {path}: {args.iterations} iterations for each learning rate")


def cmd_backprop_figures(args: argparse.Namespace) -> None:
    from s6.backprop_figures import write_backprop_figures

    for path in write_backprop_figures(args.out_dir):
        print(f"wrote {path}")


def build_parser() -> Parser:
    parser = Parser(prog="python -m s6", description=__doc__)
    parser.add_argument("--version", action="version", version=f"s6 {__version__}")
    commands = parser.add_subparsers(dest="command", required=True, parser_class=Parser)
    defaults = argparse.ArgumentDefaultsHelpFormatter

    train = commands.add_parser("train", help="train a model on MNIST", formatter_class=defaults)
    train.add_argument("--model", default="model2", choices=list(MODELS), help="which model")
    train.add_argument("--epochs", type=positive_int, help="epochs (default: the model's recipe)")
    train.add_argument("--seed", type=int, default=1, help="seed for weights, shuffling, augmentation, dropout")
    train.add_argument("--data-dir", help="MNIST root (default: $S6_DATA_DIR, else ./data)")
    train.add_argument("--out", help="output directory (default: runs/MODEL)")
    train.add_argument("--train-subset", type=positive_int, help="train on the first N images only")
    train.add_argument("--device", choices=["cpu", "cuda"], help="default: cuda if available, else cpu")
    train.add_argument("--loader", choices=["tensor", "torchvision"], default="tensor",
                       help="tensor: data held on the device; torchvision: DataLoader + PIL transforms")
    train.add_argument("--quiet", action="store_true", help="no progress bars, one line per epoch")
    train.set_defaults(run=cmd_train)

    summary = commands.add_parser("summary", help="layer table, receptive field and parameter count",
                                  formatter_class=defaults)
    summary.add_argument("--model", default="model2", choices=list(MODELS), help="which model")
    summary.set_defaults(run=cmd_summary)

    sheet = commands.add_parser("sheet", help="write the Part 1 backpropagation workbook", formatter_class=defaults)
    sheet.add_argument("--out", default="asgmt_backpropagation.xlsx", help="where to write the .xlsx")
    sheet.add_argument("--iterations", type=positive_int, default=100, help="gradient-descent rows per learning rate")
    sheet.add_argument("--set", type=input_setting, action="append", default=[], metavar="NAME=VALUE",
                       help="change a default input or starting weight, e.g. --set t1=0.01 (repeatable)")
    sheet.set_defaults(run=cmd_sheet)

    figures = commands.add_parser("backprop-figures", help="render Part 1's images", formatter_class=defaults)
    figures.add_argument("--out-dir", default="images", help="folder for the PNGs")
    figures.set_defaults(run=cmd_backprop_figures)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        args.run(args)
    except S6Error as e:
        print(f"error: {e}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    return 0
