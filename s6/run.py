"""One training run end to end: data, model, fixed schedule, metrics.json, checkpoint, curves.

The CLI, the notebook and the benchmarks all train through ``train_run``. After every epoch
it writes OUT/metrics.json and OUT/checkpoint.pt atomically; the checkpoint holds the whole
plan and every optimiser, scheduler and random state, so ``resume=OUT`` continues the same
schedule and ends with exactly the metrics of an uninterrupted run (same device).
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path

import torch
from torch import nn

from s6 import S6Error, TrainingInterrupted, plural
from s6.batches import tensor_loaders, torchvision_loaders
from s6.checkpoint import checkpoint_file, load_checkpoint, restore_run, save_run
from s6.device import describe_device, resolve_device
from s6.files import save_json, writable_dir
from s6.folder import claimed, default_out, refuse_a_live_run, refuse_to_replace, resume_command
from s6.mnist import MNISTTensors, load_mnist, resolve_data_dir
from s6.models import Net, build_model, count_parameters
from s6.plan import Plan, new_plan, plan_from
from s6.provenance import provenance
from s6.recipe import Recipe, clean_tail
from s6.registry import display_name, recipe_for
from s6.spec import Spec
from s6.train import check_steps, fit, format_epoch, held_out_of, make_optimizer

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


def train_run(
    model_name: str | None = None,
    seed: int | None = None,
    epochs: int | None = None,
    data_dir: str | os.PathLike | None = None,
    out: str | os.PathLike | None = None,
    train_subset: int | None = None,
    device: str | None = None,
    loader: str | None = None,
    progress: bool = True,
    log: Callable[[str], None] = print,
    mnist: MNISTTensors | None = None,
    stop_after: int | None = None,
    resume: str | os.PathLike | None = None,
    overwrite: bool = False,
    validation: int | None = None,
    spec: Spec | None = None,
    recipe: Recipe | None = None,
) -> RunResult:
    """Train on a model's fixed schedule; write OUT/metrics.json, checkpoint.pt and curves.png.

    Defaults: model2, seed 1, the recipe's epochs, OUT = ``default_out(plan)`` (or the resumed folder).
    ``resume=DIR`` continues DIR/checkpoint.pt; ``mnist`` reuses tensors already loaded. A new run into a
    folder that already holds one is refused unless ``overwrite``. ``validation=N`` trains on all but the last N
    training images and evaluates on those N instead of the test set (for choosing a design; s6.batches).
    """
    # 1. The plan: what this call will do, checked in full before anything slow happens.
    requested = {"model": model_name, "seed": seed, "epochs": epochs, "train_subset": train_subset, "loader": loader,
                 "validation": validation}
    checkpoint = load_checkpoint(resume) if resume is not None else None
    if checkpoint is not None:
        plan, source = plan_from(checkpoint, requested), checkpoint_file(resume)
        out, done = Path(out or source.parent), len(checkpoint["metrics"]["epochs"])
    else:
        plan = new_plan(requested)
        out, done = Path(out or default_out(plan)), 0
    if stop_after is not None and not done < stop_after <= plan.epochs:
        raise S6Error(f"--stop-after {stop_after} is outside this run: it plans {plural(plan.epochs, 'epoch')}"
                      + (f" and has done {done}" if done else ""))
    if out.exists() and not out.is_dir():
        raise S6Error(f"--out {out} exists and is not a directory")
    dev, root = resolve_device(device), resolve_data_dir(data_dir)
    command = resume_command(out, root, device)
    if checkpoint is not None and done >= plan.epochs:  # nothing left to train: say so, rewrite nothing
        model = build_model(plan.model)
        model.load_state_dict(checkpoint["state_dict"])
        last = checkpoint["metrics"]["epochs"][-1]
        log(f"{source} is a finished run: {done} of {plural(plan.epochs, 'epoch')}, "
            f"final {HELD_OUT[held_out_of(last)]} accuracy {last[held_out_of(last) + '_acc']:.2f}%; nothing to train")
        return RunResult(model, checkpoint["metrics"], plan, out, 0, command)

    # 2. The data, then the output folder: both are checked before the first epoch's minutes of training. A run
    # already in that folder is reported last, so a mistyped --data-dir or --device is named before it is.
    recipe = recipe or recipe_for(plan.model)
    train_loader, test_loader = _loaders(plan, recipe, dev, root, mnist)
    check_steps(recipe, len(train_loader), plan.epochs)
    refuse_a_live_run(out)
    if checkpoint is None and not overwrite:
        refuse_to_replace(out, plan)
    writable_dir(out, "--out")

    with claimed(out):  # one run at a time in a folder: a second would interleave its epochs with ours
        # 3. Model and optimiser; a resumed run gets back its weights and every random state.
        torch.manual_seed(plan.seed)  # the weights' initialisation, and Dropout's masks
        model = (build_model(plan.model) if spec is None else Net(spec)).to(dev)
        optimizer, scheduler = make_optimizer(model, recipe, len(train_loader), plan.epochs)
        metrics = {"model": plan.model, "params": count_parameters(model), "seed": plan.seed,
                   "validation": plan.validation, "device": describe_device(dev), **provenance(recipe), "epochs": []}
        if checkpoint is not None:
            restore_run(checkpoint, model, optimizer, scheduler, train_loader.generator, dev)
            metrics["epochs"] = checkpoint["metrics"]["epochs"]
            log(f"resuming {plan.model} from epoch {done} of {plan.epochs} ({source}); writing to {out}/")
        else:
            log(f"training {plan.model} ({metrics['params']:,} parameters) for {plural(plan.epochs, 'epoch')} "
                f"on {metrics['device']}, seed {plan.seed}; writing to {out}/")
        log(f"lr: the learning rate at the start of the epoch (one-cycle schedule); train: {batches(recipe)}; "
            f"{held_out_legend(plan)}, after it")

        # 4. Fit, saving after every epoch, so an interruption or a crash loses at most the epoch under way.
        saved = done  # epochs safely in OUT/checkpoint.pt

        def on_epoch(history: list[dict]) -> None:
            nonlocal saved
            metrics["epochs"] = history
            try:
                save_run(out / "checkpoint.pt", asdict(plan), metrics, model, optimizer, scheduler,
                         train_loader.generator, dev)
                save_json(out / "metrics.json", metrics)
            except OSError as e:
                raise S6Error(f"cannot save {out}/checkpoint.pt: {e.strerror or e}") from None
            saved = len(history)
            log(format_epoch(history[-1]))

        try:
            history = fit(model, optimizer, scheduler, train_loader, test_loader, dev, plan.epochs,
                          history=metrics["epochs"], stop_after=stop_after, progress=progress, on_epoch=on_epoch,
                          held_out="val" if plan.validation else "test", clean_epochs=recipe.clean_epochs)
        except KeyboardInterrupt:
            raise TrainingInterrupted(
                f"interrupted; {saved} of {plural(plan.epochs, 'epoch')} saved in {out}/checkpoint.pt. "
                f"Continue with: {command}"
                if saved else "interrupted before the first epoch ended; nothing was saved"
            ) from None
        except S6Error as e:
            if saved:
                raise S6Error(f"{e}; epoch {saved} is kept in {out}/checkpoint.pt") from None
            raise

        # 5. The curves, once the schedule is complete.
        if len(history) == plan.epochs:
            from s6.plots import plot_history  # matplotlib only when there is something to draw

            plot_history(history, f"{display_name(plan.model)}, seed {plan.seed}").savefig(out / "curves.png", dpi=100)
        return RunResult(model, metrics, plan, out, len(history) - done, command)
