"""One training run end to end: data, model, fixed schedule, metrics.json, checkpoint, curves.

The CLI, the notebook and the benchmarks all train through ``train_run``. After every epoch
it writes OUT/metrics.json and OUT/checkpoint.pt atomically; the checkpoint holds the whole
plan and the optimiser's and every random state, so ``resume=OUT`` continues the same
schedule and ends with exactly the metrics of an uninterrupted run (same device).
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from pathlib import Path

import torch
from torch import nn

from s6 import S6Error, TrainingInterrupted, plural
from s6.device import cpu_path, describe_device, resolve_device
from s6.files import save_json
from s6.models.recipe import Recipe, clean_tail
from s6.models.registry import build_model, display_name, recipe_for
from s6.models.summary import count_parameters
from s6.training.batches import tensor_loaders, torchvision_loaders
from s6.training.checkpoint import Resumed, restore_run, save_run
from s6.training.folder import check_out, claimed, default_out, resume_command
from s6.training.mnist import MNISTTensors, load_mnist, resolve_data_dir
from s6.training.plan import Plan
from s6.training.provenance import provenance
from s6.training.sgd import OneCycleSGD
from s6.training.train import check_steps, fit, format_epoch, held_out_of, make_optimizer

HELD_OUT = {"test": "test", "val": "validation"}  # a history's key prefix, in words


@dataclass
class RunResult:
    model: nn.Module
    metrics: dict  # the content of metrics.json
    plan: Plan
    out: Path  # the folder holding metrics.json, checkpoint.pt and curves.png
    trained: int  # epochs trained by this call: 0 when resuming a run that had already finished
    resume_command: str  # the command that continues this run, every option it needs included

    @property
    def final_test_acc(self) -> float:
        return self.metrics["epochs"][-1]["test_acc"]  # a KeyError for a validation run: it never saw the test set

    @property
    def held_out(self) -> str:
        """What the run was evaluated on: "test", or "val" (its validation split)."""
        return "val" if self.plan.validation else "test"

    @property
    def final_accuracy(self) -> float:
        """The last epoch's accuracy on what the run was evaluated on (``held_out``)."""
        return self.metrics["epochs"][-1][f"{self.held_out}_acc"]


def batches(recipe: Recipe) -> str:
    """What the training figures of the log were measured on, read after "train: "."""
    if recipe.augment is None:
        return "the training batches during the epoch"
    if recipe.clean_epochs:
        return f"the training batches during the epoch (augmented, except in {clean_tail(recipe)})"
    return "the augmented training batches during the epoch"


def held_out_legend(plan: Plan) -> str:
    """What the log's held-out figures were measured on."""
    if plan.validation:
        return f"val: the last {plan.validation:,} training images, held out from training (the test set is not read)"
    return "test: the 10,000 test digits"


def _loaders(plan: Plan, recipe: Recipe, device: torch.device, root: Path, mnist: MNISTTensors | None) -> tuple:
    """Training and test batches, as the plan's loader makes them."""
    if plan.loader == "tensor":
        return tensor_loaders(mnist or load_mnist(root), recipe.batch_size, recipe.augment, device, plan.seed,
                              plan.train_subset, validation=plan.validation)
    if plan.loader == "torchvision":
        return torchvision_loaders(root, recipe.batch_size, recipe.augment, plan.seed, plan.train_subset,
                                   validation=plan.validation)
    raise S6Error(f"unknown loader {plan.loader!r}; use tensor or torchvision")


