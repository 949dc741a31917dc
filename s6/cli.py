"""s6 (or python -m s6): Part 1, backpropagation by hand (sheet, backprop-figures); Part 2, the MNIST CNN (train,
summary, predict, demo). --help on each command."""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Callable
from pathlib import Path

from s6 import S6Error, TrainingInterrupted, __version__, atomic_write_bytes, plural, writable_dir, writable_file
from s6.backprop import ITERATIONS, MAX_ITERATIONS, WORKBOOK
from s6.inference.shipped import DEFAULT_HELP
from s6.models.registry import DEFAULT_MODEL, REGISTRY


class DefaultsFormatter(argparse.HelpFormatter):
    """Appends ``(default: X)`` to an option's help once, and only when there is a default worth showing."""

    def _get_help_string(self, action: argparse.Action) -> str:
        text = action.help or ""
        if "default" in text or action.default in (None, False, [], argparse.SUPPRESS) or not action.option_strings:
            return text
        return f"{text} (default: %(default)s)"


class Parser(argparse.ArgumentParser):
    """argparse that reports a bad argument as one line, without the usage block."""

    def error(self, message: str) -> None:  # type: ignore[override]
        self.exit(2, f"{self.prog}: error: {message} (see --help)\n")


def whole_number(text: str) -> int:
    try:
        return int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number, got {text!r}") from None


def non_empty(expected: str) -> Callable[[str], str]:
    """An argparse type refusing an empty value (e.g. --out "$UNSET_VARIABLE"). Read as given, "" would mean the
    default or the current folder (Gradio serves an empty --host on 127.0.0.1): not what the user named."""
    def check(text: str) -> str:
        if not text.strip():
            raise argparse.ArgumentTypeError(f"expected {expected}, got an empty string")
        return text
    return check


path_text = non_empty("a path")
host_name = non_empty("an address such as 127.0.0.1 or 0.0.0.0")


def positive_int(text: str) -> int:
    value = whole_number(text)
    if value <= 0:
        raise argparse.ArgumentTypeError(f"must be at least 1, got {value}")
    return value


def seed_number(text: str) -> int:
    """A seed torch's generators take: 0 to 2**64 - 1. A negative one is refused, not silently remapped: it is
    usually meant as "random", which s6 does not have (every run is reproducible from its seed)."""
    value = whole_number(text)
    if not 0 <= value < 2**64:
        raise argparse.ArgumentTypeError(f"must be from 0 to 2**64 - 1 (there is no random seed), got {value}")
    return value


def cmd_train(args: argparse.Namespace) -> None:
    from s6.training.run import new_plan, resumed, train_run
    from s6.training.train import SPLIT_NAMES

    settings = {"model": args.model, "seed": args.seed, "epochs": args.epochs, "train_subset": args.train_subset,
                "loader": args.loader, "validation": args.validation}
    plan = resumed(args.resume, **settings) if args.resume else new_plan(**settings)
    result = train_run(
        plan, out=args.out, data_dir=args.data_dir, device=args.device, overwrite=args.overwrite,
        stop_after=args.stop_after,
        progress=not args.quiet and sys.stderr.isatty(),  # bar frames are for eyes: a log file gets epoch lines
    )
    done = len(result.metrics["epochs"])
    if result.trained == 0:
        return  # a finished run, resumed: train_run said so, and nothing was written
    if done < result.plan.epochs:
        print(f"stopped after epoch {done} of {result.plan.epochs}; continue with: {result.resume_command}")
    else:
        print(f"final {SPLIT_NAMES[result.split]} accuracy {result.final_accuracy:.2f}% after {plural(done, 'epoch')}; "
              f"wrote metrics.json, checkpoint.pt and curves.png to {result.out}/")


def cmd_summary(args: argparse.Namespace) -> None:
    from s6.models.registry import build_model, recipe_for
    from s6.models.summary import describe, describe_recipe

    print(describe(build_model(args.model)))
    print(describe_recipe(recipe_for(args.model)))


def cmd_predict(args: argparse.Namespace) -> int:
    from s6.inference.ink import load_image
    from s6.inference.predict import Classifier, format_prediction

    classifier = Classifier(args.checkpoint)
    failed, said_which = 0, False
    for image in args.images:  # one line each: a result on stdout, or an error on stderr; the rest still run
        try:
            probabilities, _ = classifier(load_image(image), image)  # a row per digit, left to right
        except S6Error as e:
            print(f"error: {e}", file=sys.stderr)
            failed += 1
            continue
        if not said_which:  # which weights, before the first result: one mistake alone is one line
            print(f"using {classifier.describe()}", file=sys.stderr)
            said_which = True
        print(format_prediction(image, probabilities, args.top))
    return 1 if failed else 0


