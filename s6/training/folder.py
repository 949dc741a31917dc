"""The output folder's rules: where a run writes when not told, never replacing a run already there, one run at a
time in a folder, and the command that continues a run."""

from __future__ import annotations

import os
import shlex
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict
from pathlib import Path

from s6 import S6Error, plural
from s6.files import writable_dir
from s6.models.registry import recipe_for
from s6.training.checkpoint import load_checkpoint
from s6.training.plan import Plan


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


def check_out(out: Path, plan: Plan, replace: bool) -> None:
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
