"""MNIST, from its four files to the batches a model trains on.

The files: find them, download them if none are there, verify each (header, size, SHA-256), and read them into
tensors (``load_mnist``). The batches, two ways:

* ``TensorLoader`` (the default) keeps the whole dataset as one normalised tensor on the training device, shuffles
  with ``torch.randperm`` and augments whole batches at once with ``affine_grid``/``grid_sample``
  (``random_affine``, below). No per-image Python work, no worker processes.
* ``torchvision_loaders`` is the textbook ``DataLoader`` + PIL-transform pipeline, kept for comparison and teaching
  (``--loader torchvision``).

A training loader is told each epoch's number before it is read (``set_epoch``, as PyTorch's DistributedSampler
is) and jitters that epoch's images as its run's schedule says (``AugmentSchedule``): a recipe's clean last
epochs are in the schedule, not switched on by the training loop.
"""

from __future__ import annotations

import hashlib
import math
import os
import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import torch

from s6 import S6Error
from s6.models import MNIST_MEAN, MNIST_STD
from s6.models.recipe import Augment, Recipe

TRAIN_IMAGES = 60000  # MNIST's training set

# name: (magic number, item count, SHA-256 of the canonical file)
MNIST_FILES = {
    "train-images-idx3-ubyte": (2051, 60000, "ba891046e6505d7aadcbbe25680a0738ad16aec93bde7f9b65e87a2fc25776db"),
    "train-labels-idx1-ubyte": (2049, 60000, "65a50cbbf4e906d70832878ad85ccda5333a97f0f4c3dd2ef09a8a9eef7101c5"),
    "t10k-images-idx3-ubyte": (2051, 10000, "0fa7898d509279e482958e8ce81c8e77db3f2f8254e26661ceb7762c4d494ce7"),
    "t10k-labels-idx1-ubyte": (2049, 10000, "ff7bcfd416de33731a308c3f266cc351222c34898ecbeaf847f06e48f7ec33f2"),
}


def resolve_data_dir(data_dir: str | os.PathLike | None) -> Path:
    """``--data-dir`` if given, else ``$S6_DATA_DIR``, else ``./data``."""
    return Path(data_dir or os.environ.get("S6_DATA_DIR") or "data")


def raw_dir(root: Path) -> Path:
    """Where torchvision keeps MNIST under a root folder, and where s6 downloads it."""
    return Path(root) / "MNIST" / "raw"


def _expected_size(name: str, count: int) -> int:
    return 16 + count * 28 * 28 if "images" in name else 8 + count


def read_verified(path: Path) -> bytes:
    """One IDX file's bytes, after checking its header, size and SHA-256; S6Error names what is wrong."""
    magic, count, sha = MNIST_FILES[path.name]
    expected = _expected_size(path.name, count)
    try:
        data = path.read_bytes()
    except PermissionError:
        raise S6Error(f"cannot read {path}: permission denied") from None
    except OSError as e:
        raise S6Error(f"cannot read {path}: {e.strerror}") from None
    if len(data) < 8 or int.from_bytes(data[0:4], "big") != magic:
        raise S6Error(f"{path} is not an MNIST IDX file (wrong magic number; expected {magic})")
    if int.from_bytes(data[4:8], "big") != count:
        found = int.from_bytes(data[4:8], "big")
        raise S6Error(f"{path} holds {found} items in its header, expected {count}")
    if len(data) != expected:
        what = "truncated" if len(data) < expected else "too long"
        raise S6Error(f"{path} is {what}: {len(data)} bytes, expected {expected}")
    if hashlib.sha256(data).hexdigest() != sha:
        raise S6Error(f"{path} is corrupt: its SHA-256 differs from the canonical MNIST file")
    return data


def _places(root: Path) -> list[Path]:
    """Where the four files may be, given a data folder: torchvision's ROOT/MNIST/raw, ROOT/raw, or ROOT itself."""
    return [raw_dir(root), root / "raw", root]


