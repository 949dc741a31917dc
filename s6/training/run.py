"""One training run end to end: what it does (its plan), where it writes (its folder), and the run itself (data,
model, fixed schedule, metrics.json, checkpoint, curves).

The CLI, the notebook and the benchmarks all train through ``train_run``. After every epoch it writes
OUT/metrics.json and OUT/checkpoint.pt atomically; the checkpoint holds the whole plan and the optimiser's and every
random state, so a run continued with ``resumed(OUT)`` ends with exactly the metrics of an uninterrupted run (same
device). A folder holds one run: a new run never replaces the one there unless told to, and never trains beside
another process's run in it.
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

from s6 import S6Error, TrainingInterrupted, plural, save_json, writable_dir
from s6.device import cpu_path, describe_device, provenance, resolve_device
from s6.models.recipe import Recipe
from s6.models.registry import DEFAULT_MODEL, build_model, check_model_name, display_name, recipe_for
from s6.models.summary import clean_tail, count_parameters
from s6.training.checkpoint import checkpoint_file, load_checkpoint, restore_run, save_run
from s6.training.data import (
    TRAIN_IMAGES,
    MNISTTensors,
    augment_schedule,
    load_mnist,
    resolve_data_dir,
    tensor_loaders,
    torchvision_loaders,
)
from s6.training.train import SPLIT_NAMES, OneCycleSGD, average_of, check_steps, fit, scored_on, speed_up

# The plan: what one run does, besides its model's recipe. Checked in full before anything slow happens, and saved
# in the run's checkpoint so that a resumed run does the same.

@dataclass(frozen=True)
class Plan:
    """What one run does, besides its model's recipe: saved in its checkpoint, so a resumed run does the same."""

    model: str  # a name in the registry (s6.models.registry), whose entry names the file of its network and recipe
    seed: int  # seeds the weights, the shuffling, the augmentation and Dropout
    epochs: int  # passes over the training images: the recipe's, unless asked otherwise
    train_subset: int | None  # train on the first N of the 60,000 training images; None: all
    loader: str  # "tensor" (the data on the device) or "torchvision" (DataLoader and PIL transforms)
    validation: int | None = None  # hold out the last N training images and evaluate on them, not on the test set


def plan_from(stored: dict, requested: dict) -> Plan:
    """A checkpoint's plan; any setting the caller asked for explicitly must agree with it."""
    plan = Plan(**stored)
    for key, value in requested.items():
        if value is not None and value != getattr(plan, key):
            flag, saved = "--" + key.replace("_", "-"), getattr(plan, key)  # named as the user typed them
            had = f"{flag} {saved}" if saved is not None else f"no {flag}"
            raise S6Error(f"--resume continues the saved plan ({had}); drop the {flag} {value} you gave")
    return plan


def new_plan(model: str | None = None, seed: int | None = None, epochs: int | None = None,
             train_subset: int | None = None, loader: str | None = None, validation: int | None = None) -> Plan:
    """What a fresh run will do: the settings given, the default model and its recipe for the rest; S6Error for a
    setting no run can have."""
    name = check_model_name(model or DEFAULT_MODEL)
    plan = Plan(model=name, seed=1 if seed is None else seed, epochs=epochs or recipe_for(name).epochs,
                train_subset=train_subset, loader=loader or "tensor", validation=validation)
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


@dataclass(frozen=True)
class Resumed:
    """A plan to continue: the saved plan, and the checkpoint that holds the epochs done and every state."""

    plan: Plan
    checkpoint: dict
    source: Path  # the checkpoint file

    @property
    def done(self) -> int:
        return len(self.checkpoint["metrics"]["epochs"])


def resumed(path: str | os.PathLike, **requested: object) -> Resumed:
    """The run saved at ``path`` (its folder or its checkpoint.pt), to continue; a setting the caller gives
    explicitly (model=, seed=, ...; None: not given) must agree with the saved plan."""
    checkpoint = load_checkpoint(path)
    return Resumed(plan_from(checkpoint["plan"], requested), checkpoint, checkpoint_file(path))


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
    def split(self) -> str:
        """What the run was scored on: "test", or "val" (its validation split)."""
        return scored_on(self.plan.validation)

    @property
    def final_accuracy(self) -> float:
        """The last epoch's accuracy on what the run was scored on (``split``)."""
        return self.metrics["epochs"][-1][f"{self.split}_acc"]


