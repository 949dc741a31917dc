"""python -m s6 end to end, in a subprocess, as a user runs it."""

import dataclasses
import json
import os
import re
import subprocess
import sys

import pytest
import torch
from conftest import ROOT, run_cli, run_main

import s6
from s6.models.registry import DEFAULT_MODEL, recipe_for


@pytest.mark.slow
def test_train_writes_metrics_checkpoint_and_curves(data_dir, tmp_path):
    out = tmp_path / "run"
    result = run_cli("train", "--model", "model1", "--epochs", "1", "--train-subset", "2000",
                     "--data-dir", str(data_dir), "--out", str(out), "--device", "cpu", "--quiet")
    assert result.returncode == 0, result.stderr
    assert "epoch  1" in result.stdout and "final test accuracy" in result.stdout
    metrics = json.loads((out / "metrics.json").read_text())
    assert metrics["model"] == "model1" and len(metrics["epochs"]) == 1
    assert (out / "checkpoint.pt").exists() and (out / "curves.png").exists()


@pytest.mark.slow
def test_metrics_record_the_recipe_the_versions_and_the_commit(data_dir, tmp_path):
    """A metrics.json read later says what made it: the full recipe, s6's and torch's versions, the source commit."""
    result = run_cli("train", "--model", "model2", "--epochs", "1", "--train-subset", "500", "--data-dir",
                     str(data_dir), "--out", str(tmp_path), "--quiet")
    assert result.returncode == 0, result.stderr
    metrics = json.loads((tmp_path / "metrics.json").read_text())
    assert metrics["recipe"] == json.loads(json.dumps(dataclasses.asdict(recipe_for("model2"))))  # as JSON keeps it
    assert (metrics["s6"], metrics["torch"]) == (s6.__version__, torch.__version__)
    if (ROOT / ".git").exists():  # a clone, as in CI: the commit it runs from
        assert re.fullmatch(r"[0-9a-f]{40}(\+changes)?", metrics["commit"]), metrics["commit"]
    else:
        assert metrics["commit"] is None


@pytest.mark.slow
def test_training_into_a_log_file_writes_epoch_lines_and_no_progress_bar_frames(data_dir, tmp_path):
    """No --quiet, stderr not a terminal (captured, as a log file would be): tqdm must not write its frames."""
    result = run_cli("train", "--epochs", "1", "--train-subset", "2000", "--data-dir", str(data_dir),
                     "--out", str(tmp_path), "--device", "cpu")
    assert result.returncode == 0, result.stderr
    assert "\r" not in result.stderr and "it/s" not in result.stderr, result.stderr[:300]
    assert "epoch  1" in result.stdout


@pytest.mark.slow
def test_data_dir_defaults_to_the_environment_variable(data_dir, tmp_path):
    result = run_cli("train", "--epochs", "1", "--train-subset", "500", "--out", str(tmp_path), "--quiet",
                     env={"S6_DATA_DIR": str(data_dir)})
    assert result.returncode == 0, result.stderr
    assert len(json.loads((tmp_path / "metrics.json").read_text())["epochs"]) == 1


def test_summary_prints_layers_receptive_field_and_parameter_count():
    result = run_main("summary", "--model", "model2")
    assert result.returncode == 0, result.stderr
    assert "Conv2d-1" in result.stdout and "BatchNorm2d" in result.stdout
    assert "Receptive field" in result.stdout and "gap" in result.stdout
    assert "Trainable parameters:" in result.stdout


def test_summary_of_model3_shows_its_budget_and_recipe():
    result = run_main("summary", "--model", "model3")
    assert result.returncode == 0, result.stderr
    assert "Trainable parameters: 7,880" in result.stdout
    assert ("Training recipe: 15 epochs, batch 128, one-cycle SGD to lr 0.3, weight decay 0.0001, augmentation ±7° "
            "rotation, ±10% shift, ±10% zoom (none in the last 3 epochs), the last 3 epochs at the schedule's floor "
            "rate") in result.stdout


BAD = {
    "unknown model": ["train", "--model", "resnet50"],
    "zero epochs": ["train", "--epochs", "0"],
    "negative epochs": ["train", "--epochs", "-1"],
    "text epochs": ["train", "--epochs", "many"],
    "negative seed": ["train", "--seed", "-1"],
    "seed beyond torch's range": ["train", "--seed", str(2**64)],
    "zero subset": ["train", "--train-subset", "0"],
    "subset too large": ["train", "--train-subset", "70000"],
    "data dir is a file": ["train", "--data-dir", "requirements.txt"],
    "no such command": ["fly"],
}