def locate_mnist(root: str | os.PathLike) -> Path:
    """The folder under ``root`` that holds all four IDX files; S6Error when one holds only some of them.

    A user may point at the data root, at its MNIST/raw folder, or at a folder of the bare files:
    each works. A partial copy is an error naming the missing files, never a reason to download.
    """
    root = Path(root)
    if root.exists() and not root.is_dir():
        raise S6Error(f"data directory {root} is not a directory")
    if root.exists() and not os.access(root, os.R_OK | os.X_OK):
        raise S6Error(f"cannot read data directory {root}: permission denied")
    found = {place: [name for name in MNIST_FILES if (place / name).is_file()] for place in _places(root)}
    for place, names in found.items():
        if len(names) == len(MNIST_FILES):
            return place
    for place, names in found.items():
        if names:
            missing = ", ".join(name for name in MNIST_FILES if name not in names)
            raise S6Error(f"{place} holds {len(names)} of MNIST's 4 files; missing: {missing}")
    raise FileNotFoundError(root)


def _find_or_download(root: Path, download: bool) -> Path:
    """The folder holding the four MNIST files (unverified), downloading them into ROOT/MNIST/raw if none are there."""
    try:
        return locate_mnist(root)
    except FileNotFoundError:
        if not download:
            raise S6Error(
                f"MNIST not found in {root} (looked in {raw_dir(root)}, {root / 'raw'} and {root}); "
                f"place the four IDX files ({', '.join(MNIST_FILES)}) in {raw_dir(root)}"
            ) from None
        _download(root)
        return raw_dir(root)


def mnist_folder(root: str | os.PathLike, download: bool = True) -> Path:
    """The folder holding the four verified MNIST files, downloading them into ROOT/MNIST/raw if none are there.

    A failed download leaves nothing behind: folders it created are removed again.
    """
    folder = _find_or_download(Path(root), download)
    for name in MNIST_FILES:
        read_verified(folder / name)
    return folder


def torchvision_module(name: str):
    """``torchvision.<name>``, or S6Error when torchvision cannot be imported: missing, or built for another torch
    (a CPU torch beside a CUDA torchvision fails inside its import with a RuntimeError)."""
    import importlib

    try:
        return importlib.import_module(f"torchvision.{name}")
    except Exception as e:  # ImportError, or the RuntimeError/OSError of a torchvision that does not match torch
        why = (str(e).splitlines() or [""])[0]
        raise S6Error(f"torchvision cannot be imported ({type(e).__name__}: {why}); install torch and torchvision "
                      "from the same source (pip install -r requirements.txt), or give --data-dir a folder that "
                      "holds the four MNIST files") from None


def _download(root: Path) -> None:
    MNIST = torchvision_module("datasets").MNIST

    created = [p for p in [raw_dir(root), *raw_dir(root).parents] if not p.exists()]  # innermost first
    try:
        MNIST(str(root), train=True, download=True)
        MNIST(str(root), train=False, download=True)
    except Exception as e:  # any network or mirror failure: urllib, HTTP 403, timeout
        if created:
            shutil.rmtree(created[-1], ignore_errors=True)  # the outermost folder this attempt made
        reason = str(e).strip().splitlines()[-1] if str(e).strip() else type(e).__name__
        raise S6Error(
            f"could not download MNIST into {raw_dir(root)} ({reason}), and {root} holds none of its files; "
            f"put the four IDX files ({', '.join(MNIST_FILES)}) in {raw_dir(root)}, "
            "or point --data-dir (or $S6_DATA_DIR) at the folder that holds them"
        ) from None


@dataclass
class MNISTTensors:
    """The whole of MNIST as uint8 images (N, 28, 28) and int64 labels (N,)."""

    train_images: torch.Tensor
    train_labels: torch.Tensor
    test_images: torch.Tensor
    test_labels: torch.Tensor


