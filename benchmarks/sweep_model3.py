"""How Model-3 was chosen: candidate designs under 4,000 parameters, each trained on 8 seeds at once.

The trick (for a GPU): N copies of one design become ONE network whose convolutions have
groups=N. Copy i reads channel i of the input, its own shuffled and augmented batch; BatchNorm,
ReLU, Dropout and pooling act per channel, so the copies never mix; the loss is the sum of the
copies' losses, so each copy's gradient is exactly its own. One GPU pass trains N independent
models: 21 designs x 8 seeds took about 20 minutes of one H100, three or four designs at a time.

A design is a string, short for a network of the screens' blocks (blocks.py): ``cK`` is a ``conv_bn`` to K channels
(3x3 convolution + BatchNorm + ReLU), ``sK`` the same made separable (``separable_bn``: 3x3 per channel, then 1x1
to K), a trailing ``p`` pads that block (the map keeps its size), ``m`` the 2x2 max-pool. Every design
ends in global average pooling and a 1x1 convolution to 10 classes; ``grouped`` then makes N copies of it. The
sweep reports the FINAL-epoch test accuracy of every copy; nothing is picked by epoch.

    python benchmarks/sweep_model3.py --data-dir DIR --device cuda [--designs NAME ...] [--copies 8] [--dry-run]
"""

from __future__ import annotations

import argparse
import json
import math
import time
from collections import OrderedDict
from dataclasses import asdict, dataclass, replace
from pathlib import Path

import torch
import torch.nn.functional as F
from blocks import conv_bn, separable_bn
from torch import nn

from s6 import save_json
from s6.device import describe_device, resolve_device
from s6.models.recipe import Augment, Recipe
from s6.models.summary import count_parameters
from s6.training.data import load_mnist, normalise, random_affine, resolve_data_dir
from s6.training.train import make_optimizer

ROOT = Path(__file__).resolve().parent.parent


BASE = Recipe(epochs=20, batch_size=64, max_lr=0.2, warmup=0.2, start_div=10.0, end_div=100.0, anneal="linear",
              momentum=(0.85, 0.95), nesterov=True, weight_decay=5e-5,
              augment=Augment(degrees=7.0, translate=0.1, scale=0.1), clean_epochs=0, tail_epochs=0,
              ema=None)  # Model-3's recipe in the first sweep


@dataclass(frozen=True)
class Candidate:
    design: str  # blocks, see the module docstring
    recipe: Recipe = replace(BASE, epochs=19)  # Model-3's of 2026-11: the exercise's rule is fewer than 20 epochs
    dropout: float = 0.0  # after every block that follows the max-pool
    label_smoothing: float = 0.0  # of the cross-entropy targets


