"""Screen Model-2 candidates on the validation split: each candidate, seed by seed, through ``train_run``.

Every run trains on the first 50,000 training images and is scored on the last 10,000 (``--validation``), so
no choice made here ever looks at the test set. A candidate is judged against the baseline on the same seeds
(paired), at least 6 pairs before a gain of 0.05 points counts. Rows go to results/model2_screen.json, one per
candidate and seed, rewritten after every run.

    OMP_NUM_THREADS=1 python benchmarks/screen_model2.py --candidates fast fast-ls --seeds 1 2 3 --data-dir DIR
"""

from __future__ import annotations

import argparse
import fcntl
import json
import tempfile
import time
from dataclasses import dataclass, replace
from pathlib import Path

import torch

from s6.data import load_mnist, resolve_data_dir
from s6.files import save_json
from s6.models import GAP, MODELS, ConvBN, Head, Pool, Spec
from s6.provenance import provenance
from s6.recipe import Augment, Recipe, recipe_for
from s6.run import train_run

ROOT = Path(__file__).resolve().parent.parent
VALIDATION = 10000  # the last 10,000 of the 60,000 training images


@dataclass(frozen=True)
class Candidate:
    note: str  # what it changes, for the record
    spec: Spec = MODELS["model2"]
    recipe: Recipe = recipe_for("model2")


def fast_spec(block1: int = 8, channel_dropout: bool = True, dropout: float = 0.05, channels_last: bool = True,
              widths: tuple[int, ...] = (16, 20, 24, 24, 24), head_dropout: float = 0.0,
              pool_in_block: bool = True, shifts: bool = False) -> Spec:
    """Model-2 with a cheaper step: the pool inside block 1 (before its BatchNorm), 8 channels there,
    channel-wise Dropout, channels-last maps."""
    w2, w3, w4, w5, w6 = widths
    drop = {"dropout": dropout, "channel_dropout": channel_dropout}
    first = (("block1", ConvBN(block1, pool=True)),) if pool_in_block else (("block1", ConvBN(block1)),
                                                                            ("pool", Pool()))
    return Spec((
        *first,  # 28 -> 26 -> 13
        ("block2", ConvBN(w2)),  # 13 -> 11
        ("block3", ConvBN(w3, **drop)),  # 11 -> 9
        ("block4", ConvBN(w4, **drop)),  # 9 -> 7
        ("block5", ConvBN(w5, **drop)),  # 7 -> 5
        ("block6", ConvBN(w6, padding=1, **drop)),  # 5 -> 5
        ("gap", GAP()),
        ("head", Head(head_dropout)),
    ), channels_last=channels_last, shifts=shifts)