def lr_legend(epochs: int, tail: int) -> str:
    """The learning rate's schedule, read after "lr: the learning rate at the start of the epoch (": a run of
    ``epochs`` whose last ``tail`` train at the one-cycle schedule's floor rate."""
    return f"one-cycle schedule, then its floor rate in {epoch_span(epochs - tail + 1, epochs)}" if tail else \
        "one-cycle schedule"


def epoch_span(first: int, last: int) -> str:
    """ "epoch 5" or "epochs 13-15": where the log's legends place part of a run."""
    return f"epoch {first}" if first == last else f"epochs {first}-{last}"


def train_legend(recipe: Recipe, epochs: int) -> str:
    """What the training figures of the log were measured on, read after "train: ", for a run of ``epochs``: which
    of its epochs are augmented, as its schedule has them (a run shorter than its recipe's clean tail has none)."""
    schedule = augment_schedule(recipe, epochs)
    clean = [epoch for epoch in range(1, epochs + 1) if schedule.of(epoch) is None]
    if recipe.augment is None:
        return "the training batches during the epoch"
    if not clean:
        return "the augmented training batches during the epoch"
    if len(clean) == epochs:
        return f"the training batches during the epoch (none augmented: its recipe keeps {clean_tail(recipe)} clean)"
    return f"the training batches during the epoch (augmented, except in {epoch_span(clean[0], clean[-1])})"


def scored_legend(plan: Plan) -> str:
    """What the log's scored figures were measured on."""
    if scored_on(plan.validation) == "val":
        return f"val: the last {plan.validation:,} training images, held out from training (the test set is not read)"
    return "test: the 10,000 test digits"


def _loaders(plan: Plan, recipe: Recipe, device: torch.device, root: Path, mnist: MNISTTensors | None) -> tuple:
    """Training and scoring batches, as the plan's loader makes them; the training batches jittered as the
    recipe schedules it over the plan's epochs."""
    jitter = augment_schedule(recipe, plan.epochs)
    if plan.loader == "tensor":
        return tensor_loaders(mnist or load_mnist(root), recipe.batch_size, jitter, device, plan.seed,
                              plan.train_subset, validation=plan.validation)
    if plan.loader == "torchvision":
        return torchvision_loaders(root, recipe.batch_size, jitter, plan.seed, plan.train_subset,
                                   validation=plan.validation)
    raise S6Error(f"unknown loader {plan.loader!r}; use tensor or torchvision")