def _images(data: bytes) -> torch.Tensor:
    """IDX image file -> uint8 (N, 28, 28): a 16-byte header, then one byte a pixel."""
    return torch.frombuffer(bytearray(data[16:]), dtype=torch.uint8).reshape(-1, 28, 28)


def _labels(data: bytes) -> torch.Tensor:
    """IDX label file -> int64 (N,): an 8-byte header, then one byte a label."""
    return torch.frombuffer(bytearray(data[8:]), dtype=torch.uint8).long()


def load_mnist(root: str | os.PathLike, download: bool = True) -> MNISTTensors:
    """Find (downloading if needed), verify and read MNIST; each file is read once."""
    folder = _find_or_download(Path(root), download)
    data = {name: read_verified(folder / name) for name in MNIST_FILES}
    return MNISTTensors(
        _images(data["train-images-idx3-ubyte"]), _labels(data["train-labels-idx1-ubyte"]),
        _images(data["t10k-images-idx3-ubyte"]), _labels(data["t10k-labels-idx1-ubyte"]),
    )


def normalise(images: torch.Tensor) -> torch.Tensor:
    """uint8 (N, 28, 28) -> float32 (N, 1, 28, 28) with MNIST's mean and std."""
    return (images.unsqueeze(1).float() / 255.0 - MNIST_MEAN) / MNIST_STD


# The training images' jitter: how far (a recipe's Augment), in which epochs (AugmentSchedule), and the move itself.


@dataclass(frozen=True)
class AugmentSchedule:
    """A run's augmentation, epoch by epoch: ``augment`` in every epoch before ``clean_from``, none from that epoch
    on (a recipe's clean last epochs, which train on the digits as the test set shows them). The training loaders
    read it for the epoch they are told."""

    augment: Augment | None  # None: no epoch is jittered
    clean_from: int | None = None  # the first epoch (1-based) trained on the images as they are; None: none is

    def of(self, epoch: int) -> Augment | None:
        """The jitter epoch ``epoch`` trains with."""
        return self.augment if self.clean_from is None or epoch < self.clean_from else None


def augment_schedule(recipe: Recipe, epochs: int) -> AugmentSchedule:
    """The augmentation of a run of ``epochs``: the recipe's ``augment`` in every epoch but the last
    ``clean_epochs``."""
    return AugmentSchedule(recipe.augment, epochs - recipe.clean_epochs + 1 if recipe.clean_epochs else None)



def random_affine(x: torch.Tensor, augment: Augment, generator: torch.Generator) -> torch.Tensor:
    """Rotate, shift and zoom every image of a normalised batch by its own random amount, up to ``augment``'s."""
    import torch.nn.functional as F

    draws = torch.rand(4, x.shape[0], generator=generator, device=x.device) * 2 - 1  # uniform in [-1, 1)
    angle = draws[0] * math.radians(augment.degrees)
    zoom = 1 + draws[1] * augment.scale
    shift_x = draws[2] * (2 * augment.translate)  # affine_grid spans [-1, 1]: 2 units per side
    shift_y = draws[3] * (2 * augment.translate)
    cos = torch.cos(angle) / zoom
    sin = torch.sin(angle) / zoom
    theta = torch.stack(
        [torch.stack([cos, -sin, shift_x], 1), torch.stack([sin, cos, shift_y], 1)], 1
    )
    grid = affine_grid(theta, x.shape[-2], x.shape[-1])
    background = -MNIST_MEAN / MNIST_STD  # a black pixel after normalisation
    moved = F.grid_sample(x - background, grid, mode="bilinear", padding_mode="zeros", align_corners=False)
    return moved + background


def affine_grid(theta: torch.Tensor, height: int, width: int) -> torch.Tensor:
    """``F.affine_grid(theta, (N, C, height, width), align_corners=False)``, bit for bit, in half its time: the
    pixel centres' grid is built once per size instead of once per batch (1.2 ms a batch of 128 on the AVX2 EPYC,
    a tenth of an epoch's augmentation; benchmarks/profile_run.py)."""
    n = theta.shape[0]
    base = pixel_centres(height, width, theta.dtype, theta.device)
    return base.view(1, height * width, 3).expand(n, -1, -1).bmm(theta.transpose(1, 2)).view(n, height, width, 2)