def train_run(plan: Plan | Resumed, *, out: str | os.PathLike | None = None, data_dir: str | os.PathLike | None = None,
              device: str | None = None, overwrite: bool = False, stop_after: int | None = None, progress: bool = True,
              log: Callable[[str], None] = print, mnist: MNISTTensors | None = None,
              network: Callable[[], nn.Module] | None = None, recipe: Recipe | None = None) -> RunResult:
    """Train ``plan`` (s6.training.plan.new_plan) on its fixed schedule, or continue a saved run
    (s6.training.checkpoint.resumed); write OUT/metrics.json and checkpoint.pt after every epoch, and curves.png at
    the end.

    OUT is ``default_out(plan)``, or the resumed run's folder. A new run into a folder that already holds one is
    refused unless ``overwrite``. ``stop_after=N`` ends after epoch N, as an interruption would; ``mnist`` reuses
    tensors already loaded. For experiments (a benchmark's candidate, your own network): ``network`` builds
    the model instead of the registry's, ``recipe`` trains it instead of the model's own.
    """
    saved = plan if isinstance(plan, Resumed) else None
    plan, done = (saved.plan, saved.done) if saved else (plan, 0)
    out = Path(out or (saved.source.parent if saved else default_out(plan)))
    check_stop_after(stop_after, plan, done)
    if out.exists() and not out.is_dir():
        raise S6Error(f"--out {out} exists and is not a directory")
    dev, root = resolve_device(device), resolve_data_dir(data_dir)
    command = resume_command(out, root, device)
    if saved and done >= plan.epochs:  # nothing left to train: say so, rewrite nothing
        return finished_run(saved, out, command, log)

    # The data, then the output folder: both are checked before the first epoch's minutes of training. A run
    # already in that folder is reported last, so a mistyped --data-dir or --device is named before it is.
    recipe = recipe or recipe_for(plan.model)
    train_loader, test_loader = _loaders(plan, recipe, dev, root, mnist)
    check_steps(recipe, len(train_loader), plan.epochs)
    check_out(out, plan, replace=bool(saved) or overwrite)

    with claimed(out):  # one run at a time in a folder: a second would interleave its epochs with ours
        torch.manual_seed(plan.seed)  # the weights' initialisation, and Dropout's masks
        model = (network() if network else build_model(plan.model)).to(dev)
        optimizer = make_optimizer(model, recipe, len(train_loader), plan.epochs)
        metrics = {"model": plan.model, "params": count_parameters(model), "seed": plan.seed,
                   "validation": plan.validation, "device": describe_device(dev),
                   "cpu_path": cpu_path() if dev.type == "cpu" else None,  # which kernels: seeds end apart on two
                   **provenance(recipe), "epochs": []}
        if saved:  # its weights and every random state back, so it continues bit for bit
            restore_run(saved.checkpoint, model, optimizer, train_loader.generator, dev)
            metrics["epochs"] = saved.checkpoint["metrics"]["epochs"]
            log(f"resuming {plan.model} from epoch {done} of {plan.epochs} ({saved.source}); writing to {out}/")
        else:
            log(f"training {plan.model} ({metrics['params']:,} parameters) for {plural(plan.epochs, 'epoch')} "
                f"on {metrics['device']}, seed {plan.seed}; writing to {out}/")
        log(f"lr: the learning rate at the start of the epoch (one-cycle schedule); train: {batches(recipe)}; "
            f"{held_out_legend(plan)}, after it")
        saver = EpochSaver(out, plan, metrics, model, optimizer, train_loader.generator, dev, log)
        with saver.on_failure(command):
            history = fit(model, optimizer, train_loader, test_loader, dev, plan.epochs,
                          history=metrics["epochs"], stop_after=stop_after, progress=progress, on_epoch=saver,
                          held_out="val" if plan.validation else "test",
                          clean_epochs=recipe.clean_epochs)
        if len(history) == plan.epochs:  # the curves, once the schedule is complete
            from s6.training.curves import plot_history  # matplotlib only when there is something to draw

            plot_history(history, f"{display_name(plan.model)}, seed {plan.seed}").savefig(out / "curves.png", dpi=100)
        return RunResult(model, metrics, plan, out, len(history) - done, command)


def check_stop_after(stop_after: int | None, plan: Plan, done: int) -> None:
    """S6Error unless epoch ``stop_after`` lies between the epochs done and the plan's last."""
    if stop_after is not None and not done < stop_after <= plan.epochs:
        raise S6Error(f"--stop-after {stop_after} is outside this run: it plans {plural(plan.epochs, 'epoch')}"
                      + (f" and has done {done}" if done else ""))


def finished_run(saved: Resumed, out: Path, command: str, log: Callable[[str], None]) -> RunResult:
    """A resumed run that has no epoch left: its model and metrics as saved, and a line that says so."""
    model = build_model(saved.plan.model)
    model.load_state_dict(saved.checkpoint["state_dict"])
    last = saved.checkpoint["metrics"]["epochs"][-1]
    held_out = held_out_of(last)
    log(f"{saved.source} is a finished run: {saved.done} of {plural(saved.plan.epochs, 'epoch')}, "
        f"final {HELD_OUT[held_out]} accuracy {last[held_out + '_acc']:.2f}%; nothing to train")
    return RunResult(model, saved.checkpoint["metrics"], saved.plan, out, 0, command)


class EpochSaver:
    """Saves the run after every epoch (checkpoint.pt, then metrics.json, each atomically), so an interruption or
    a crash loses at most the epoch under way; ``on_failure`` says what was kept."""

    def __init__(self, out: Path, plan: Plan, metrics: dict, model: nn.Module, optimizer: OneCycleSGD,
                 generator: torch.Generator, device: torch.device, log: Callable[[str], None]) -> None:
        self.out, self.plan, self.metrics, self.log = out, plan, metrics, log
        self.state = (model, optimizer, generator, device)
        self.saved = len(metrics["epochs"])  # epochs safely in OUT/checkpoint.pt

    def __call__(self, history: list[dict]) -> None:
        self.metrics["epochs"] = history
        try:
            save_run(self.out / "checkpoint.pt", asdict(self.plan), self.metrics, *self.state)
            save_json(self.out / "metrics.json", self.metrics)
        except OSError as e:
            raise S6Error(f"cannot save {self.out}/checkpoint.pt: {e.strerror or e}") from None
        self.saved = len(history)
        self.log(format_epoch(history[-1]))

    @contextmanager
    def on_failure(self, command: str) -> Iterator[None]:
        """An interruption or an error, as one line that says how many epochs are kept and how to continue."""
        epochs = plural(self.plan.epochs, "epoch")
        try:
            yield
        except KeyboardInterrupt:
            raise TrainingInterrupted(
                f"interrupted; {self.saved} of {epochs} saved in {self.out}/checkpoint.pt. Continue with: {command}"
                if self.saved else "interrupted before the first epoch ended; nothing was saved"
            ) from None
        except S6Error as e:
            if self.saved:
                raise S6Error(f"{e}; epoch {self.saved} is kept in {self.out}/checkpoint.pt") from None
            raise
