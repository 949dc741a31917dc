"""Screen Model-3 candidates on a CPU: each candidate, seed by seed, through the CLI's own train_run.

The protocol (docs/models.md): screen a candidate on 3-4 seeds, keep it only if its mean beats today's Model-3 by
a clear margin, then run it on 10 seeds through ``python -m s6 train`` (benchmarks/bench_seeds.py).

Why seed by seed and not sweep_model3.py's grouped copies: on a 2-core CPU, two single-thread runs side by side,
one a core, train the most seeds an hour (the timings that showed it: docs/models.md, "The CPU screen"), and each
is the seed a user would type.

A run here is ``train_run``'s, the CLI's own, with the candidate's spec, recipe and loss; for the registry's
``model3`` it ends with the CLI's own final accuracy.
Results go to results/model3_screen.json (one row per candidate and seed, rewritten after every run).

    OMP_NUM_THREADS=1 python benchmarks/screen_model3.py --candidates residual --seeds 1 2 3 4 --data-dir DIR
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import torch
import torch.nn.functional as F
from torch import nn

from s6.files import save_json
from s6.models.experimental import GroupedConvBN, ShortcutConvBN, changed, converted, layer_names
from s6.models.recipe import Recipe
from s6.models.registry import REGISTRY, recipe_for
from s6.models.spec import ConvBN, Spec
from s6.reading.predict import load_classifier
from s6.reading.shipped import SHIPPED
from s6.training.mnist import MNISTTensors, load_mnist, resolve_data_dir
from s6.training.plan import new_plan
from s6.training.provenance import provenance
from s6.training.run import train_run
from s6.training.train import Criterion

ROOT = Path(__file__).resolve().parent.parent


def distillation(teacher: nn.Module, temperature: float, weight: float) -> Criterion:
    """Hinton et al.'s loss: ``weight`` x T^2 x KL(teacher's softened scores || the student's) + the rest x CE.

    The teacher sees the same augmented batch as the student, in eval mode and without gradients; its soft labels
    say which wrong digits an image resembles, which a one-hot label cannot. Costs a teacher forward pass a step.
    """
    teacher.eval()

    def criterion(logits: torch.Tensor, x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        with torch.no_grad():
            soft = F.log_softmax(teacher(x) / temperature, dim=1)
        kl = F.kl_div(F.log_softmax(logits / temperature, dim=1), soft, reduction="batchmean", log_target=True)
        return weight * temperature**2 * kl + (1 - weight) * F.cross_entropy(logits, y)

    return criterion


@dataclass(frozen=True)
class Candidate:
    note: str  # what it changes, for the record
    spec: Spec = REGISTRY["model3"].spec  # the model, as the registry writes one (s6.models.net)
    recipe: Recipe = recipe_for("model3")  # how it trains: Model-3's own unless the candidate changes it
    criterion: Callable[[], Criterion] | None = None  # its loss; None: cross-entropy


MODEL3 = REGISTRY["model3"].spec
CANDIDATES = {
    "model3": Candidate("the registry's Model-3, as the CLI trains it"),
    "residual": Candidate("identity shortcuts around blocks 4-6 (centre-cropped where the map shrinks)",
                          converted(MODEL3, ["block4", "block5", "block6"], ShortcutConvBN)),
    "wide32g2": Candidate("blocks 3-6 32 wide, their 1x1 in 2 groups with a channel shuffle (ShuffleNet)",
                          converted(changed(MODEL3, layer_names(MODEL3, ConvBN, after="pool"), width=32),
                                    layer_names(MODEL3, ConvBN, after="pool"), GroupedConvBN, groups=2)),
    "distilled": Candidate("soft labels of the shipped Model-2 (T 4, weight 0.5) on the same augmented batch",
                           criterion=lambda: distillation(load_classifier(SHIPPED)[0], 4.0, 0.5)),
}


def screen(name: str, seed: int, mnist: MNISTTensors, out_dir: Path, dry_run: bool = False) -> dict:
    """One run of one candidate on one seed, through train_run (its files in ``out_dir``): its final-epoch test
    accuracy. ``dry_run``: 1 epoch on the first 2,000 images, as ``python -m s6 train --epochs 1 --train-subset
    2000``."""
    candidate = CANDIDATES[name]
    epochs, subset = (1, 2000) if dry_run else (candidate.recipe.epochs, None)
    criterion = candidate.criterion() if candidate.criterion else None  # before train_run seeds: a teacher loads
    start = time.perf_counter()
    result = train_run(new_plan("model3", seed=seed, epochs=epochs, train_subset=subset), out=out_dir, device="cpu",
                       overwrite=True, progress=False, log=lambda _: None, mnist=mnist, spec=candidate.spec,
                       recipe=candidate.recipe, criterion=criterion)
    return {"candidate": name, "note": candidate.note, "seed": seed, "params": result.metrics["params"],
            "epochs": len(result.metrics["epochs"]), "final_test_acc": result.final_test_acc,
            "seconds": round(time.perf_counter() - start, 1),
            "device": result.metrics["device"], **provenance(candidate.recipe)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--candidates", nargs="+", choices=list(CANDIDATES), required=True)
    parser.add_argument("--seeds", nargs="+", type=int, default=[1, 2, 3, 4])
    parser.add_argument("--data-dir", default=None, help="MNIST root (default: $S6_DATA_DIR, else ./data)")
    parser.add_argument("--out", default=str(ROOT / "results" / "model3_screen.json"),
                        help="JSON file; a candidate's row for a seed is replaced, other rows are kept")
    parser.add_argument("--dry-run", action="store_true", help="1 epoch on 2,000 images each, nothing written")
    args = parser.parse_args()

    out, mnist = Path(args.out), load_mnist(resolve_data_dir(args.data_dir))
    runs = tempfile.TemporaryDirectory(prefix="s6-screen-")  # each run's checkpoint: the record keeps its figures
    for name in args.candidates:
        for seed in args.seeds:
            row = screen(name, seed, mnist, Path(runs.name), args.dry_run)
            if args.dry_run:
                print(f"{name} seed {seed}: {row['final_test_acc']:.2f}% after a dry run ({row['seconds']:.0f} s)")
                continue
            rows = json.loads(out.read_text())["runs"] if out.exists() else []  # re-read: another screen may write
            rows = [r for r in rows if (r["candidate"], r["seed"]) != (name, seed)] + [row]
            save_json(out, {"runs": sorted(rows, key=lambda r: (r["candidate"], r["seed"]))})
            print(f"{name} seed {seed}: {row['final_test_acc']:.2f}% ({row['params']:,} parameters, "
                  f"{row['seconds']:.0f} s)", flush=True)


if __name__ == "__main__":
    main()