def train_run(plan: Plan | Resumed, *, out: str | os.PathLike | None = None, data_dir: str | os.PathLike | None = None,
              device: str | None = None, overwrite: bool = False, stop_after: int | None = None, progress: bool = True,
              log: Callable[[str], None] = print, mnist: MNISTTensors | None = None,
              network: Callable[[], nn.Module] | None = None, recipe: Recipe | None = None) -> RunResult:
    """Train ``plan`` (``new_plan``) on its fixed schedule, or continue a saved run (``resumed``); write
    OUT/metrics.json and checkpoint.pt after every epoch, and curves.png at the end.

    OUT is ``out`` if given, else the resumed run's folder or ``default_out(plan)``. A new run into a folder that
    already holds one is refused unless ``overwrite``. ``stop_after=N`` ends after epoch N, as an interruption
    would; ``mnist`` reuses tensors already loaded. For experiments (a benchmark's candidate, your own network):
    ``network`` builds the model instead of the registry's, ``recipe`` trains it instead of the model's own.
    """
    resuming = plan if isinstance(plan, Resumed) else None
    plan, done = (resuming.plan, resuming.done) if resuming else (plan, 0)
    out = Path(out or (resuming.source.parent if resuming else default_out(plan)))
    check_stop_after(stop_after, plan, done)
    if out.exists() and not out.is_dir():
        raise S6Error(f"--out {out} exists and is not a directory")
    dev, root = resolve_device(device), resolve_data_dir(data_dir)
    command = resume_command(out, root, device)
    if resuming and done >= plan.epochs:  # nothing left to train: say so, rewrite nothing
        return finished_run(resuming, out, command, log)

    # The data, then the output folder: both are checked before the first epoch's minutes of training. A run
    # already in that folder is reported last, so a mistyped --data-dir or --device is named before it is.
    recipe = recipe or recipe_for(plan.model)
    train_loader, scored_loader = _loaders(plan, recipe, dev, root, mnist)
    steps, tail = check_steps(recipe, len(train_loader), plan.epochs)
    made = [folder for folder in (out, *out.parents) if not folder.exists()]  # what the run creates, deepest first
    check_output_folder(out, plan, replace=bool(resuming) or overwrite)

    with claimed(out, made):  # one run at a time in a folder: a second would interleave its epochs with ours
        torch.manual_seed(plan.seed)  # the weights' initialisation, and Dropout's masks
        model = (network() if network else build_model(plan.model)).to(dev)
        speed_up(model)  # channels-last maps and a cheaper Dropout mask: the same training, faster on a CPU
        optimizer = OneCycleSGD(model.parameters(), recipe, steps, tail)
        # What each epoch scores and the run saves, where the recipe averages the weights.
        average = average_of(model, recipe.ema) if recipe.ema else None
        metrics = new_metrics(plan, model, recipe, dev)
        if resuming:  # its weights and every random state back, so it continues bit for bit
            restore_run(resuming.checkpoint, model, optimizer, train_loader.generator, dev, average)
            metrics["epochs"] = resuming.checkpoint["metrics"]["epochs"]
            log(f"resuming {plan.model} after epoch {done} of {plan.epochs} ({resuming.source}); writing to {out}/")
        else:
            log(f"training {plan.model} ({metrics['params']:,} parameters) for {plural(plan.epochs, 'epoch')} "
                f"on {metrics['device']}, seed {plan.seed}; writing to {out}/")
        log(f"lr: the learning rate at the start of the epoch ({lr_legend(plan.epochs, tail // len(train_loader))}); "
            f"train: {train_legend(recipe, plan.epochs)}; {scored_legend(plan)}, after it")
        saver = EpochSaver(out, plan, metrics, model, optimizer, train_loader.generator, dev, average)
        split = scored_on(plan.validation)
        with saver.on_failure(command):
            for record in fit(model, optimizer, train_loader, scored_loader, dev, plan.epochs, split,
                              done=len(metrics["epochs"]), stop_after=stop_after, progress=progress,
                              average=average):
                saver.save(record)  # before the line that reports it: a printed epoch is a saved epoch
                log(format_epoch(record, split))
        history, scored = metrics["epochs"], (average.module if average is not None else model)
        if len(history) == plan.epochs:  # the curves, once the schedule is complete
            from s6.training.curves import plot_history  # matplotlib only when there is something to draw

            plot_history(metrics, f"{display_name(plan.model)}, seed {plan.seed}").savefig(out / "curves.png", dpi=100)
        return RunResult(scored, metrics, plan, out, len(history) - done, command)


def new_metrics(plan: Plan, model: nn.Module, recipe: Recipe, device: torch.device) -> dict:
    """metrics.json before its first epoch: what the run is (its plan: the epochs, subset and validation it runs,
    which a short run's recipe does not say), where it runs and what made it."""
    return {"model": plan.model, "params": count_parameters(model),
            "seed": plan.seed, "validation": plan.validation, "plan": asdict(plan), "device": describe_device(device),
            "cpu_path": cpu_path() if device.type == "cpu" else None,  # which kernels: seeds end apart on two
            **provenance(recipe), "epochs": []}


def format_epoch(record: dict, split: str) -> str:
    """One log line per epoch; ``split``: what the run is scored on (``scored_on``)."""
    return (
        f"epoch {record['epoch']:2d}  lr {record['lr']:.4f}  "
        f"train loss {record['train_loss']:.4f} acc {record['train_acc']:.2f}%  "
        f"{split} loss {record[f'{split}_loss']:.4f} acc {record[f'{split}_acc']:.2f}%  "
        f"{record['seconds']:.1f}s"
    )


def check_stop_after(stop_after: int | None, plan: Plan, done: int) -> None:
    """S6Error unless epoch ``stop_after`` lies between the epochs done and the plan's last."""
    if stop_after is not None and not done < stop_after <= plan.epochs:
        raise S6Error(f"--stop-after {stop_after} is outside this run: it plans {plural(plan.epochs, 'epoch')}"
                      + (f" and has done {done}" if done else ""))


def finished_run(resuming: Resumed, out: Path, command: str, log: Callable[[str], None]) -> RunResult:
    """A resumed run that has no epoch left: its model and metrics as saved, and a line that says so."""
    model = build_model(resuming.plan.model)
    model.load_state_dict(resuming.checkpoint["state_dict"])
    last, split = resuming.checkpoint["metrics"]["epochs"][-1], scored_on(resuming.plan.validation)
    log(f"{resuming.source} is a finished run: {resuming.done} of {plural(resuming.plan.epochs, 'epoch')}, "
        f"final {SPLIT_NAMES[split]} accuracy {last[split + '_acc']:.2f}%; nothing to train")
    return RunResult(model, resuming.checkpoint["metrics"], resuming.plan, out, 0, command)


