"""Classify your own digit images with a trained checkpoint: which checkpoint, and what it reads.

``s6.inference.digits`` turns an image into MNIST-like 28x28 digits (a photo of paper included); a ``Classifier``
loads a checkpoint and gives each digit's class probabilities. ``python -m s6 predict`` and the demo page both
read through one ``Classifier``, so they never differ.
"""

from __future__ import annotations

import os
from pathlib import Path

import torch
from PIL import Image

from s6 import S6Error
from s6.inference.digits import to_mnist_digits
from s6.inference.shipped import SHIPPED, default_checkpoint
from s6.models.registry import REGISTRY, build_model
from s6.training.checkpoint import load_checkpoint
from s6.training.train import scored_on


def load_classifier(path: str | os.PathLike) -> tuple[torch.nn.Module, dict]:
    """The model of a checkpoint, in eval mode, and the checkpoint itself."""
    checkpoint = load_checkpoint(path)
    name = checkpoint["model"]
    if name not in REGISTRY:
        raise S6Error(f"{path} holds a {name!r} model, which this s6 does not know ({', '.join(REGISTRY)})")
    model = build_model(name)
    try:
        model.load_state_dict(checkpoint["state_dict"])
    except RuntimeError:
        raise S6Error(f"{path}: its weights do not fit {name}'s layers (saved by another model or version)") from None
    return model.eval(), checkpoint


@torch.inference_mode()
def classify(model: torch.nn.Module, digits: torch.Tensor, mean: float, std: float) -> torch.Tensor:
    """Class probabilities (N, 10) for digits (N, 28, 28) in [0, 1]."""
    return model(((digits - mean) / std).unsqueeze(1)).softmax(1)


class Classifier:
    """A checkpoint ready to read digits: what ``predict`` and the demo page both use, so they never differ."""

    def __init__(self, path: str | os.PathLike | None = None) -> None:
        self.path = Path(path) if path else default_checkpoint()
        self.model, self.checkpoint = load_classifier(self.path)
        self.mean, self.std = self.checkpoint["normalisation"]["mean"], self.checkpoint["normalisation"]["std"]

    def __call__(self, image: Image.Image, name: str = "image") -> tuple[torch.Tensor, torch.Tensor]:
        """For each digit in a grayscale image, left to right: (probabilities (N, 10), the 28x28 digits the
        model received (N, 28, 28)). N is 1 for an image of one digit."""
        digits = torch.stack(to_mnist_digits(image, name))
        return classify(self.model, digits, self.mean, self.std), digits

    def read_number(self, image: Image.Image) -> str:
        """The number predict prints for an image, or "" where it finds no digit: what benchmarks score."""
        try:
            probabilities, _ = self(image)
        except S6Error:
            return ""
        return number_of(probabilities)

    def describe(self) -> str:
        """Which model this is and how well it did: said before predicting, so a smoke run is never mistaken."""
        plan, epochs = self.checkpoint["plan"], self.checkpoint["metrics"]["epochs"]
        subset = f", {plan['train_subset']:,} training images" if plan.get("train_subset") else ""
        where = "the weights shipped with s6" if self.path == SHIPPED else str(self.path)
        split = scored_on(plan.get("validation"))  # a checkpoint older than --validation has no such setting
        what = "test" if split == "test" else f"validation ({plan['validation']:,} held-out training images)"
        return (f"{where}: {self.checkpoint['model']}, seed {plan['seed']}, epoch {len(epochs)} of "
                f"{plan['epochs']}{subset}; its {what} accuracy {epochs[-1][split + '_acc']:.2f}%")


def number_of(probabilities: torch.Tensor) -> str:
    """The number that digits' probabilities (N, 10), left to right, spell: the likeliest class of each."""
    return "".join(str(int(d)) for d in probabilities.argmax(1))


def format_prediction(name: str, probabilities: torch.Tensor, top: int = 1) -> str:
    """One digit (probabilities (1, 10)): ``my7.png: 7 (98.6%)``, with the next guesses after it when top > 1.
    Several: ``two.png: 72, digit by digit: 7 (>99.9%) · 2 (>99.9%)`` (README's example, the shipped weights)."""
    guesses = []
    for row in probabilities:
        values, digits = row.topk(top)
        guesses.append(", ".join(f"{int(d)} ({_percent(float(v))})" for v, d in zip(values, digits)))
    if len(guesses) == 1:
        return f"{name}: {guesses[0]}"
    return f"{name}: {number_of(probabilities)}, digit by digit: {' · '.join(guesses)}"


def _percent(p: float) -> str:
    """98.6%; below 0.1% as <0.1% and above 99.9% as >99.9%, rather than a misleading 0.0% or 100.0%."""
    if p < 0.001:
        return "<0.1%"
    if p > 0.999:
        return ">99.9%"
    return f"{100 * p:.1f}%"
