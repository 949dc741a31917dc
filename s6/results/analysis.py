"""What a trained model gets wrong: predictions, confusion matrix, per-class accuracy."""

from __future__ import annotations

from collections.abc import Iterable

import torch
from torch import nn


@torch.inference_mode()
def labels_and_predictions(
    model: nn.Module, loader: Iterable[tuple[torch.Tensor, torch.Tensor]], device: torch.device | str = "cpu"
) -> tuple[torch.Tensor, torch.Tensor]:
    """(true labels, predicted labels) for every image of ``loader``, in order, on the CPU."""
    model.eval()
    labels, predictions = [], []
    for x, y in loader:
        predictions.append(model(x.to(device)).argmax(1).cpu())
        labels.append(y.cpu())
    return torch.cat(labels), torch.cat(predictions)


def confusion_matrix(labels: torch.Tensor, predictions: torch.Tensor, classes: int = 10) -> torch.Tensor:
    """counts[true, predicted]."""
    return torch.bincount(labels * classes + predictions, minlength=classes * classes).reshape(classes, classes)


def per_class_accuracy(counts: torch.Tensor) -> list[float]:
    """Accuracy in percent for each true class, from a confusion matrix."""
    return (100.0 * counts.diag() / counts.sum(1)).tolist()


def misclassified(labels: torch.Tensor, predictions: torch.Tensor) -> torch.Tensor:
    """Indices of the wrongly predicted images."""
    return (labels != predictions).nonzero().flatten()


def mistakes(counts: torch.Tensor) -> torch.Tensor:
    """A confusion matrix without its diagonal: only the images read wrong."""
    return counts.clone().fill_diagonal_(0)


def top_confusions(counts: torch.Tensor, k: int = 3) -> list[tuple[int, int, int]]:
    """The ``k`` commonest mistakes as (true digit, predicted digit, count), commonest first (ties: lower digits)."""
    wrong = mistakes(counts).flatten()
    order = sorted(range(len(wrong)), key=lambda i: (-int(wrong[i]), i))[:k]
    classes = counts.shape[0]
    return [(i // classes, i % classes, int(wrong[i])) for i in order if wrong[i] > 0]
