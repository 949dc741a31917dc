"""Command line: ``python -m s6 {train,summary,predict,sheet,backprop-figures}``; ``--help`` on each."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from s6 import S6Error, TrainingInterrupted, __version__
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


def cmd_train(args: argparse.Namespace) -> None:
    from s6.run import train_run

    result = train_run(
        args.model, seed=args.seed, epochs=args.epochs, data_dir=args.data_dir, out=args.out,
        train_subset=args.train_subset, device=args.device, loader=args.loader, progress=not args.quiet,
        stop_after=args.stop_after, resume=args.resume,
    )
    done = len(result.metrics["epochs"])
    if done < result.plan["epochs"]:
        print(f"stopped after epoch {done} of {result.plan['epochs']}; "
              f"continue with: python -m s6 train --resume {result.out}")
    else:
        print(f"final test accuracy {result.final_test_acc:.2f}% after {done} epochs; "
              f"wrote metrics.json, checkpoint.pt and curves.png to {result.out}/")


def cmd_summary(args: argparse.Namespace) -> None:
    from s6.models import build_model
    from s6.summary import describe

    print(describe(build_model(args.model)))


DEFAULT_CHECKPOINT = "runs/model2/checkpoint.pt"


def cmd_predict(args: argparse.Namespace) -> None:
    import torch

    from s6.predict import classify, format_prediction, load_classifier, load_image, to_mnist

    if args.checkpoint is None and not Path(DEFAULT_CHECKPOINT).exists():
        raise S6Error(f"no checkpoint at {DEFAULT_CHECKPOINT}: train one with 'python -m s6 train', "
                      "or pass --checkpoint (e.g. results/model2/seed1/checkpoint.pt)")
    model, checkpoint = load_classifier(args.checkpoint or DEFAULT_CHECKPOINT)
    digits = torch.stack([to_mnist(load_image(path), path) for path in args.images])
    norm = checkpoint["normalisation"]
    for path, probabilities in zip(args.images, classify(model, digits, norm["mean"], norm["std"])):
        print(format_prediction(path, probabilities, args.top))


def top_k(text: str) -> int:
    value = positive_int(text)
    if value > 10:
        raise argparse.ArgumentTypeError(f"there are only 10 digits, got {value}")
    return value


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
    train.add_argument("--model", choices=list(MODELS), help="which model (default: model2)")
    train.add_argument("--epochs", type=positive_int, help="epochs (default: the model's recipe)")
    train.add_argument("--seed", type=int, help="seed for weights, shuffling, augmentation, dropout (default: 1)")
    train.add_argument("--data-dir", help="MNIST root (default: $S6_DATA_DIR, else ./data)")
    train.add_argument("--out", help="output directory (default: runs/MODEL)")
    train.add_argument("--train-subset", type=positive_int, help="train on the first N images only")
    train.add_argument("--device", choices=["cpu", "cuda"], help="default: cuda if available, else cpu")
    train.add_argument("--loader", choices=["tensor", "torchvision"],
                       help="tensor (default): data held on the device; torchvision: DataLoader + PIL transforms")
    train.add_argument("--resume", metavar="DIR", help="continue the run saved in DIR/checkpoint.pt")
    train.add_argument("--stop-after", type=positive_int, metavar="K",
                       help="stop cleanly after epoch K of the schedule, as if interrupted")
    train.add_argument("--quiet", action="store_true", help="no progress bars, one line per epoch")
    train.set_defaults(run=cmd_train)

    summary = commands.add_parser("summary", help="layer table, receptive field and parameter count",
                                  formatter_class=defaults)
    summary.add_argument("--model", default="model2", choices=list(MODELS), help="which model")
    summary.set_defaults(run=cmd_summary)

    predict = commands.add_parser("predict", help="classify your own digit images (PNG/JPEG)",
                                  formatter_class=defaults)
    predict.add_argument("images", nargs="+", metavar="IMAGE", help="image files, any size, either polarity")
    predict.add_argument("--checkpoint", help=f"a checkpoint.pt or its run folder (default: {DEFAULT_CHECKPOINT})")
    predict.add_argument("--top", type=top_k, default=1, help="how many guesses to show per image")
    predict.set_defaults(run=cmd_predict)

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
        return 130 if isinstance(e, TrainingInterrupted) else 1
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    return 0
