"""MNIST from S6_DATA_DIR, its verification, and the device-resident loader."""

import os
import shutil
from pathlib import Path

import pytest
import torch
from conftest import mnist_root
from torchvision.datasets import MNIST

from s6 import S6Error
from s6.models.recipe import Augment
from s6.training.data import (
    AugmentSchedule,
    TensorLoader,
    affine_grid,
    mnist_folder,
    normalise,
    random_affine,
    raw_dir,
)

JITTER = Augment(degrees=7.0, translate=0.1, scale=0.1)  # Model-2's


def test_real_mnist_has_60k_train_and_10k_test_digits(mnist):
    assert mnist.train_images.shape == (60000, 28, 28) and mnist.train_images.dtype == torch.uint8
    assert mnist.test_images.shape == (10000, 28, 28) and mnist.test_images.dtype == torch.uint8
    assert mnist.train_labels.shape == (60000,) and mnist.train_labels.dtype == torch.int64
    assert set(mnist.train_labels.unique().tolist()) == set(range(10))
    assert set(mnist.test_labels.unique().tolist()) == set(range(10))


@pytest.fixture
def copy_of_mnist(data_dir, tmp_path):
    """A private copy of the raw files, safe to damage."""
    shutil.copytree(raw_dir(data_dir), raw_dir(tmp_path))
    return tmp_path


