"""The validation split: designs are chosen on held-out training images, and the test set is never read."""

from dataclasses import replace

import pytest
import torch
from conftest import run_main

from s6 import S6Error
from s6.models.registry import DEFAULT_MODEL
from s6.training.data import normalise, tensor_loaders
from s6.training.run import default_out, new_plan, train_run


def test_validation_holds_out_the_last_n_training_images_and_trains_on_the_others(mnist):
    train, scored = tensor_loaders(mnist, 128, None, "cpu", seed=1, validation=1000)
    assert torch.equal(train.images, normalise(mnist.train_images[:59000]))
    assert torch.equal(scored.images, normalise(mnist.train_images[59000:]))
    assert torch.equal(scored.labels, mnist.train_labels[59000:])
    assert len(train.labels) + len(scored.labels) == 60000  # every training image is in exactly one of them


def test_a_training_subset_is_taken_from_the_images_before_the_held_out_ones(mnist):
    train, scored = tensor_loaders(mnist, 128, None, "cpu", seed=1, train_subset=500, validation=1000)
    assert torch.equal(train.images, normalise(mnist.train_images[:500]))
    assert len(scored.labels) == 1000


def test_a_validation_run_never_reads_the_test_set(mnist, tmp_path):
    """The test tensors are taken away: a run that touched them would fail."""
    no_test = replace(mnist, test_images=None, test_labels=None)
    result = train_run(new_plan("model2", seed=1, epochs=1, train_subset=512, validation=2000), device="cpu",
                       out=tmp_path, progress=False, log=lambda _: None, mnist=no_test)
    (epoch,) = result.metrics["epochs"]
    assert "test_acc" not in epoch and "test_loss" not in epoch  # a validation accuracy is never called a test one
    assert result.final_accuracy == epoch["val_acc"] and result.metrics["validation"] == 2000
    with pytest.raises(KeyError):
        _ = result.final_test_acc


def test_a_validation_run_gets_its_own_folder_and_is_never_shipped(mnist, tmp_path):
    from s6.inference.shipped import export_weights

    plan = new_plan(validation=10000)
    assert str(default_out(plan)) == f"runs/{DEFAULT_MODEL}-val10000"  # never runs/MODEL/, which predict reads
    train_run(new_plan("model2", seed=1, epochs=1, train_subset=512, validation=1000), device="cpu", out=tmp_path,
              progress=False, log=lambda _: None, mnist=mnist)
    with pytest.raises(S6Error, match="validation split"):
        export_weights(tmp_path, tmp_path / "shipped.pt")


@pytest.mark.parametrize("args, message", [
    (["--validation", "60000"], "--validation must be 1 to 59,999"),
    (["--validation", "0"], "must be at least 1"),
    (["--validation", "10000", "--train-subset", "50001"], "--train-subset must be 1 to 50000"),
])
def test_an_impossible_validation_split_is_one_line_before_any_training(args, message, tmp_path):
    result = run_main("train", "--out", str(tmp_path / "run"), *args)
    assert result.returncode != 0 and message in result.stderr
    assert "Traceback" not in result.stderr and len(result.stderr.strip().splitlines()) == 1
    assert not (tmp_path / "run").exists()


def test_the_torchvision_pipeline_holds_out_the_same_images(data_dir):  # quick: it reads MNIST, trains nothing
    from s6.training.data import torchvision_loaders

    train, scored = torchvision_loaders(data_dir, 128, None, seed=1, validation=1000, num_workers=0)
    assert all(list(loader.dataset.indices) == list(range(59000)) for loader in (train.jittered, train.clean))
    assert list(scored.dataset.indices) == list(range(59000, 60000)) and scored.dataset.dataset.train

