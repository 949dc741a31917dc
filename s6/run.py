"""One training run end to end: data, model, fixed schedule, metrics.json, checkpoint, curves.

The CLI, the notebook and the benchmarks all train through ``train_run``. After every epoch
it writes OUT/metrics.json and OUT/checkpoint.pt atomically; the checkpoint holds the whole
plan and every optimiser, scheduler and random state, so ``resume=OUT`` continues the same
schedule and ends with exactly the metrics of an uninterrupted run (same device).
"""

from __future__ import annotations

import os
import platform
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import torch
from torch import nn

from s6 import S6Error, TrainingInterrupted, __version__
from s6.checkpoint import CHECKPOINT_FORMAT, load_checkpoint, save_torch
from s6.data import (
    MNIST_MEAN,
    MNIST_STD,
    MNISTTensors,
    load_mnist,
    resolve_data_dir,
    tensor_loaders,
    torchvision_loaders,
)
from s6.files import save_json
from s6.models import build_model, check_model_name, count_parameters, recipe_for
from s6.plots import plot_history
from s6.train import fit, format_epoch, make_optimizer


def resolve_device(name: str | None) -> torch.device:
    """``cuda`` or ``cpu``; None picks CUDA when there is one."""
    if name is None:
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if name == "cuda" and not torch.cuda.is_available():
        raise S6Error("--device cuda: no CUDA GPU is available here; use --device cpu")
    if name not in ("cpu", "cuda"):
        raise S6Error(f"unknown device {name!r}; use cpu or cuda")
    return torch.device(name)


def describe_device(device: torch.device) -> str:
    """A human name for the hardware, stored in metrics.json and printed in tables."""
    if device.type == "cuda":
        return f"cuda: {torch.cuda.get_device_name(device)}"
    cpu = platform.processor() or platform.machine()
    try:
        with open("/proc/cpuinfo") as f:
            cpu = next(line.split(":", 1)[1].strip() for line in f if line.startswith("model name"))
    except (OSError, StopIteration):
        pass
    return f"cpu: {cpu}, {torch.get_num_threads()} threads"


@dataclass
class RunResult:
    model: nn.Module
    metrics: dict  # the content of metrics.json
    plan: dict  # model, seed, epochs (planned), train_subset, loader
    out: Path  # the folder holding metrics.json, checkpoint.pt and curves.png

    @property
    def final_test_acc(self) -> float:
        return self.metrics["epochs"][-1]["test_acc"]


def _plan_from(checkpoint: dict, requested: dict) -> dict:
    """The saved plan; any setting the caller asked for explicitly must agree with it."""
    plan = checkpoint["plan"]
    for key, value in requested.items():
        if value is not None and value != plan[key]:
            raise S6Error(f"--resume continues the saved plan ({key} = {plan[key]}); drop the {key} you gave ({value})")
    return plan


