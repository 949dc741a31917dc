"""Checkpoints resume exactly, and a crash mid-write never damages the last good one.

The quick loop keeps the tests that train for a second or so (a few batches); the longer runs and those that start
`python -m s6` are marked slow."""

import json
import math

import pytest
import torch
from conftest import folder_bytes, run_cli, run_main

from s6 import S6Error
from s6.models.registry import recipe_for
from s6.training.checkpoint import load_checkpoint, save_torch
from s6.training.run import new_plan, resumed, train_run


def without_time(metrics: dict) -> list[dict]:
    return [{k: v for k, v in e.items() if k != "seconds"} for e in metrics["epochs"]]


def quiet(plan=None, **kwargs):
    return train_run(plan or new_plan("model2", seed=5, epochs=2, train_subset=1500), device="cpu", progress=False,
                     log=lambda _: None, **kwargs)


def assert_resumes_exactly(plan, mnist, tmp_path) -> None:
    """``plan`` stopped after its first epoch and resumed ends with the metrics and weights, bit for bit, of the
    same plan run without a stop."""
    whole = quiet(plan, out=tmp_path / "whole", mnist=mnist)
    first = quiet(plan, out=tmp_path / "split", mnist=mnist, stop_after=1)
    assert len(first.metrics["epochs"]) == 1
    assert not (tmp_path / "split" / "curves.png").exists()
    continued = train_run(resumed(tmp_path / "split"), device="cpu", progress=False, log=lambda _: None, mnist=mnist)
    assert without_time(continued.metrics) == without_time(whole.metrics)
    for name, tensor in whole.model.state_dict().items():
        assert torch.equal(continued.model.state_dict()[name], tensor), name
    saved = json.loads((tmp_path / "split" / "metrics.json").read_text())
    assert without_time(saved) == without_time(whole.metrics)


@pytest.mark.slow  # trains for seconds, or starts python -m s6
def test_interrupted_then_resumed_run_equals_an_uninterrupted_one(mnist, tmp_path):
    assert_resumes_exactly(new_plan("model2", seed=5, epochs=2, train_subset=1500), mnist, tmp_path)


def test_a_tiny_run_interrupted_and_resumed_equals_it_uninterrupted_bit_for_bit(mnist, tmp_path):
    """The quick loop's resume: 3 batches an epoch, judged on 500 held-out training images, still every state a
    resume puts back (weights, optimiser momentum, schedule, Dropout's and the loader's random streams, and Model-2's
    clean last epoch)."""
    assert_resumes_exactly(new_plan("model2", seed=5, epochs=2, train_subset=384, validation=500), mnist, tmp_path)


def test_resume_refuses_a_plan_that_contradicts_the_checkpoint(mnist, tmp_path):
    quiet(out=tmp_path, mnist=mnist, stop_after=1)
    with pytest.raises(S6Error, match=r"^--resume continues the saved plan \(--epochs 2\); drop the --epochs 5 you "
                                      r"gave$"):
        resumed(tmp_path, epochs=5)
    with pytest.raises(S6Error, match=r"\(--train-subset 1500\); drop the --train-subset 100 you gave$"):
        resumed(tmp_path, train_subset=100)
    with pytest.raises(S6Error, match=r"\(no --validation\); drop the --validation 500 you gave$"):
        resumed(tmp_path, validation=500)


def test_failure_while_saving_keeps_the_previous_checkpoint(tmp_path, monkeypatch):
    path = tmp_path / "checkpoint.pt"
    save_torch(path, {"format": 1, "model": "model2", "state_dict": {"w": torch.ones(3)}})

    def broken_fsync(fd):
        raise OSError("disk full")

    monkeypatch.setattr("os.fsync", broken_fsync)
    with pytest.raises(OSError, match="disk full"):
        save_torch(path, {"format": 1, "model": "model2", "state_dict": {"w": torch.zeros(3)}})
    monkeypatch.undo()
    assert torch.equal(load_checkpoint(path)["state_dict"]["w"], torch.ones(3))
    assert [p.name for p in tmp_path.iterdir()] == ["checkpoint.pt"]  # no temporary file left behind


@pytest.mark.slow  # trains for seconds, or starts python -m s6
def test_cli_stop_after_then_resume(data_dir, tmp_path):
    out = str(tmp_path / "run")
    common = ["--epochs", "2", "--train-subset", "500", "--data-dir", str(data_dir), "--quiet"]
    first = run_cli("train", *common, "--out", out, "--stop-after", "1")
    assert first.returncode == 0, first.stderr
    assert f"continue with: python -m s6 train --resume {out} --data-dir {data_dir}" in first.stdout
    second = run_cli("train", "--resume", f"{out}/checkpoint.pt", "--data-dir", str(data_dir), "--quiet")
    assert second.returncode == 0, second.stderr
    assert "resuming model2 after epoch 1 of 2" in second.stdout
    assert f"to {out}/" in second.stdout  # the run's folder, also when resuming from the file itself
    assert len(json.loads((tmp_path / "run" / "metrics.json").read_text())["epochs"]) == 2


