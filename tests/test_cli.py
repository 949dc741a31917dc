"""python -m s6 end to end, in a subprocess, as a user runs it."""

import json

import pytest
import torch
from conftest import run_cli


def test_train_writes_metrics_checkpoint_and_curves(data_dir, tmp_path):
    out = tmp_path / "run"
    result = run_cli("train", "--model", "model1", "--epochs", "1", "--train-subset", "2000",
                     "--data-dir", str(data_dir), "--out", str(out), "--device", "cpu", "--quiet")
    assert result.returncode == 0, result.stderr
    assert "epoch  1" in result.stdout and "final test accuracy" in result.stdout
    metrics = json.loads((out / "metrics.json").read_text())
    assert metrics["model"] == "model1" and len(metrics["epochs"]) == 1
    assert (out / "checkpoint.pt").exists() and (out / "curves.png").exists()


def test_data_dir_defaults_to_the_environment_variable(data_dir, tmp_path):
    result = run_cli("train", "--epochs", "1", "--train-subset", "500", "--out", str(tmp_path), "--quiet",
                     env={"S6_DATA_DIR": str(data_dir)})
    assert result.returncode == 0, result.stderr


def test_summary_prints_layers_receptive_field_and_parameter_count():
    result = run_cli("summary", "--model", "model2")
    assert result.returncode == 0, result.stderr
    assert "Conv2d-1" in result.stdout and "BatchNorm2d" in result.stdout
    assert "Receptive field" in result.stdout and "gap" in result.stdout
    assert "Trainable parameters:" in result.stdout


BAD = {
    "unknown model": ["train", "--model", "resnet50"],
    "zero epochs": ["train", "--epochs", "0"],
    "negative epochs": ["train", "--epochs", "-1"],
    "text epochs": ["train", "--epochs", "many"],
    "zero subset": ["train", "--train-subset", "0"],
    "subset too large": ["train", "--train-subset", "70000"],
    "data dir is a file": ["train", "--data-dir", "requirements.txt"],
    "no such command": ["fly"],
}


@pytest.mark.parametrize("args", BAD.values(), ids=BAD.keys())
def test_bad_arguments_give_one_line_and_no_traceback(args, tmp_path):
    result = run_cli(*args, "--out", str(tmp_path / "out")) if args[0] == "train" else run_cli(*args)
    assert result.returncode != 0
    assert "Traceback" not in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1, result.stderr
    assert not (tmp_path / "out").exists()


@pytest.mark.skipif(torch.cuda.is_available(), reason="this machine has CUDA")
def test_cuda_without_a_gpu_is_a_clear_error(tmp_path):
    result = run_cli("train", "--device", "cuda", "--out", str(tmp_path / "out"))
    assert result.returncode == 1
    assert result.stderr.strip() == "error: --device cuda: no CUDA GPU is available here; use --device cpu"