@pytest.mark.parametrize("args", BAD.values(), ids=BAD.keys())
def test_bad_arguments_give_one_line_and_no_traceback(args, tmp_path):
    result = run_main(*args, "--out", str(tmp_path / "out")) if args[0] == "train" else run_main(*args)
    assert result.returncode != 0
    assert "Traceback" not in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1, result.stderr
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize("args", [
    ["train", "--out", ""], ["train", "--data-dir", ""], ["train", "--resume", ""],
    ["predict", "digit.png", "--checkpoint", ""], ["demo", "--checkpoint", ""],
    ["sheet", "--out", ""], ["backprop-figures", "--out-dir", " "], ["predict", ""],
], ids=lambda args: " ".join(args[:-1]))
def test_an_empty_path_is_refused_not_read_as_the_default_folder(args, tmp_path):
    """--out "$UNSET" must not write runs/MODEL, the committed workbook or images/ as if nothing were given."""
    result = run_main(*args, cwd=tmp_path)
    assert result.returncode == 2 and "Traceback" not in result.stderr
    assert result.stderr.strip().endswith(f"{args[-2] if args[-2].startswith('-') else 'IMAGE'}: expected a path, "
                                          "got an empty string (see --help)")
    assert list(tmp_path.iterdir()) == []


def test_a_workbook_path_through_a_file_says_that_the_file_is_not_a_folder(tmp_path):
    (tmp_path / "notes.txt").write_text("mine")
    result = run_main("sheet", "--out", str(tmp_path / "notes.txt" / "x.xlsx"))
    assert result.returncode == 1 and (tmp_path / "notes.txt").read_text() == "mine"
    assert result.stderr.strip() == (f"error: cannot write --out {tmp_path / 'notes.txt' / 'x.xlsx'}: "
                                     f"{tmp_path / 'notes.txt'} is a file, not a folder")


def test_an_empty_host_is_refused_not_served_on_another_address(tmp_path):
    result = run_main("demo", "--host", "", cwd=tmp_path)
    assert result.returncode == 2 and result.stderr.strip().endswith(
        "--host: expected an address such as 127.0.0.1 or 0.0.0.0, got an empty string (see --help)")


@pytest.mark.skipif(torch.cuda.is_available(), reason="this machine has CUDA")
def test_cuda_without_a_gpu_is_a_clear_error(tmp_path):
    result = run_main("train", "--device", "cuda", "--out", str(tmp_path / "out"))
    assert result.returncode == 1
    assert result.stderr.strip() == "error: --device cuda: no CUDA GPU is available here; use --device cpu"


def test_help_shows_each_default_once_and_never_none():
    for command in ["train", "summary", "predict", "sheet", "backprop-figures"]:
        text = run_main(command, "--help").stdout
        assert "(default: None)" not in text and "default: False" not in text, command
    train = run_main("train", "--help").stdout
    assert train.count(f"default: {DEFAULT_MODEL}") == 1
    assert run_main("sheet", "--help").stdout.count("(default: 100)") == 1


@pytest.mark.parametrize("args,message", [
    (["sheet", "--set", "t1"], "expected NAME=VALUE, e.g. t1=0.01, got 't1'"),
    (["sheet", "--set", "t9=1"], "NAME one of i1, i2, t1, t2, w1"),
    (["sheet", "--iterations", "100000"], "at most 1000"),
])
def test_sheet_options_explain_what_they_expect(args, message):
    result = run_main(*args)
    assert result.returncode == 2 and message in result.stderr and "Traceback" not in result.stderr


def test_a_workbook_name_that_is_not_xlsx_is_one_line_and_writes_nothing(tmp_path):
    result = run_main("sheet", "--out", str(tmp_path / "notes.txt"))
    assert result.returncode == 1
    assert result.stderr.strip() == (f"error: --out {tmp_path / 'notes.txt'}: the workbook is an Excel file; "
                                     f"give a name ending in .xlsx, e.g. {tmp_path / 'notes.xlsx'}")
    assert list(tmp_path.iterdir()) == []