def damage(path, how):
    data = bytearray(path.read_bytes())
    if how == "truncate":
        data = data[: len(data) // 2]
    elif how == "flip":
        data[len(data) // 2] ^= 0xFF
    elif how == "magic":
        data[3] = 0x99
    elif how == "count":
        data[4:8] = (59999).to_bytes(4, "big")
    path.write_bytes(bytes(data))


@pytest.mark.parametrize(
    "name,how,message",
    [
        ("train-images-idx3-ubyte", "truncate", "truncated"),
        ("t10k-labels-idx1-ubyte", "flip", "corrupt"),
        ("t10k-images-idx3-ubyte", "magic", "wrong magic number"),
        ("train-labels-idx1-ubyte", "count", "items in its header"),
    ],
)
def test_damaged_file_is_named_in_the_error(copy_of_mnist, name, how, message):
    damage(raw_dir(copy_of_mnist) / name, how)
    with pytest.raises(S6Error, match=message) as error:
        mnist_folder(copy_of_mnist, download=False)
    assert name in str(error.value)


def test_empty_root_without_network_explains_where_to_put_the_files(tmp_path, monkeypatch):
    monkeypatch.setattr(MNIST, "mirrors", ["http://127.0.0.1:9/"])  # a closed local port: no network
    with pytest.raises(S6Error, match="could not download MNIST") as error:
        mnist_folder(tmp_path / "empty")
    assert str(raw_dir(tmp_path / "empty")) in str(error.value)
    assert "t10k-labels-idx1-ubyte" in str(error.value)


def test_missing_files_without_download_are_listed(tmp_path):
    with pytest.raises(S6Error, match="MNIST not found") as error:
        mnist_folder(tmp_path, download=False)
    for name in ("train-images-idx3-ubyte", "train-labels-idx1-ubyte", "t10k-images-idx3-ubyte",
                 "t10k-labels-idx1-ubyte"):
        assert name in str(error.value)


@pytest.mark.skipif(os.geteuid() == 0, reason="root reads any file")
def test_unreadable_data_dir_is_reported(copy_of_mnist):
    os.chmod(copy_of_mnist, 0)
    try:
        with pytest.raises(S6Error, match="permission denied"):
            mnist_folder(copy_of_mnist, download=False)
    finally:
        os.chmod(copy_of_mnist, 0o755)


def test_tensor_loader_yields_every_image_exactly_once_per_epoch():
    n = 1000
    images = torch.arange(n, dtype=torch.float32).reshape(n, 1, 1, 1).expand(n, 1, 28, 28).contiguous()
    loader = TensorLoader(images, torch.arange(n), batch_size=64, shuffle=True, seed=0)
    for _ in range(2):
        batches = list(loader)
        labels = torch.cat([y for _, y in batches])
        assert sorted(labels.tolist()) == list(range(n))
        assert labels.tolist() != list(range(n))  # shuffled
        assert all(x.shape[1:] == (1, 28, 28) and x.dtype == torch.float32 for x, _ in batches)
        assert all(torch.equal(x[:, 0, 0, 0], y.float()) for x, y in batches)  # images stay with labels
    assert len(loader) == len(batches) == 16


def test_tensor_loader_is_deterministic_under_a_seed(mnist):
    def first_batch(seed):
        loader = TensorLoader(mnist.train_images[:512], mnist.train_labels[:512], 128,
                              shuffle=True, jitter=AugmentSchedule(JITTER), seed=seed)
        return next(iter(loader))

    (x1, y1), (x2, y2), (x3, _) = first_batch(7), first_batch(7), first_batch(8)
    assert torch.equal(x1, x2) and torch.equal(y1, y2)
    assert not torch.equal(x1, x3)


def test_two_epochs_of_a_shuffled_loader_come_in_different_orders_with_different_jitter(mnist):
    """Each epoch draws on from where the last left off: a loader reseeded every epoch would show the model the
    same order and the same jittered digits again and again."""
    loader = TensorLoader(mnist.train_images[:256], torch.arange(256), 64, shuffle=True, jitter=AugmentSchedule(JITTER),
                          seed=3)
    epochs = []
    for _ in range(2):
        x, order = map(torch.cat, zip(*loader))
        epochs.append((order, x[order.argsort()]))  # each image's jittered copy, in image order
    (first_order, first_images), (second_order, second_images) = epochs
    assert sorted(first_order.tolist()) == sorted(second_order.tolist()) == list(range(256))
    assert not torch.equal(first_order, second_order)
    moved = (first_images - second_images).flatten(1).abs().amax(1) > 0.1
    assert moved.all(), f"{(~moved).sum().item()} of 256 digits jittered the same way in both epochs"


def principal_angle(ink: torch.Tensor) -> torch.Tensor:
    """Each image's main axis, in degrees from the horizontal, from its ink's second moments."""
    rows, cols = torch.meshgrid(torch.arange(28.0), torch.arange(28.0), indexing="ij")
    mass = ink.sum((1, 2))
    r0, c0 = (ink * rows).sum((1, 2)) / mass, (ink * cols).sum((1, 2)) / mass
    dr, dc = rows - r0[:, None, None], cols - c0[:, None, None]
    mu_rr, mu_cc, mu_rc = ((ink * d).sum((1, 2)) / mass for d in (dr * dr, dc * dc, dr * dc))
    return torch.rad2deg(0.5 * torch.atan2(2 * mu_rc, mu_cc - mu_rr))


def test_the_jitter_turns_and_shifts_a_digit_as_far_as_its_augment_says_and_no_further():
    """A horizontal bar, turned only (or shifted only) by 512 draws: the largest turn is about the recipe's
    degrees, and the largest shift about its fraction of the 28-pixel side."""
    bar = torch.zeros(512, 28, 28, dtype=torch.uint8)
    bar[:, 13:15, 4:24] = 255
    x = normalise(bar)
    black = x[0, 0, 0, 0]
    turned = random_affine(x, Augment(degrees=7, translate=0, scale=0), torch.Generator().manual_seed(0))
    angles = principal_angle((turned - black)[:, 0]).abs()
    assert 6.5 < angles.max().item() < 7.3
    shifted = random_affine(x, Augment(degrees=0, translate=0.1, scale=0), torch.Generator().manual_seed(0))
    ink = (shifted - black)[:, 0]
    columns = (ink * torch.arange(28.0)).sum((1, 2)) / ink.sum((1, 2))
    assert 2.4 < (columns - 13.5).abs().max().item() < 2.9  # 0.1 of 28 pixels is 2.8


@pytest.mark.parametrize("n, height, width", [(128, 28, 28), (96, 28, 28), (1, 28, 28), (3, 13, 9), (2, 1, 5)])
def test_the_cached_affine_grid_equals_torchs_bit_for_bit(n, height, width):
    """The augmentation's grid is F.affine_grid's exactly, so caching the pixel centres changed no run's numbers."""
    theta = torch.randn(n, 2, 3, generator=torch.Generator().manual_seed(n + height))
    expected = torch.nn.functional.affine_grid(theta, [n, 1, height, width], align_corners=False)
    assert torch.equal(affine_grid(theta, height, width), expected)


def test_augmentation_moves_pixels_but_keeps_labels_and_background(mnist):
    x = normalise(mnist.train_images[:256])
    moved = random_affine(x, JITTER, torch.Generator().manual_seed(0))
    assert moved.shape == x.shape
    assert (moved - x).abs().mean() > 0.05
    background = normalise(torch.zeros(1, 28, 28, dtype=torch.uint8))[0, 0, 0, 0].item()
    assert moved[:, :, 0, 0].sub(background).abs().max() < 1e-5  # corners stay black, not grey
    loader = TensorLoader(mnist.train_images[:256], mnist.train_labels[:256], 256, jitter=AugmentSchedule(JITTER))
    _, y = next(iter(loader))
    assert torch.equal(y, mnist.train_labels[:256])


def test_tensor_loader_normalises_with_mnist_statistics(mnist):
    """What a model is fed, batch by batch, over an epoch of the raw uint8 training images: mean 0, std 1."""
    loader = TensorLoader(mnist.train_images, mnist.train_labels, 10_000)
    x = torch.cat([images for images, _ in loader])
    assert x.shape == (60_000, 1, 28, 28)
    assert abs(x.mean().item()) < 1e-3 and abs(x.std().item() - 1) < 1e-3


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA GPU")
def test_tensor_loader_keeps_batches_on_the_gpu(mnist):
    loader = TensorLoader(mnist.train_images[:512], mnist.train_labels[:512], 128, "cuda", shuffle=True,
                          jitter=AugmentSchedule(JITTER))
    x, y = next(iter(loader))
    assert x.is_cuda and y.is_cuda


@pytest.mark.parametrize("where", ["root", "MNIST/raw", "a flat folder"])
def test_data_dir_may_name_the_root_its_raw_folder_or_a_folder_of_the_bare_files(data_dir, tmp_path, where):
    from s6.training.data import load_mnist

    if where == "a flat folder":
        shutil.copytree(raw_dir(data_dir), tmp_path / "flat")
        given = tmp_path / "flat"
    else:
        given = data_dir if where == "root" else raw_dir(data_dir)
    mnist = load_mnist(given, download=False)
    assert mnist.test_images.shape == (10000, 28, 28) and int(mnist.test_labels[0]) == 7
    if where != "root":
        assert not (Path(given) / "MNIST").exists()  # no nested MNIST/raw was made (or downloaded into)


def test_one_missing_file_is_named_and_nothing_is_downloaded(copy_of_mnist):
    (raw_dir(copy_of_mnist) / "t10k-labels-idx1-ubyte").unlink()
    with pytest.raises(S6Error, match="holds 3 of MNIST's 4 files; missing: t10k-labels-idx1-ubyte$"):
        mnist_folder(copy_of_mnist)


def test_a_failed_download_leaves_no_folder_behind(tmp_path, monkeypatch):
    monkeypatch.setattr(MNIST, "mirrors", ["http://127.0.0.1:9/"])  # a closed local port: no network
    with pytest.raises(S6Error, match="could not download MNIST"):
        mnist_folder(tmp_path / "typo" / "data")
    assert list(tmp_path.iterdir()) == []


def test_the_torchvision_loader_asks_for_the_mnist_raw_layout(data_dir, tmp_path):
    from s6.training.data import torchvision_loaders

    shutil.copytree(raw_dir(data_dir), tmp_path / "flat")
    with pytest.raises(S6Error, match="reads ROOT/MNIST/raw/"):
        torchvision_loaders(tmp_path / "flat", 64, None, seed=1)


def test_a_torchvision_that_cannot_be_imported_is_one_line_naming_the_way_on(tmp_path, monkeypatch):
    """A CPU torch beside a CUDA torchvision fails inside torchvision's import with a RuntimeError, not ImportError."""
    import importlib

    real = importlib.import_module

    def broken(name, *args, **kwargs):
        if name.startswith("torchvision"):
            raise RuntimeError("operator torchvision::nms does not exist\nmore lines of the traceback")
        return real(name, *args, **kwargs)

    monkeypatch.setattr(importlib, "import_module", broken)
    with pytest.raises(S6Error, match=r"^torchvision cannot be imported \(RuntimeError: operator torchvision::nms "
                                      r"does not exist\); install torch and torchvision from the same source"):
        mnist_folder(tmp_path / "data")
    assert not (tmp_path / "data").exists()


def test_the_tests_find_mnist_where_the_readme_train_command_downloaded_it(data_dir, tmp_path):
    """README: install, `python -m s6 train` (MNIST into ./data), then `pytest`: its MNIST tests run, not skip."""
    (tmp_path / "data" / "MNIST").mkdir(parents=True)
    (tmp_path / "data" / "MNIST" / "raw").symlink_to(data_dir / "MNIST" / "raw")
    assert mnist_root({}, tmp_path) == (tmp_path / "data").resolve()
    assert mnist_root({"S6_DATA_DIR": str(data_dir)}, tmp_path) == data_dir  # the variable comes first
    assert mnist_root({}, tmp_path / "elsewhere") is None  # neither: the MNIST tests skip (fail under CI)