def cmd_demo(args: argparse.Namespace) -> None:
    from s6.inference.demo import serve

    serve(args.checkpoint, args.host, args.port, args.share)


def port_number(text: str) -> int:
    value = positive_int(text)
    if value > 65535:
        raise argparse.ArgumentTypeError(f"a port is 1 to 65535, got {value}")
    return value


def top_k(text: str) -> int:
    value = positive_int(text)
    if value > 10:
        raise argparse.ArgumentTypeError(f"there are only 10 digits, got {value}")
    return value


def iterations(text: str) -> int:
    value = positive_int(text)
    if value > MAX_ITERATIONS:
        raise argparse.ArgumentTypeError(f"at most {MAX_ITERATIONS} (each is a row of 32 formulas on 6 sheets), "
                                         f"got {value}")
    return value


def input_setting(text: str) -> tuple[str, float]:
    """``NAME=VALUE`` for one of the workbook's inputs, e.g. ``t1=0.01``."""
    from s6.backprop.workbook import inputs_cells

    name, equals, value = text.partition("=")
    if not equals:
        raise argparse.ArgumentTypeError(f"expected NAME=VALUE, e.g. t1=0.01, got {text!r}")
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

    from s6.backprop.network import WEIGHTS, Inputs
    from s6.backprop.workbook import workbook_bytes

    out = Path(args.out or workbook_name(args.set, args.iterations))
    if out.suffix.lower() != ".xlsx":  # Excel and LibreOffice go by the name: book.txt would open as garbage
        raise S6Error(f"--out {out}: the workbook is an Excel file; give a name ending in .xlsx, "
                      f"e.g. {out.with_suffix('.xlsx')}")
    settings = dict(args.set)
    inputs = Inputs()
    weights = tuple(settings.pop(w, default) for w, default in zip(WEIGHTS, inputs.w))
    inputs = replace(inputs, w=weights, **settings)
    path = writable_file(out, "--out")
    data = workbook_bytes(inputs, args.iterations)
    if path.is_file() and path.read_bytes() != data and not args.overwrite:  # a student's own edits stay
        raise S6Error(f"{path} differs from what sheet writes (edited, or written by another openpyxl); keep it "
                      "and write another with --out NEW.xlsx, or replace it with --overwrite")
    atomic_write_bytes(path, data)
    print(f"wrote {path}: {plural(args.iterations, 'iteration')} for each learning rate")


def workbook_name(settings: list[tuple[str, float]], iterations: int) -> str:
    """The committed workbook's name for its own inputs; a name of its own for other inputs or another length
    (asgmt_backpropagation-t1=0.01.xlsx), so trying an input never overwrites the committed file."""
    changes = [f"{name}={value:g}" for name, value in settings]
    changes += [f"{iterations}iterations"] if iterations != ITERATIONS else []
    return "-".join([WORKBOOK.removesuffix(".xlsx"), *changes]) + ".xlsx"


def cmd_backprop_figures(args: argparse.Namespace) -> None:
    from s6.backprop.figures import write_backprop_figures

    for path in write_backprop_figures(writable_dir(args.out_dir, "--out-dir")):
        print(f"wrote {path}")


