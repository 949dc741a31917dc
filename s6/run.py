"""One training run end to end: data, model, fixed schedule, metrics.json, checkpoint, curves.

The CLI, the notebook and the benchmarks all train through ``train_run``. After every epoch
it writes OUT/metrics.json and OUT/checkpoint.pt atomically; the checkpoint holds the whole
plan and every optimiser, scheduler and random state, so ``resume=OUT`` continues the same
schedule and ends with exactly the metrics of an uninterrupted run (same device).
"""

from __future__ import annotations

import os
import shlex
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from pathlib import Path

import torch
from torch import nn

from s6 import S6Error, TrainingInterrupted, plural
from s6.checkpoint import checkpoint_file, load_checkpoint, restore_run, save_run
from s6.data import MNISTTensors, load_mnist, resolve_data_dir, tensor_loaders, torchvision_loaders
from s6.device import describe_device, resolve_device
from s6.files import save_json, writable_dir
from s6.models import Net, build_model, count_parameters
from s6.provenance import provenance
from s6.recipe import Recipe, clean_tail
from s6.registry import DEFAULT_MODEL, check_model_name, display_name, recipe_for
from s6.spec import Spec
from s6.train import fit, format_epoch, held_out_of, make_optimizer

TRAIN_IMAGES = 60000  # MNIST's training set
HELD_OUT = {"test": "test", "val": "validation"}  # a history's key prefix, in words


@dataclass(frozen=True)
class Plan:
    """What one run does, besides its model's recipe: saved in its checkpoint, so a resumed run does the same."""

    model: str  # a name in the registry (s6.registry), whose entry holds its spec and recipe
    seed: int  # seeds the weights, the shuffling, the augmentation and Dropout
    epochs: int  # passes over the training images: the recipe's, unless asked otherwise
    train_subset: int | None  # train on the first N of the 60,000 training images; None: all
    loader: str  # "tensor" (the data on the device) or "torchvision" (DataLoader and PIL transforms)
    validation: int | None = None  # hold out the last N training images and evaluate on them, not on the test set


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


def default_out(plan: Plan) -> Path:
    """runs/MODEL for a run of the model's own recipe; a shorter or smaller run gets a folder of its own.

    runs/MODEL/checkpoint.pt is what ``predict`` uses by default, so a one-epoch smoke test must
    never silently replace a full run there: it goes to, e.g., runs/model2-epochs1-subset2000.
    """
    name = plan.model
    if plan.epochs != recipe_for(plan.model).epochs:
        name += f"-epochs{plan.epochs}"
    if plan.train_subset is not None:
        name += f"-subset{plan.train_subset}"
    if plan.validation:
        name += f"-val{plan.validation}"
    return Path("runs") / name


def refuse_to_replace(out: Path, plan: Plan) -> None:
    """A new run never replaces the run already in ``out``: S6Error naming the ways on, before anything is written.

    runs/model2/ is what predict uses, and a results/ folder is a benchmark's record: replacing either silently,
    after minutes of training, is the one mistake a rerun of an old command must not make.
    """
    if not any((out / name).exists() for name in ("checkpoint.pt", "metrics.json")):
        return
    try:
        saved = load_checkpoint(out)
    except S6Error:
        raise S6Error(f"{out}/ already holds a run whose checkpoint cannot be read; train into another folder "
                      "with --out DIR, or replace it with --overwrite") from None
    done, planned = len(saved["metrics"]["epochs"]), saved["plan"]["epochs"]
    if done < planned and saved["plan"] == asdict(plan):
        raise S6Error(f"{out}/ already holds this run, stopped after epoch {done} of {planned}: continue it with "
                      f"--resume {out}, or start it again with --overwrite")
    model = saved["model"]
    what = f"a finished {model} run" if done >= planned else f"an unfinished {model} run of another plan"
    raise S6Error(f"{out}/ already holds {what} ({done} of {plural(planned, 'epoch')}): keep it and train into "
                  "another folder with --out DIR, or replace it with --overwrite")


LOCK = "training.pid"  # in the output folder while a run trains there: the process's id