@cache
def pixel_centres(height: int, width: int, dtype: torch.dtype, device: torch.device) -> torch.Tensor:
    """(height, width, 3): each pixel centre's (x, y, 1) in affine_grid's [-1, 1] coordinates, computed as ATen's
    affine_grid_generator computes them (linspace, then scaled by (size - 1) / size), so the grids are equal."""

    def centres(size: int) -> torch.Tensor:
        if size == 1:
            return torch.zeros(1, dtype=dtype, device=device)
        return torch.linspace(-1, 1, size, dtype=dtype, device=device) * (size - 1) / size

    base = torch.empty(height, width, 3, dtype=dtype, device=device)
    base[..., 0] = centres(width)
    base[..., 1] = centres(height).unsqueeze(-1)
    base[..., 2] = 1
    return base


class TensorLoader:
    """Batches of a dataset that lives in one tensor on the training device.

    Shuffles with ``torch.randperm`` and augments each batch as one tensor op, as ``jitter`` schedules it for the
    epoch ``set_epoch`` names; its generator makes the order and the augmentation repeatable under a seed.
    """

    def __init__(
        self,
        images: torch.Tensor,
        labels: torch.Tensor,
        batch_size: int,
        device: torch.device | str = "cpu",
        shuffle: bool = False,
        jitter: AugmentSchedule | None = None,
        seed: int = 0,
    ) -> None:
        self.device = torch.device(device)
        self.images = normalise(images).to(self.device) if images.dtype == torch.uint8 else images.to(self.device)
        self.labels = labels.to(self.device)
        self.batch_size = batch_size
        self.shuffle = shuffle
        self.jitter = jitter or AugmentSchedule(None)
        self.epoch = 1  # the epoch the next pass serves
        self.generator = torch.Generator(device=self.device)
        self.generator.manual_seed(seed)

    def __len__(self) -> int:
        return math.ceil(len(self.labels) / self.batch_size)

    def set_epoch(self, epoch: int) -> None:
        """The next pass serves epoch ``epoch`` (1-based) of the run, jittered as the schedule has it."""
        self.epoch = epoch

    def __iter__(self) -> Iterator[tuple[torch.Tensor, torch.Tensor]]:
        augment = self.jitter.of(self.epoch)
        n = len(self.labels)
        if self.shuffle:
            order = torch.randperm(n, generator=self.generator, device=self.device)
        else:
            order = torch.arange(n, device=self.device)
        for start in range(0, n, self.batch_size):
            index = order[start : start + self.batch_size]
            x = self.images[index]
            if augment is not None:
                x = random_affine(x, augment, self.generator)
            yield x, self.labels[index]


TEST_BATCH = 500  # images per evaluation batch, in both pipelines: evaluation needs no gradients, so big batches


def tensor_loaders(
    mnist: MNISTTensors,
    batch_size: int,
    jitter: AugmentSchedule | None,
    device: torch.device | str,
    seed: int,
    train_subset: int | None = None,
    test_batch_size: int = TEST_BATCH,
    validation: int | None = None,
) -> tuple[TensorLoader, TensorLoader]:
    """Training (shuffled, jittered as ``jitter`` schedules each epoch) and evaluation loaders held on ``device``.

    ``validation=N`` holds out the last N training images: the model trains on the ones before them and is
    evaluated on them, and the test set is not read at all. That is how a design is chosen without ever looking
    at the test set, which is kept for reporting the design once chosen.
    """
    train_images, train_labels = mnist.train_images, mnist.train_labels
    scored_images, scored_labels = mnist.test_images, mnist.test_labels
    if validation:
        cut = len(train_labels) - validation
        train_images, train_labels = train_images[:cut], train_labels[:cut]
        scored_images, scored_labels = mnist.train_images[cut:], mnist.train_labels[cut:]
    n = train_subset or len(train_labels)
    train = TensorLoader(train_images[:n], train_labels[:n], batch_size, device, shuffle=True, jitter=jitter,
                         seed=seed)
    return train, TensorLoader(scored_images, scored_labels, test_batch_size, device)