class EpochSaver:
    """Saves the run after every epoch (checkpoint.pt, then metrics.json, each atomically), so an interruption or
    a crash loses at most the epoch under way; ``on_failure`` says what was kept."""

    def __init__(self, out: Path, plan: Plan, metrics: dict, model: nn.Module, optimizer: OneCycleSGD,
                 generator: torch.Generator, device: torch.device, average: nn.Module | None = None) -> None:
        self.out, self.plan, self.metrics, self.average = out, plan, metrics, average
        self.model, self.optimizer, self.generator, self.device = model, optimizer, generator, device
        self.epochs_saved = len(metrics["epochs"])  # epochs safely in OUT/checkpoint.pt

    def save(self, record: dict) -> None:
        """Add the epoch just trained to the run's metrics and write both files."""
        self.metrics["epochs"] = [*self.metrics["epochs"], record]
        try:
            save_run(self.out / "checkpoint.pt", asdict(self.plan), self.metrics, self.model, self.optimizer,
                     self.generator, self.device, self.average)
            save_json(self.out / "metrics.json", self.metrics)
            if self.epochs_saved == 0:  # a new run's first epoch: the curves of a run it replaced are not its own
                (self.out / "curves.png").unlink(missing_ok=True)
        except OSError as e:
            raise S6Error(f"cannot save {self.out}/checkpoint.pt: {e.strerror or e}") from None
        self.epochs_saved = len(self.metrics["epochs"])

    @contextmanager
    def on_failure(self, command: str) -> Iterator[None]:
        """An interruption or an error, as one line that says how many epochs are kept and how to continue."""
        epochs = plural(self.plan.epochs, "epoch")
        try:
            yield
        except KeyboardInterrupt:
            raise TrainingInterrupted(
                f"interrupted; {self.epochs_saved} of {epochs} saved in {self.out}/checkpoint.pt. Continue with: "
                f"{command}" if self.epochs_saved else "interrupted before the first epoch ended; nothing was saved"
            ) from None
        except S6Error as e:
            if self.epochs_saved:
                raise S6Error(f"{e}; epoch {self.epochs_saved} is kept in {self.out}/checkpoint.pt") from None
            raise


# The output folder's rules: where a run writes when not told, never replacing a run already there, one run at a
# time in a folder, and the command that continues a run.


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


def check_output_folder(out: Path, plan: Plan, replace: bool) -> None:
    """Before the first epoch: no other run is writing into ``out``, a run already there is not replaced unless
    ``replace`` (a resumed run continues it), and ``out`` can be written; S6Error otherwise."""
    refuse_a_live_run(out)
    if not replace:
        refuse_to_replace(out, plan)
    writable_dir(out, "--out")


def refuse_to_replace(out: Path, plan: Plan) -> None:
    """A new run never replaces the run already in ``out``: S6Error naming the ways on, before anything is written.

    runs/model2/ is what predict uses, and a results/ folder is a benchmark's record: replacing either silently,
    after minutes of training, is the one mistake a rerun of an old command must not make.
    """
    if not any((out / name).exists() for name in ("checkpoint.pt", "metrics.json")):
        return
    try:
        existing = load_checkpoint(out)
    except S6Error:
        raise S6Error(f"{out}/ already holds a run whose checkpoint cannot be read; train into another folder "
                      "with --out DIR, or replace it with --overwrite") from None
    done, planned = len(existing["metrics"]["epochs"]), existing["plan"]["epochs"]
    if done < planned and existing["plan"] == asdict(plan):
        raise S6Error(f"{out}/ already holds this run, stopped after epoch {done} of {planned}: continue it with "
                      f"--resume {out}, or start it again with --overwrite")
    model = existing["model"]
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
def claimed(out: Path, made: list[Path] | None = None) -> Iterator[None]:
    """Hold ``out``'s lock while training, and give it up however the run ends (a crash leaves a stale lock, whose
    process no longer exists, and the next run takes it over). ``made``: the folders this run created for ``out``,
    deepest first; a run that ends in an error or a Ctrl-C before anything was written into them removes them
    again, so no empty folder is left behind. A folder that was there before is never touched."""
    lock = out / LOCK
    lock.write_text(str(os.getpid()))
    try:
        yield
    except BaseException:
        lock.unlink(missing_ok=True)  # first: a folder holding only the lock is empty once it goes
        for folder in made or []:
            try:
                folder.rmdir()  # only an empty one
            except OSError:
                break  # it holds the run's saved epochs: keep it, and the folders above it
        raise
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