def train_run(
    model_name: str | None = None,
    seed: int | None = None,
    epochs: int | None = None,
    data_dir: str | os.PathLike | None = None,
    out: str | os.PathLike | None = None,
    train_subset: int | None = None,
    device: str | None = None,
    loader: str | None = None,
    progress: bool = True,
    log: Callable[[str], None] = print,
    mnist: MNISTTensors | None = None,
    stop_after: int | None = None,
    resume: str | os.PathLike | None = None,
) -> RunResult:
    """Train on a model's fixed schedule; write OUT/metrics.json, checkpoint.pt and curves.png.

    Defaults: model2, seed 1, the recipe's epochs, OUT = runs/MODEL (or the resumed folder).
    ``resume=DIR`` continues DIR/checkpoint.pt; ``mnist`` reuses tensors already loaded.
    """
    requested = {"model": model_name, "seed": seed, "epochs": epochs, "train_subset": train_subset, "loader": loader}
    checkpoint = load_checkpoint(resume) if resume is not None else None
    if checkpoint is not None:
        plan = _plan_from(checkpoint, requested)
        out = Path(out or (resume if Path(resume).is_dir() else Path(resume).parent))
    else:
        name = check_model_name(model_name or "model2")
        plan = {"model": name, "seed": 1 if seed is None else seed, "epochs": epochs or recipe_for(name).epochs,
                "train_subset": train_subset, "loader": loader or "tensor"}
        out = Path(out or Path("runs") / name)
    if plan["epochs"] <= 0:
        raise S6Error(f"epochs must be at least 1, got {plan['epochs']}")
    if plan["train_subset"] is not None and not 0 < plan["train_subset"] <= 60000:
        raise S6Error(f"--train-subset must be 1 to 60000 (MNIST's training images), got {plan['train_subset']}")
    if out.exists() and not out.is_dir():
        raise S6Error(f"--out {out} exists and is not a directory")
    recipe = recipe_for(plan["model"])
    dev = resolve_device(device)
    root = resolve_data_dir(data_dir)
    if plan["loader"] == "tensor":
        train_loader, test_loader = tensor_loaders(
            mnist or load_mnist(root), recipe.batch_size, recipe.augment, dev, plan["seed"], plan["train_subset"]
        )
    elif plan["loader"] == "torchvision":
        train_loader, test_loader = torchvision_loaders(
            root, recipe.batch_size, recipe.augment, plan["seed"], plan["train_subset"]
        )
    else:
        raise S6Error(f"unknown loader {plan['loader']!r}; use tensor or torchvision")

    torch.manual_seed(plan["seed"])
    model = build_model(plan["model"]).to(dev)
    optimizer, scheduler = make_optimizer(model, recipe, len(train_loader), plan["epochs"])
    metrics = {
        "model": plan["model"],
        "params": count_parameters(model),
        "seed": plan["seed"],
        "device": describe_device(dev),
        "epochs": [],
    }
    if checkpoint is not None:
        model.load_state_dict(checkpoint["state_dict"])
        optimizer.load_state_dict(checkpoint["optimizer"])
        scheduler.load_state_dict(checkpoint["scheduler"])
        torch.set_rng_state(checkpoint["rng"]["torch"])
        train_loader.generator.set_state(checkpoint["rng"]["loader"])
        if dev.type == "cuda" and checkpoint["rng"].get("cuda") is not None:
            torch.cuda.set_rng_state(checkpoint["rng"]["cuda"])
        metrics["epochs"] = checkpoint["metrics"]["epochs"]
        log(f"resuming {plan['model']} from epoch {len(metrics['epochs'])} of {plan['epochs']} ({out}/checkpoint.pt)")
    else:
        log(f"training {plan['model']} ({metrics['params']:,} parameters) for {plan['epochs']} epochs "
            f"on {metrics['device']}, seed {plan['seed']}; writing to {out}/")

    def on_epoch(history: list[dict]) -> None:
        metrics["epochs"] = history
        save_torch(out / "checkpoint.pt", {
            "format": CHECKPOINT_FORMAT,
            "version": __version__,
            "model": plan["model"],
            "params": metrics["params"],
            "normalisation": {"mean": MNIST_MEAN, "std": MNIST_STD},
            "plan": plan,
            "epoch": len(history),
            "state_dict": model.state_dict(),
            "optimizer": optimizer.state_dict(),
            "scheduler": scheduler.state_dict(),
            "rng": {
                "torch": torch.get_rng_state(),
                "loader": train_loader.generator.get_state(),
                "cuda": torch.cuda.get_rng_state() if dev.type == "cuda" else None,
            },
            "metrics": metrics,
        })
        save_json(out / "metrics.json", metrics)
        log(format_epoch(history[-1]))

    try:
        history = fit(model, optimizer, scheduler, train_loader, test_loader, dev, plan["epochs"],
                      history=metrics["epochs"], stop_after=stop_after, progress=progress, on_epoch=on_epoch)
    except KeyboardInterrupt:
        done = len(metrics["epochs"])
        raise TrainingInterrupted(
            f"interrupted; {done} of {plan['epochs']} epochs are saved in {out}/checkpoint.pt. "
            f"Continue with: python -m s6 train --resume {out}"
            if done else "interrupted before the first epoch ended; nothing was saved"
        ) from None
    except S6Error as e:
        if metrics["epochs"]:
            raise S6Error(f"{e}; epoch {len(metrics['epochs'])} is kept in {out}/checkpoint.pt") from None
        raise
    if len(history) == plan["epochs"]:
        plot_history(history, f"{plan['model']}, seed {plan['seed']}").savefig(out / "curves.png", dpi=100)
    return RunResult(model, metrics, plan, out)