class TorchvisionTrainLoader:
    """The textbook pipeline's training batches with the tensor loader's interface (``set_epoch``, ``generator``):
    a DataLoader whose PIL transforms jitter each image, and one that does not, for the epochs the schedule leaves
    clean. Two, because a DataLoader's persistent workers keep the transforms they started with; both shuffle with
    the one generator, so the order is the same whichever serves an epoch."""

    def __init__(self, jittered: torch.utils.data.DataLoader, clean: torch.utils.data.DataLoader,
                 jitter: AugmentSchedule) -> None:
        self.jittered, self.clean, self.jitter, self.generator = jittered, clean, jitter, jittered.generator
        self.epoch = 1  # the epoch the next pass serves

    def __len__(self) -> int:
        return len(self.jittered)

    def set_epoch(self, epoch: int) -> None:
        """The next pass serves epoch ``epoch`` (1-based) of the run, jittered as the schedule has it."""
        self.epoch = epoch

    def __iter__(self) -> Iterator[tuple[torch.Tensor, torch.Tensor]]:
        return iter(self.jittered if self.jitter.of(self.epoch) is not None else self.clean)


def torchvision_loaders(
    root: str | os.PathLike,
    batch_size: int,
    jitter: AugmentSchedule | None,
    seed: int,
    train_subset: int | None = None,
    num_workers: int = 2,
    test_batch_size: int = TEST_BATCH,
    validation: int | None = None,
) -> tuple[TorchvisionTrainLoader, torch.utils.data.DataLoader]:
    """The textbook pipeline: torchvision MNIST, per-image PIL transforms, a DataLoader; ``validation`` as in
    ``tensor_loaders``."""
    from torch.utils.data import DataLoader, Subset

    datasets, transforms = torchvision_module("datasets"), torchvision_module("transforms")

    folder = mnist_folder(root)
    if folder.parts[-2:] != ("MNIST", "raw"):
        raise S6Error(f"--loader torchvision reads ROOT/MNIST/raw/, but the files are in {folder}: "
                      "move them into a folder MNIST/raw, or use the default loader")
    root = folder.parent.parent
    to_tensor = [transforms.ToTensor(), transforms.Normalize((MNIST_MEAN,), (MNIST_STD,))]
    jitter = jitter or AugmentSchedule(None)
    augment = jitter.augment
    moved = []
    if augment is not None:
        moved = [
            transforms.RandomAffine(
                degrees=augment.degrees,
                translate=(augment.translate, augment.translate),
                scale=(1 - augment.scale, 1 + augment.scale),
            )
        ]

    def training_images(transform: list) -> datasets.MNIST:
        return datasets.MNIST(str(root), train=True, transform=transforms.Compose(transform))

    test_set = datasets.MNIST(str(root), train=False, transform=transforms.Compose(to_tensor))
    cut = TRAIN_IMAGES - (validation or 0)
    if validation:
        test_set = Subset(training_images(to_tensor), range(cut, TRAIN_IMAGES))
    generator = torch.Generator().manual_seed(seed)
    jittered, clean = (DataLoader(Subset(training_images(transform), range(train_subset or cut)),
                                   batch_size=batch_size, shuffle=True, num_workers=num_workers, generator=generator,
                                   persistent_workers=num_workers > 0)
                        for transform in (moved + to_tensor, to_tensor))
    test = DataLoader(test_set, batch_size=test_batch_size, num_workers=num_workers)
    return TorchvisionTrainLoader(jittered, clean, jitter), test