def unwritable_outputs(tmp_path, data_dir):
    (tmp_path / "a-file").write_text("x")
    return {
        "train --out under /proc": ["train", "--out", "/proc/s6/run", "--epochs", "1", "--train-subset", "500",
                                    "--data-dir", str(data_dir), "--quiet"],
        "train --out is a file": ["train", "--out", str(tmp_path / "a-file"), "--data-dir", str(data_dir)],
        "sheet --out under /proc": ["sheet", "--out", "/proc/x.xlsx"],
        "sheet --out is a folder": ["sheet", "--out", str(tmp_path)],
        "backprop-figures --out-dir is a file": ["backprop-figures", "--out-dir", str(tmp_path / "a-file")],
        "backprop-figures --out-dir under /proc": ["backprop-figures", "--out-dir", "/proc/s6"],
    }


@pytest.mark.parametrize("case", ["train --out under /proc", "train --out is a file", "sheet --out under /proc",
                                  "sheet --out is a folder", "backprop-figures --out-dir is a file",
                                  "backprop-figures --out-dir under /proc"])
def test_an_output_path_that_cannot_be_written_is_one_line_before_any_work(case, tmp_path, data_dir):
    result = run_main(*unwritable_outputs(tmp_path, data_dir)[case])
    assert result.returncode == 1, result.stderr
    assert "Traceback" not in result.stderr and len(result.stderr.strip().splitlines()) == 1, result.stderr
    assert "epoch  1" not in result.stdout  # refused before training, not after the first epoch
    assert (tmp_path / "a-file").read_text() == "x"


@pytest.mark.slow
def test_a_short_run_gets_a_folder_of_its_own_and_never_replaces_the_full_run(data_dir, tmp_path):
    full = tmp_path / "runs" / "model2"
    full.mkdir(parents=True)
    (full / "checkpoint.pt").write_bytes(b"the full run's checkpoint")
    result = run_cli("train", "--epochs", "1", "--train-subset", "500", "--data-dir", str(data_dir), "--quiet",
                     cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert (full / "checkpoint.pt").read_bytes() == b"the full run's checkpoint"
    assert (tmp_path / "runs" / "model2-epochs1-subset500" / "checkpoint.pt").exists()
    assert "after 1 epoch;" in result.stdout  # singular
    assert "lr: the learning rate at the start of the epoch" in result.stdout


@pytest.mark.parametrize("argv", [["--help"], ["--version"], ["train", "--help"], ["sheet", "--iterations", "3"],
                                  ["backprop-figures", "--out-dir", "figures"]])
def test_part_1_and_help_never_import_torch(argv, tmp_path):
    """Part 1 (the workbook, its figures) and the help need no torch, so they skip its 1-2 s import."""
    code = ("import sys\nfrom s6.cli import main\ntry:\n    code = main(sys.argv[1:])\nexcept SystemExit as e:\n"
            "    code = e.code\nprint('torch' in sys.modules)\nsys.exit(code)\n")
    result = subprocess.run([sys.executable, "-c", code, *argv], cwd=tmp_path, capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines()[-1] == "False", f"{argv} imported torch"


def test_the_command_line_exits_with_mains_code_and_its_output_whole():
    """`python -m s6` ends without Python's teardown (s6.cli.exit_now): its output must still all arrive, and its
    exit code must still be main's."""
    ok = subprocess.run([sys.executable, "-m", "s6", "summary"], capture_output=True, text=True, cwd=ROOT)
    assert ok.returncode == 0 and ok.stdout.rstrip().endswith("(none in the last epoch)"), ok.stdout[-200:]
    refused = subprocess.run([sys.executable, "-m", "s6", "predict", "no-such-digit.png"], capture_output=True,
                             text=True, cwd=ROOT)
    assert refused.returncode == 1 and "error: no-such-digit.png: no such file" in refused.stderr, refused.stderr


def test_output_that_cannot_be_written_is_one_line_or_silence_never_a_traceback():
    """`s6 summary | head -0` (the reader has gone) stops quietly, as Unix tools do; `> /dev/full` is one line."""
    read, write = os.pipe()
    os.close(read)  # a pipe nobody reads: the first write fails with EPIPE
    closed = subprocess.run([sys.executable, "-m", "s6", "summary"], stdout=write, stderr=subprocess.PIPE, text=True,
                            cwd=ROOT)
    os.close(write)
    assert closed.returncode == 1 and closed.stderr == ""
    if os.path.exists("/dev/full"):
        with open("/dev/full", "w") as full:
            result = subprocess.run([sys.executable, "-m", "s6", "summary"], stdout=full, stderr=subprocess.PIPE,
                                    text=True, cwd=ROOT)
        assert result.returncode == 1
        assert result.stderr == "error: cannot write the output: No space left on device\n"
