"""benchmarks/profile_run.py splits a real run's seconds into its parts, and they add up to the whole."""

import importlib.util
import os

import pytest
from conftest import ROOT


@pytest.mark.slow
def test_a_runs_parts_add_up_to_its_seconds_from_start_to_exit_and_each_is_measured(data_dir):
    spec = importlib.util.spec_from_file_location("profile_run", ROOT / "benchmarks" / "profile_run.py")
    bench = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(bench)
    env = {**os.environ, "S6_DATA_DIR": str(data_dir)}
    # two epochs on 1,000 images: the first augmented, the second clean, so every part has work to time
    run = bench.profile_once(["--quiet", "--train-subset", "1000", "--epochs", "2"], env)
    parts = run["parts"]
    assert sum(parts.values()) == pytest.approx(run["total"])
    measured = {part: seconds for part, seconds in parts.items() if part != "the rest"}
    assert all(seconds > 0 for seconds in measured.values()), measured
    assert set(parts) == {"python and import torch", "import s6", *bench.PARTS, "training steps", "exit",
                          "the curves figure", "the rest"} - {"training epochs"}
    assert abs(parts["the rest"]) < 0.2 * run["total"]  # the parts cover the run: little is left unaccounted