OLD = "c6 c10 m c10 c12 c10"  # Model-3 before the first sweep
SEP = "c10 s20 m s24 s24 s24 s24p"  # Model-3 after it, until 2026-12 (3,918 parameters; tests/test_models.py)
MILD = replace(BASE, augment=Augment(degrees=5.0, translate=0.05, scale=0.05))
CANDIDATES = {
    "old-model3": Candidate(OLD, replace(BASE, epochs=19), dropout=0.03),
    "old-model3-20ep": Candidate(OLD, BASE),
    "old-model3-smooth": Candidate(OLD, BASE, dropout=0.03, label_smoothing=0.1),
    "old-model3-b32": Candidate(OLD, replace(BASE, batch_size=32, max_lr=0.1), dropout=0.03),
    "old-model3-b128": Candidate(OLD, replace(BASE, batch_size=128, max_lr=0.3), dropout=0.03),
    "wider-late": Candidate("c8 c8 m c10 c12 c12p", BASE, dropout=0.03),
    "deeper": Candidate("c6 c8 m c8 c10 c10 c10p", BASE, dropout=0.03),
    "sep20": Candidate("c8 c12 m s20 s20 s20 s20p", BASE, dropout=0.03),
    "sep22": Candidate("c8 c12 m s22 s22 s22 s22p", BASE),
    "sep22-wd1e-4": Candidate("c8 c12 m s22 s22 s22 s22p", replace(BASE, weight_decay=1e-4)),
    "sep22-lr0.4": Candidate("c8 c12 m s22 s22 s22 s22p", replace(BASE, max_lr=0.4)),
    "sep22-mild": Candidate("c8 c12 m s22 s22 s22 s22p", MILD),
    "sep22-b128": Candidate("c8 c12 m s22 s22 s22 s22p", replace(BASE, batch_size=128, max_lr=0.3)),
    "sep28x3": Candidate("c8 c12 m s28 s28 s28", BASE),
    "c16-sep20": Candidate("c8 c16 m s20 s20 s20 s20p", BASE),
    "sep16-sep24": Candidate("c8 s16 m s24 s24 s24 s24p", BASE),
    "sep20-sep24": Candidate(SEP, BASE),
    "sep20-sep24-mild": Candidate(SEP, MILD),
    "c12-sep24-sep22-mild": Candidate("c12 s24 m s22 s22 s22 s22p", MILD),
    "c16-sep24-sep22": Candidate("c16 s24 m s22 s22 s22 s22p", BASE),
    "c16-sep24-sep22-mild": Candidate("c16 s24 m s22 s22 s22 s22p", MILD),
    "model3-19ep": Candidate(SEP),  # Model-3 of 2026-11: the exercise's rule is fewer than 20 epochs
}


def network_of(design: str, dropout: float) -> nn.Sequential:
    """The network a design string names; ``dropout`` after each block past the pool."""
    layers: dict[str, nn.Module] = {}
    c_in, pooled = 1, False
    for block in design.split():
        if block == "m":
            layers["pool"], pooled = nn.MaxPool2d(2), True
            continue
        kind, width, pad = block[0], int(block[1:].rstrip("p")), int(block.endswith("p"))
        make = separable_bn if kind == "s" else conv_bn
        layers[f"block{len(layers) + 1 - pooled}"] = make(c_in, width, pad, dropout=dropout if pooled else 0.0)
        c_in = width
    return nn.Sequential(OrderedDict({**layers, "gap": nn.AdaptiveAvgPool2d(1), "head": nn.Conv2d(c_in, 10, 1),
                                      "flatten": nn.Flatten()}))


def grouped(module: nn.Module, copies: int) -> nn.Module:
    """``copies`` independent instances of ``module`` side by side as one network, in place.

    Every convolution gets ``copies`` times the channels and the groups, every BatchNorm the channels: copy i owns
    the i-th slice of every layer and never sees another's. ReLU, Dropout and pooling already act per channel.
    """
    for name, child in module.named_children():
        if isinstance(child, nn.Conv2d):
            setattr(module, name, nn.Conv2d(child.in_channels * copies, child.out_channels * copies, child.kernel_size,
                                            padding=child.padding, groups=child.groups * copies,
                                            bias=child.bias is not None))
        elif isinstance(child, nn.BatchNorm2d):
            setattr(module, name, nn.BatchNorm2d(child.num_features * copies))
        else:
            grouped(child, copies)
    return module


def build(design: str, copies: int, dropout: float) -> tuple[nn.Module, int]:
    """``copies`` independent instances of ``design`` as one grouped network; parameters of one copy."""
    model = network_of(design, dropout)
    params = count_parameters(model)
    return grouped(model, copies), params


