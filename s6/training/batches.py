"""Batches for training and testing, from MNIST's tensors (s6.training.mnist).

Two ways to feed a model:

* ``TensorLoader`` (the default) keeps the whole dataset as one normalised tensor on the
  training device, shuffles with ``torch.randperm`` and augments whole batches at once
  with ``affine_grid``/``grid_sample`` (``s6.models.augment.random_affine``). No per-image Python work, no
  worker processes.
* ``torchvision_loaders`` is the textbook ``DataLoader`` + PIL-transform pipeline, kept
  for comparison and teaching (``--loader torchvision``).
"""

from __future__ import annotations

import math
import os
from collections.abc import Iterator

import torch

from s6 import S6Error
from s6.models import MNIST_MEAN, MNIST_STD
from s6.models.augment import Augment, random_affine
from s6.training.mnist import MNISTTensors, mnist_folder, torchvision_module
from s6.training.plan import TRAIN_IMAGES


def normalise(images: torch.Tensor) -> torch.Tensor:
    """uint8 (N, 28, 28) -> float32 (N, 1, 28, 28) with MNIST's mean and std."""
    return (images.unsqueeze(1).float() / 255.0 - MNIST_MEAN) / MNIST_STD


class TensorLoader:
    """Batches of a dataset that lives in one tensor on the training device.

    Shuffles with ``torch.randperm`` and augments each batch as one tensor op; its
    generator makes the order and the augmentation repeatable under a seed.
    """

    def __init__(
        self,
        images: torch.Tensor,
        labels: torch.Tensor,
        batch_size: int,
        device: torch.device | str = "cpu",
        shuffle: bool = False,
        augment: Augment | None = None,
        seed: int = 0,
    ) -> None:
        self.device = torch.device(device)
        self.images = normalise(images).to(self.device) if images.dtype == torch.uint8 else images.to(self.device)
        self.labels = labels.to(self.device)
        self.batch_size = batch_size
        self.shuffle = shuffle
        self.augment = augment
        self.generator = torch.Generator(device=self.device)
        self.generator.manual_seed(seed)

    def __len__(self) -> int:
        return math.ceil(len(self.labels) / self.batch_size)

    def __iter__(self) -> Iterator[tuple[torch.Tensor, torch.Tensor]]:
        n = len(self.labels)
        if self.shuffle:
            order = torch.randperm(n, generator=self.generator, device=self.device)
        else:
            order = torch.arange(n, device=self.device)
        for start in range(0, n, self.batch_size):
            index = order[start : start + self.batch_size]
            x = self.images[index]
            if self.augment is not None:
                x = random_affine(x, self.augment, self.generator)
            yield x, self.labels[index]


TEST_BATCH = 500  # images per evaluation batch, in both pipelines: evaluation needs no gradients, so big batches


def tensor_loaders(
    mnist: MNISTTensors,
    batch_size: int,
    augment: Augment | None,
    device: torch.device | str,
    seed: int,
    train_subset: int | None = None,
    test_batch_size: int = TEST_BATCH,
    validation: int | None = None,
) -> tuple[TensorLoader, TensorLoader]:
    """Training (shuffled, augmented) and evaluation loaders held on ``device``.

    ``validation=N`` holds out the last N training images: the model trains on the ones before them and is
    evaluated on them, and the test set is not read at all. That is how a design is chosen without ever looking
    at the test set, which is kept for reporting the design once chosen.
    """
    train_images, train_labels = mnist.train_images, mnist.train_labels
    held_out = mnist.test_images, mnist.test_labels
    if validation:
        cut = len(train_labels) - validation
        train_images, train_labels = train_images[:cut], train_labels[:cut]
        held_out = mnist.train_images[cut:], mnist.train_labels[cut:]
    n = train_subset or len(train_labels)
    train = TensorLoader(
        train_images[:n], train_labels[:n], batch_size, device,
        shuffle=True, augment=augment, seed=seed,
    )
    return train, TensorLoader(*held_out, test_batch_size, device)


class SwitchableLoader:
    """The textbook pipeline's training batches, augmented or as they are, with the tensor loader's interface:
    setting ``augment`` to None picks the un-augmented images (a recipe's clean last epochs), and ``generator``
    is the one random stream that shuffles both."""

    def __init__(self, augmented: torch.utils.data.DataLoader, clean: torch.utils.data.DataLoader,
                 augment: Augment | None) -> None:
        self.loaders, self.augment, self.generator = (augmented, clean), augment, augmented.generator

    def __len__(self) -> int:
        return len(self.loaders[0])

    def __iter__(self) -> Iterator[tuple[torch.Tensor, torch.Tensor]]:
        return iter(self.loaders[0] if self.augment is not None else self.loaders[1])


def torchvision_loaders(
    root: str | os.PathLike,
    batch_size: int,
    augment: Augment | None,
    seed: int,
    train_subset: int | None = None,
    num_workers: int = 2,
    test_batch_size: int = TEST_BATCH,
    validation: int | None = None,
) -> tuple[SwitchableLoader, torch.utils.data.DataLoader]:
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
    jitter = []
    if augment is not None:
        jitter = [
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
    augmented, clean = (DataLoader(Subset(training_images(transform), range(train_subset or cut)),
                                   batch_size=batch_size, shuffle=True, num_workers=num_workers, generator=generator,
                                   persistent_workers=num_workers > 0)
                        for transform in (jitter + to_tensor, to_tensor))
    test = DataLoader(test_set, batch_size=test_batch_size, num_workers=num_workers)
    return SwitchableLoader(augmented, clean, augment), test