def build_parser() -> Parser:
    prog = "s6" if Path(sys.argv[0]).name == "s6" else "python -m s6"  # as the user typed it
    parser = Parser(prog=prog, description=__doc__)
    parser.add_argument("--version", action="version", version=f"s6 {__version__}")
    commands = parser.add_subparsers(dest="command", required=True, parser_class=Parser)
    defaults = DefaultsFormatter

    train = commands.add_parser("train", help="train a model on MNIST", formatter_class=defaults)
    train.add_argument("--model", choices=list(REGISTRY), help=f"which model (default: {DEFAULT_MODEL})")
    train.add_argument("--epochs", type=positive_int, help="epochs (default: the model's recipe)")
    train.add_argument("--seed", type=seed_number,
                       help="seed for weights, shuffling, augmentation, dropout (default: 1)")
    train.add_argument("--data-dir", type=path_text, help="MNIST root (default: $S6_DATA_DIR, else ./data)")
    train.add_argument("--out", type=path_text,
                       help="output directory (default: runs/MODEL; a run with other epochs or a subset gets its own, "
                       "e.g. runs/model2-epochs1-subset2000)")
    train.add_argument("--train-subset", type=positive_int, help="train on the first N images only")
    train.add_argument("--validation", type=positive_int, metavar="N",
                       help="hold out the last N training images, evaluate on them and never read the test set "
                       "(how a design is chosen; e.g. 10000)")
    train.add_argument("--device", choices=["cpu", "cuda"], help="default: cuda if available, else cpu")
    train.add_argument("--loader", choices=["tensor", "torchvision"],
                       help="tensor (default): data held on the device; torchvision: DataLoader + PIL transforms")
    train.add_argument("--resume", type=path_text, metavar="DIR", help="continue the run saved in DIR/checkpoint.pt")
    train.add_argument("--overwrite", action="store_true",
                       help="replace a run already in the output folder (otherwise it is kept and training refused)")
    train.add_argument("--stop-after", type=positive_int, metavar="K",
                       help="stop cleanly after epoch K of the schedule, as if interrupted")
    train.add_argument("--quiet", action="store_true",
                       help="no progress bars, one line per epoch (bars show only on a terminal anyway)")
    train.set_defaults(run=cmd_train)

    summary = commands.add_parser("summary", help="layer table, receptive field, parameter count and recipe",
                                  formatter_class=defaults)
    summary.add_argument("--model", default=DEFAULT_MODEL, choices=list(REGISTRY), help="which model")
    summary.set_defaults(run=cmd_summary)

    predict = commands.add_parser("predict", help="classify your own digit images (PNG/JPEG)",
                                  formatter_class=defaults)
    predict.add_argument("images", nargs="+", type=path_text, metavar="IMAGE",
                         help="image files, any size, either polarity")
    predict.add_argument("--checkpoint", type=path_text, help=f"a checkpoint.pt or its run folder ({DEFAULT_HELP})")
    predict.add_argument("--top", type=top_k, default=1, help="how many guesses to show per image")
    predict.set_defaults(run=cmd_predict)

    demo = commands.add_parser("demo", help="draw a digit in your browser and see what the model reads "
                               "(needs the demo extra: pip install -e '.[demo]')", formatter_class=defaults)
    demo.add_argument("--checkpoint", type=path_text, help=f"a checkpoint.pt or its run folder ({DEFAULT_HELP})")
    demo.add_argument("--host", type=host_name, default="127.0.0.1",
                      help="address to serve on; 0.0.0.0 opens the page to your whole network")
    demo.add_argument("--port", type=port_number, default=7860, help="port to serve on")
    demo.add_argument("--share", action="store_true", help="also make a temporary public link through Gradio")
    demo.set_defaults(run=cmd_demo)

    sheet = commands.add_parser("sheet", help="write the Part 1 backpropagation workbook", formatter_class=defaults)
    sheet.add_argument("--out", type=path_text,
                       help="where to write the .xlsx (default: asgmt_backpropagation.xlsx, or a name that says what "
                       "--set and --iterations changed, e.g. asgmt_backpropagation-t1=0.01.xlsx)")
    sheet.add_argument("--overwrite", action="store_true",
                       help="replace a workbook that differs from what sheet writes (otherwise it is kept)")
    sheet.add_argument("--iterations", type=iterations, default=ITERATIONS,
                       help=f"gradient-descent rows per learning rate, 1 to {MAX_ITERATIONS}")
    sheet.add_argument("--set", type=input_setting, action="append", default=[], metavar="NAME=VALUE",
                       help="change a default input or starting weight, e.g. --set t1=0.01 (repeatable)")
    sheet.set_defaults(run=cmd_sheet)

    figures = commands.add_parser("backprop-figures", help="render Part 1's images", formatter_class=defaults)
    figures.add_argument("--out-dir", type=path_text, default="images", help="folder for the PNGs")
    figures.set_defaults(run=cmd_backprop_figures)
    return parser


def _stdout_to_devnull() -> None:
    """Point stdout at /dev/null, so the interpreter's last flush at exit has nothing left to fail on."""
    os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        code = args.run(args) or 0
        sys.stdout.flush()  # a closed pipe or a full disk shows here, inside the try, not as a traceback at exit
        return code
    except BrokenPipeError:  # the reader stopped reading (| head): stop quietly, as Unix tools do
        _stdout_to_devnull()
        return 1
    except OSError as e:  # the output could not be written (> /dev/full), or a file the OS refused
        _stdout_to_devnull()
        where = f"{e.filename}:" if e.filename else "cannot write the output:"
        print(f"error: {where} {e.strerror or type(e).__name__}", file=sys.stderr)
        return 1
    except S6Error as e:
        print(f"error: {e}", file=sys.stderr)
        return 130 if isinstance(e, TrainingInterrupted) else 1
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    return 0


def run() -> None:
    """The command line's entry point (``s6`` and ``python -m s6``)."""
    exit_now(main())


def exit_now(code: int) -> None:
    """Flush the output and end the process without Python's teardown of the modules torch loads, which took
    0.6-1.5 s after every command (docs/speed.md). Safe because nothing is left to write: each file s6 writes is
    complete and renamed into place before ``main`` returns."""
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except (OSError, ValueError):  # a reader gone or a stream closed: main has already said what it could
            code = code or 1
    os._exit(code)