def sweep(name: str, candidate: Candidate, copies: int, mnist, device: torch.device,
          train_subset: int | None = None) -> dict:
    """Train ``copies`` copies of one candidate; final-epoch test accuracy of each."""
    torch.manual_seed(1000 + 1)
    model, params = build(candidate.design, copies, candidate.dropout)
    model = model.to(device)
    images = normalise(mnist.train_images[:train_subset]).to(device)
    labels = mnist.train_labels[:train_subset].to(device)
    test_x, test_y = normalise(mnist.test_images).to(device), mnist.test_labels.to(device)
    generator = torch.Generator(device=device)
    generator.manual_seed(7919)
    recipe, n = candidate.recipe, len(labels)
    optimizer = make_optimizer(model, recipe, math.ceil(n / recipe.batch_size), recipe.epochs)
    start = time.perf_counter()
    for _ in range(recipe.epochs):
        model.train()
        orders = torch.stack([torch.randperm(n, device=device, generator=generator) for _ in range(copies)])
        for first in range(0, n, recipe.batch_size):
            index = orders[:, first : first + recipe.batch_size]  # (copies, batch): each copy its own images
            batch = index.shape[1]
            x = images[index.reshape(-1)]
            if recipe.augment is not None:
                x = random_affine(x, recipe.augment, generator)
            x = x.view(copies, batch, 28, 28).transpose(0, 1)  # copy i reads channel i
            y = labels[index].T.reshape(-1)
            logits = model(x).view(batch * copies, 10)
            loss = F.cross_entropy(logits, y, reduction="sum", label_smoothing=candidate.label_smoothing) / batch
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
    model.eval()
    correct = torch.zeros(copies, device=device)
    with torch.inference_mode():
        for first in range(0, len(test_y), 1000):
            x = test_x[first : first + 1000].expand(-1, copies, -1, -1)
            predictions = model(x).view(-1, copies, 10).argmax(-1)
            correct += (predictions == test_y[first : first + 1000, None]).sum(0)
    final = [round(a, 2) for a in (100 * correct / len(test_y)).tolist()]
    return {"name": name, "device": describe_device(device), "copies": copies, "design": candidate.design,
            "params": params, "epochs": recipe.epochs,
            "batch_size": recipe.batch_size, "max_lr": recipe.max_lr, "weight_decay": recipe.weight_decay,
            "dropout": candidate.dropout, "label_smoothing": candidate.label_smoothing,
            "augment": asdict(recipe.augment) if recipe.augment else None,
            "final_test_acc": final, "mean": round(sum(final) / copies, 3), "min": min(final),
            "seconds": round(time.perf_counter() - start, 1)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data-dir", default=None, help="MNIST root (default: $S6_DATA_DIR, else ./data)")
    parser.add_argument("--device", choices=["cpu", "cuda"], default=None, help="default: cuda if available")
    parser.add_argument("--designs", nargs="+", choices=list(CANDIDATES), default=list(CANDIDATES))
    parser.add_argument("--copies", type=int, default=8, help="independent copies (seeds) of each design")
    parser.add_argument("--out", default=str(ROOT / "results" / "model3_sweep.json"),
                        help="JSON file; a design's row there is replaced, the other rows are kept")
    parser.add_argument("--dry-run", action="store_true",
                        help="check the machinery: 1 epoch on 2,000 images, nothing written")
    args = parser.parse_args()

    device = resolve_device(args.device)
    mnist = load_mnist(resolve_data_dir(args.data_dir))
    out = Path(args.out)
    results = json.loads(out.read_text()) if out.exists() else {"designs": []}
    for name in args.designs:
        candidate = CANDIDATES[name]
        if args.dry_run:
            candidate = replace(candidate, recipe=replace(candidate.recipe, epochs=1))
        row = sweep(name, candidate, args.copies, mnist, device, 2000 if args.dry_run else None)
        if not args.dry_run:
            results["designs"] = [r for r in results["designs"] if r["name"] != name] + [row]
            save_json(out, results)
        print(f"{name:<22} {row['params']:>5} params  mean {row['mean']:.2f}%  min {row['min']:.2f}%  "
              f"{' '.join(f'{a:.2f}' for a in row['final_test_acc'])}  {row['seconds']:.0f} s", flush=True)


if __name__ == "__main__":
    main()