def _live_pid(out: Path) -> int | None:
    """The process that holds ``out``'s lock, if it is still running; None if no lock or its process is gone."""
    try:
        pid = int((out / LOCK).read_text())
    except (OSError, ValueError):
        return None
    if os.name == "nt":
        return pid  # no harmless liveness check there (os.kill ends the process): the message says what to do
    try:
        os.kill(pid, 0)  # signal 0: only asks whether the process exists
    except ProcessLookupError:
        return None
    except PermissionError:
        pass  # it exists, as another user's process
    return pid


def refuse_a_live_run(out: Path) -> None:
    """S6Error if another ``train`` is writing into ``out`` now: its epochs and ours would overwrite each other."""
    pid = _live_pid(out)
    if pid is not None and pid != os.getpid():
        raise S6Error(f"{out}/ is being written by another training run now (process {pid}): let it finish, or "
                      f"train into another folder with --out DIR (if no run is training, delete {out / LOCK})")


@contextmanager
def claimed(out: Path) -> Iterator[None]:
    """Hold ``out``'s lock while training, and give it up however the run ends (a crash leaves a stale lock, whose
    process no longer exists, and the next run takes it over)."""
    lock = out / LOCK
    lock.write_text(str(os.getpid()))
    try:
        yield
    finally:
        lock.unlink(missing_ok=True)


def resume_command(out: Path, data_dir: Path, device: str | None) -> str:
    """``python -m s6 train --resume OUT`` plus the data folder and device this run used, ready to paste."""
    command = ["python -m s6 train --resume", shlex.quote(str(out))]
    if data_dir != Path("data"):  # not the default: the next run must be told
        command += ["--data-dir", shlex.quote(str(data_dir))]
    if device is not None:
        command += ["--device", device]
    return " ".join(command)


def _plan_from(checkpoint: dict, requested: dict) -> Plan:
    """The saved plan; any setting the caller asked for explicitly must agree with it."""
    plan = Plan(**checkpoint["plan"])
    for key, value in requested.items():
        if value is not None and value != getattr(plan, key):
            raise S6Error(f"--resume continues the saved plan ({key} = {getattr(plan, key)}); drop the {key} you "
                          f"gave ({value})")
    return plan


def new_plan(requested: dict) -> Plan:
    """What a fresh run will do: the requested settings, the model's recipe for the rest."""
    name = check_model_name(requested["model"] or DEFAULT_MODEL)
    plan = Plan(model=name, seed=1 if requested["seed"] is None else requested["seed"],
                epochs=requested["epochs"] or recipe_for(name).epochs,
                train_subset=requested["train_subset"], loader=requested["loader"] or "tensor",
                validation=requested.get("validation"))
    if plan.epochs <= 0:
        raise S6Error(f"epochs must be at least 1, got {plan.epochs}")
    if plan.validation is not None and not 0 < plan.validation < TRAIN_IMAGES:
        raise S6Error(f"--validation must be 1 to {TRAIN_IMAGES - 1:,} (of MNIST's {TRAIN_IMAGES:,} training images), "
                      f"got {plan.validation}")
    trainable = TRAIN_IMAGES - (plan.validation or 0)
    if plan.train_subset is not None and not 0 < plan.train_subset <= trainable:
        held = f" once --validation holds out {plan.validation:,}" if plan.validation else ""
        raise S6Error(f"--train-subset must be 1 to {trainable} (MNIST's training images{held}), "
                      f"got {plan.train_subset}")
    return plan


def batches(recipe: Recipe) -> str:
    """What the training figures of the log were measured on."""
    if recipe.augment is None:
        return "the training batches"
    if recipe.clean_epochs:
        return f"the training batches, augmented except in {clean_tail(recipe)}"
    return "the augmented training batches"


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
    training images and evaluates on those N instead of the test set (for choosing a design; s6.data).
    """
    # 1. The plan: what this call will do, checked in full before anything slow happens.
    requested = {"model": model_name, "seed": seed, "epochs": epochs, "train_subset": train_subset, "loader": loader,
                 "validation": validation}
    checkpoint = load_checkpoint(resume) if resume is not None else None
    if checkpoint is not None:
        plan, source = _plan_from(checkpoint, requested), checkpoint_file(resume)
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
        log(f"lr: the learning rate at the start of the epoch (one-cycle schedule); train: {batches(recipe)} during "
            f"the epoch; {held_out_legend(plan)}, after it")

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