def test_diverging_loss_stops_with_epoch_and_batch_and_keeps_the_last_good_epoch(mnist, tmp_path, monkeypatch):
    import types

    import torch.nn.functional as F

    import s6.training.train

    calls = {"n": 0}
    per_epoch = math.ceil(1500 / recipe_for("model2").batch_size)  # quiet() trains on 1,500 images

    def cross_entropy(logits, y, **kwargs):
        loss = F.cross_entropy(logits, y, **kwargs)
        if "reduction" in kwargs:  # evaluate() sums; only training batches are counted
            return loss
        calls["n"] += 1
        return loss * float("nan") if calls["n"] == per_epoch + 6 else loss  # epoch 2, batch 6

    monkeypatch.setattr(s6.training.train, "F", types.SimpleNamespace(cross_entropy=cross_entropy))
    with pytest.raises(S6Error, match=r"loss is nan at epoch 2, batch 6; epoch 1 is kept"):
        quiet(out=tmp_path, mnist=mnist)
    assert load_checkpoint(tmp_path)["epoch"] == 1


@pytest.mark.slow  # trains for seconds, or starts python -m s6
def test_ctrl_c_saves_the_last_finished_epoch_and_says_how_to_resume(data_dir, tmp_path):
    import signal
    import subprocess
    import sys

    from conftest import ROOT

    out = tmp_path / "run"
    process = subprocess.Popen(
        [sys.executable, "-m", "s6", "train", "--epochs", "50", "--train-subset", "1000", "--quiet",
         "--data-dir", str(data_dir), "--out", str(out)],
        cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )
    for line in process.stdout:
        if line.startswith("epoch  1"):
            break
    process.send_signal(signal.SIGINT)
    _, stderr = process.communicate(timeout=120)
    assert process.returncode == 130
    assert "Traceback" not in stderr and len(stderr.strip().splitlines()) == 1
    assert f"python -m s6 train --resume {out}" in stderr
    checkpoint = load_checkpoint(out)
    assert checkpoint["epoch"] >= 1 and checkpoint["plan"]["epochs"] == 50


@pytest.mark.slow  # trains for seconds, or starts python -m s6
def test_resume_into_another_folder_names_the_real_source(data_dir, tmp_path):
    common = ["--data-dir", str(data_dir), "--quiet"]
    assert run_cli("train", "--epochs", "2", "--train-subset", "500", "--out", str(tmp_path / "a"), "--stop-after", "1",
                   *common).returncode == 0
    result = run_cli("train", "--resume", str(tmp_path / "a"), "--out", str(tmp_path / "b"), *common)
    assert result.returncode == 0, result.stderr
    assert f"resuming model2 after epoch 1 of 2 ({tmp_path / 'a' / 'checkpoint.pt'}); writing to {tmp_path / 'b'}/" \
        in result.stdout
    assert load_checkpoint(tmp_path / "a")["epoch"] == 1 and load_checkpoint(tmp_path / "b")["epoch"] == 2


@pytest.mark.slow  # trains for seconds, or starts python -m s6
def test_resuming_a_finished_run_says_so_and_rewrites_nothing(data_dir, tmp_path):
    common = ["--data-dir", str(data_dir), "--quiet"]
    assert run_cli("train", "--epochs", "1", "--train-subset", "500", "--out", str(tmp_path), *common).returncode == 0
    before = {p.name: (p.read_bytes(), p.stat().st_mtime_ns) for p in tmp_path.iterdir()}
    result = run_cli("train", "--resume", str(tmp_path), *common)
    assert result.returncode == 0, result.stderr
    assert "is a finished run: 1 of 1 epoch" in result.stdout and "nothing to train" in result.stdout
    assert "wrote" not in result.stdout
    assert {p.name: (p.read_bytes(), p.stat().st_mtime_ns) for p in tmp_path.iterdir()} == before


@pytest.mark.slow  # trains for seconds, or starts python -m s6
@pytest.mark.parametrize("args,message", [
    (["--epochs", "2", "--stop-after", "3"], "--stop-after 3 is outside this run: it plans 2 epochs"),
    (["--epochs", "1", "--train-subset", "100"], "the one-cycle schedule needs at least 3"),  # too few batches
])
def test_a_plan_that_cannot_run_as_asked_is_refused_before_training(args, message, data_dir, tmp_path):
    result = run_cli("train", *args, "--data-dir", str(data_dir), "--out", str(tmp_path / "run"), "--quiet")
    assert result.returncode == 1 and message in result.stderr and "Traceback" not in result.stderr
    assert "epoch  1" not in result.stdout