BASE = recipe_for("model2")
ELDROP = fast_spec(channel_dropout=False)
D56 = ELDROP.changed(["block3", "block4"], dropout=0.0)
FAST = fast_spec()
CANDIDATES = {
    "model2": Candidate("the registry's Model-2 and recipe"),
    "fast8": Candidate("pool inside block 1, 8 channels there, channel Dropout, channels-last; 8 epochs", FAST),
    "fast6": Candidate("fast, 6 epochs", FAST, replace(BASE, epochs=6)),
    "fast5": Candidate("fast, 5 epochs", FAST, replace(BASE, epochs=5)),
    "fast4": Candidate("fast, 4 epochs", FAST, replace(BASE, epochs=4)),
}
FAST5 = replace(BASE, epochs=5)
CANDIDATES |= {
    "fast5-ema": Candidate("fast5, evaluated as the moving average of its weights (decay 0.998 a step)", FAST,
                           replace(FAST5, ema=0.998)),
    "fast5-ls": Candidate("fast5, label smoothing 0.1", FAST, replace(FAST5, label_smoothing=0.1)),
    "fast5-clean1": Candidate("fast5, the last epoch without augmentation", FAST, replace(FAST5, clean_epochs=1)),
    "fast5-mild": Candidate("fast5, milder augmentation: 5 degrees, 5% shift, 5% zoom", FAST,
                            replace(FAST5, augment=Augment(5.0, 0.05, 0.05))),
    "fast5-lr0.4": Candidate("fast5, peak learning rate 0.4", FAST, replace(FAST5, max_lr=0.4)),
    "fast5-nodecay": Candidate("fast5, no weight decay on BatchNorm", FAST, replace(FAST5, decay_norms=False)),
    "fast5-gapdrop": Candidate("fast5, Dropout 0.1 on the pooled features only, none in the blocks",
                               fast_spec(dropout=0.0, head_dropout=0.1), FAST5),
    "fast5-eldrop": Candidate("fast5, Dropout of single values (not whole channels)", fast_spec(channel_dropout=False),
                              FAST5),
    "fast5-bnfirst": Candidate("fast5, block 1 pools after its BatchNorm and ReLU", fast_spec(pool_in_block=False),
                               FAST5),
    "fast5-w10": Candidate("fast5, 10 channels in block 1", fast_spec(block1=10), FAST5),
    "el5": Candidate("fast5 with Dropout of single values, each drawn from 16 random bits", ELDROP, FAST5),
    "el5-clean1": Candidate("eldrop, 5 epochs, the last without augmentation", ELDROP, replace(FAST5, clean_epochs=1)),
    "el5-w10": Candidate("eldrop, 5 epochs, 10 channels in block 1", fast_spec(block1=10, channel_dropout=False),
                         FAST5),
    "el5-ema": Candidate("eldrop, 5 epochs, moving average of the weights (0.998)", ELDROP, replace(FAST5, ema=0.998)),
    "el5-clean1-ema": Candidate("eldrop, 5 epochs, last clean, moving average", ELDROP,
                                replace(FAST5, clean_epochs=1, ema=0.998)),
    "el5-lr0.2": Candidate("eldrop, 5 epochs, peak lr 0.2", ELDROP, replace(FAST5, max_lr=0.2)),
    "el5-b64": Candidate("eldrop, 5 epochs, batch 64, peak lr 0.2", ELDROP, replace(FAST5, batch_size=64, max_lr=0.2)),
    "el5-shifts": Candidate("eldrop, 5 epochs, read at 5 one-pixel shifts", fast_spec(channel_dropout=False,
                                                                                       shifts=True), FAST5),
    "el6": Candidate("eldrop, 6 epochs", ELDROP, replace(FAST5, epochs=6)),
    "el5-clean1-b256": Candidate("el5-clean1, batch 256, peak lr 0.4", ELDROP,
                                 replace(FAST5, clean_epochs=1, batch_size=256, max_lr=0.4)),
    "el5-clean1-drop56": Candidate("el5-clean1, Dropout after blocks 5 and 6 only",
                                   ELDROP.changed(["block3", "block4"], dropout=0.0), replace(FAST5, clean_epochs=1)),
    "el5-clean1-gapdrop": Candidate("el5-clean1, Dropout 0.1 on the pooled features only, none in the blocks",
                                    fast_spec(dropout=0.0, head_dropout=0.1), replace(FAST5, clean_epochs=1)),
    "el4-clean1": Candidate("eldrop, 4 epochs, the last without augmentation", ELDROP,
                            replace(FAST5, epochs=4, clean_epochs=1)),
    "el4-clean1-shifts": Candidate("el4-clean1, read at 5 one-pixel shifts",
                                   fast_spec(channel_dropout=False, shifts=True),
                                   replace(FAST5, epochs=4, clean_epochs=1)),
    "d56-clean2": Candidate("el5-clean1-drop56, the last 2 epochs without augmentation", D56,
                            replace(FAST5, clean_epochs=2)),
    "d6": Candidate("el5-clean1, Dropout after block 6 only",
                    ELDROP.changed(["block3", "block4", "block5"], dropout=0.0), replace(FAST5, clean_epochs=1)),
    "d56-wd5e-5": Candidate("el5-clean1-drop56, weight decay 5e-5", D56,
                            replace(FAST5, clean_epochs=1, weight_decay=5e-5)),
    "d56-mild": Candidate("el5-clean1-drop56, milder augmentation: 5 degrees, 5% shift, 5% zoom", D56,
                          replace(FAST5, clean_epochs=1, augment=Augment(5.0, 0.05, 0.05))),
    "d56-shifts": Candidate("el5-clean1-drop56, read at 5 one-pixel shifts",
                            replace(D56, shifts=True), replace(FAST5, clean_epochs=1)),
    "fast5-b64": Candidate("fast5, batch 64, peak lr 0.2", FAST, replace(FAST5, batch_size=64, max_lr=0.2)),
}


def screen(name: str, seed: int, mnist, out_dir: Path) -> dict:
    candidate = CANDIDATES[name]
    start = time.perf_counter()
    result = train_run("model2", seed=seed, epochs=candidate.recipe.epochs, out=out_dir, device="cpu", progress=False,
                       log=lambda _: None, mnist=mnist, overwrite=True, validation=VALIDATION, spec=candidate.spec,
                       recipe=candidate.recipe)
    return {"candidate": name, "note": candidate.note, "seed": seed, "params": result.metrics["params"],
            "epochs": len(result.metrics["epochs"]), "final_val_acc": result.final_accuracy,
            "val_accs": [e["val_acc"] for e in result.metrics["epochs"]],
            "seconds": round(time.perf_counter() - start, 1), "threads": torch.get_num_threads(),
            "device": result.metrics["device"], **provenance(candidate.recipe)}


def record(out: Path, row: dict) -> None:
    """Add one row to the record, under a lock: two screens may run side by side, one a core."""
    with open(out.with_suffix(".lock"), "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        rows = json.loads(out.read_text())["runs"] if out.exists() else []
        rows = [r for r in rows if (r["candidate"], r["seed"]) != (row["candidate"], row["seed"])] + [row]
        save_json(out, {"runs": sorted(rows, key=lambda r: (r["candidate"], r["seed"]))})


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--candidates", nargs="+", choices=list(CANDIDATES), required=True)
    parser.add_argument("--seeds", nargs="+", type=int, required=True)
    parser.add_argument("--data-dir", default=None, help="MNIST root (default: $S6_DATA_DIR, else ./data)")
    parser.add_argument("--out", default=str(ROOT / "results" / "model2_screen.json"))
    args = parser.parse_args()
    out, mnist = Path(args.out), load_mnist(resolve_data_dir(args.data_dir))
    for seed in args.seeds:
        for name in args.candidates:
            with tempfile.TemporaryDirectory() as scratch:
                row = screen(name, seed, mnist, Path(scratch))
            record(out, row)
            print(f"{name} seed {seed}: {row['final_val_acc']:.2f}% validation ({row['seconds']:.0f} s, "
                  f"{row['params']:,} parameters)", flush=True)


if __name__ == "__main__":
    main()