@pytest.mark.slow  # trains for seconds, or starts python -m s6
def test_a_new_run_into_a_folder_with_a_finished_run_is_refused_and_leaves_it_byte_identical(
    mnist, data_dir, tmp_path
):
    quiet(out=tmp_path, mnist=mnist)  # finished: 2 of 2 epochs
    before = folder_bytes(tmp_path)
    result = run_cli("train", "--epochs", "1", "--train-subset", "500", "--data-dir", str(data_dir), "--quiet",
                     "--out", str(tmp_path))
    assert result.returncode == 1 and "Traceback" not in result.stderr
    assert result.stderr.strip() == (f"error: {tmp_path}/ already holds a finished model2 run (2 of 2 epochs): "
                                     "keep it and train into another folder with --out DIR, or replace it with "
                                     "--overwrite")
    assert "epoch  1" not in result.stdout and folder_bytes(tmp_path) == before
    mistyped = run_main("train", "--data-dir", str(tmp_path / "no-such-folder"), "--out", str(tmp_path))
    assert "no-such-folder" in mistyped.stderr and "already holds" not in mistyped.stderr  # the typo first
    assert folder_bytes(tmp_path) == before
    replaced = run_cli("train", "--epochs", "1", "--train-subset", "500", "--data-dir", str(data_dir), "--quiet",
                       "--out", str(tmp_path), "--overwrite")
    assert replaced.returncode == 0, replaced.stderr
    assert len(json.loads((tmp_path / "metrics.json").read_text())["epochs"]) == 1


@pytest.mark.slow  # trains for seconds
def test_a_replacing_run_stopped_after_its_first_epoch_leaves_no_curves_of_the_run_it_replaced(mnist, tmp_path):
    """--overwrite, then Ctrl-C after epoch 1: the folder holds the new run's epoch, not the old run's picture
    beside it (curves.png is drawn when a schedule completes)."""
    quiet(out=tmp_path, mnist=mnist, plan=new_plan("model2", seed=5, epochs=1, train_subset=1500))
    assert (tmp_path / "curves.png").is_file()
    quiet(out=tmp_path, mnist=mnist, overwrite=True, stop_after=1)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["checkpoint.pt", "metrics.json"]
    assert len(json.loads((tmp_path / "metrics.json").read_text())["epochs"]) == 1
    assert load_checkpoint(tmp_path)["plan"]["epochs"] == 2


@pytest.mark.slow  # trains for seconds, or starts python -m s6
def test_a_new_run_into_its_own_stopped_run_points_to_resume(mnist, tmp_path):
    quiet(out=tmp_path, mnist=mnist, stop_after=1)
    before = folder_bytes(tmp_path)
    with pytest.raises(S6Error, match=f"stopped after epoch 1 of 2: continue it with --resume {tmp_path}"):
        quiet(out=tmp_path, mnist=mnist)
    assert folder_bytes(tmp_path) == before


def test_a_run_into_a_folder_another_live_run_is_writing_is_refused_before_anything_is_written(mnist, tmp_path):
    """Two trainings in one folder would overwrite each other's epochs; the second is told, not 'stopped after'."""
    import subprocess
    import sys

    out = tmp_path / "run"
    out.mkdir()
    other = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        (out / "training.pid").write_text(str(other.pid))
        with pytest.raises(S6Error, match=rf"^{out}/ is being written by another training run now \(process "
                                          rf"{other.pid}\): let it finish, or train into another folder"):
            quiet(out=out, mnist=mnist)
        assert sorted(p.name for p in out.iterdir()) == ["training.pid"]
    finally:
        other.kill()
        other.wait()


def test_a_lock_left_by_a_run_that_died_is_taken_over_and_given_up_at_the_end(mnist, tmp_path):
    import subprocess
    import sys

    out = tmp_path / "run"
    out.mkdir()
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    (out / "training.pid").write_text(dead.stdout.strip())
    result = train_run(new_plan("model2", seed=5, epochs=1, train_subset=384), device="cpu", progress=False,
                       log=lambda _: None, out=out, mnist=mnist)
    assert len(result.metrics["epochs"]) == 1 and not (out / "training.pid").exists()


@pytest.mark.parametrize("existing", [False, True], ids=["new folder", "existing folder"])
def test_a_run_stopped_before_its_first_epoch_leaves_no_folder_and_an_existing_one_untouched(mnist, tmp_path,
                                                                                          monkeypatch, existing):
    """Ctrl-C during epoch 1: the folders the run made for --out go again (none held anything); a folder that was
    there keeps what it held."""
    import s6.training.run as run_module
    from s6 import TrainingInterrupted

    def interrupted(*args, **kwargs):
        raise KeyboardInterrupt
        yield  # a generator, as fit is

    monkeypatch.setattr(run_module, "fit", interrupted)
    out = tmp_path / "runs" / "new"
    if existing:
        out.mkdir(parents=True)
        (out / "notes.txt").write_text("mine")
    with pytest.raises(TrainingInterrupted, match="before the first epoch ended"):
        quiet(out=out, mnist=mnist)
    if existing:
        assert sorted(p.name for p in out.iterdir()) == ["notes.txt"]
    else:
        assert not (tmp_path / "runs").exists()
