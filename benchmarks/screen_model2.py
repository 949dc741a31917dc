"""Screen Model-2 candidates on the validation split: each candidate, seed by seed, through ``train_run``.

Every run trains on the first 50,000 training images and is scored on the last 10,000 (``--validation``), so
no choice made here ever looks at the test set. A candidate is judged against its baseline on the same seeds
(paired), at least 6 pairs before a gain of 0.05 points counts. Rows go to results/model2_screen.json, one per
candidate and seed, rewritten after every run; two screens may run side by side, one a core.

The record holds more candidates than this file: those whose options were not adopted, and those that ran on
PyTorch's own Dropout before Model-2's cheaper one existed, ran on the code of commit 9cb1df5 and its parents
(each row names its commit); docs/models.md tells the story. The ones below run on today's code.

    OMP_NUM_THREADS=1 python benchmarks/screen_model2.py --candidates model2 d6 --seeds 1 2 3 --data-dir DIR
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from functools import partial
from pathlib import Path

from screening import main
from torch import nn
from variants import model2_widths, pool_first

from s6.models.recipe import Augment, Recipe
from s6.models.registry import REGISTRY, recipe_for

ROOT = Path(__file__).resolve().parent.parent
REFERENCE = "el5-clean1-drop56"  # today's Model-2, as the record names it: each candidate is compared with it


@dataclass(frozen=True)
class Candidate:
    note: str  # what it changes, for the record
    network: Callable[[], nn.Module] = REGISTRY["model2"].network  # builds it, a new random draw each time
    recipe: Recipe = recipe_for("model2")


RECIPE, WIDTHS = recipe_for("model2"), model2_widths()
ALL_DROPOUT = partial(pool_first, WIDTHS, dropout_after=(3, 4, 5, 6))  # Dropout after each of the last four blocks
WIDE = partial(pool_first, (10, *WIDTHS[1:]), dropout_after=(3, 4, 5, 6))
AUGMENTED = replace(RECIPE, clean_epochs=0)
# Named as in the record: "el" is the pool-first, 8-channel, channels-last design with the cheaper Dropout after
# blocks 3-6, "el5" its 5-epoch schedule; "d56" the same with Dropout after blocks 5-6 only: today's Model-2.
CANDIDATES = {
    "el5": Candidate("fast5, Dropout of single values with 16-bit masks (the package's Dropout) instead of whole "
                     "channels", ALL_DROPOUT, AUGMENTED),
    "el5-w10": Candidate("el5, 10 channels in block 1", WIDE, AUGMENTED),
    "el5-lr0.2": Candidate("el5, peak lr 0.2", ALL_DROPOUT, replace(AUGMENTED, max_lr=0.2)),
    "el5-b64": Candidate("el5, batch 64, peak lr 0.2", ALL_DROPOUT, replace(AUGMENTED, batch_size=64, max_lr=0.2)),
    "el6": Candidate("el5, 6 epochs", ALL_DROPOUT, replace(AUGMENTED, epochs=6)),
    "el5-clean1": Candidate("el5, the last epoch without augmentation", ALL_DROPOUT),
    "el4-clean1": Candidate("el5-clean1, 4 epochs", ALL_DROPOUT, replace(RECIPE, epochs=4)),
    "el5-clean1-b256": Candidate("el5-clean1, batch 256, peak lr 0.4", ALL_DROPOUT,
                                 replace(RECIPE, batch_size=256, max_lr=0.4)),
    "el5-clean1-drop56": Candidate("el5-clean1, Dropout after blocks 5 and 6 only: today's Model-2"),
    "d6": Candidate("el5-clean1, Dropout after block 6 only", partial(pool_first, WIDTHS, dropout_after=(6,))),
    "d56-clean2": Candidate("el5-clean1-drop56, the last 2 epochs without augmentation",
                            recipe=replace(RECIPE, clean_epochs=2)),
    "d56-wd5e-5": Candidate("el5-clean1-drop56, weight decay 5e-5", recipe=replace(RECIPE, weight_decay=5e-5)),
    "d56-wd2e-4": Candidate("el5-clean1-drop56, weight decay 2e-4", recipe=replace(RECIPE, weight_decay=2e-4)),
    "d56-mild": Candidate("el5-clean1-drop56, milder augmentation: 5 degrees, 5% shift, 5% zoom",
                          recipe=replace(RECIPE, augment=Augment(5.0, 0.05, 0.05))),
    "d56-lr0.4": Candidate("el5-clean1-drop56, peak lr 0.4", recipe=replace(RECIPE, max_lr=0.4)),
    "d56-cos": Candidate("el5-clean1-drop56, cosine rise and fall of the learning rate",
                         recipe=replace(RECIPE, anneal="cos")),
    "d56-warm0.3": Candidate("el5-clean1-drop56, warm-up over 30% of the steps", recipe=replace(RECIPE, warmup=0.3)),
    "d56-e6": Candidate("el5-clean1-drop56, 6 epochs (the last without augmentation)",
                        recipe=replace(RECIPE, epochs=6)),
}


if __name__ == "__main__":
    main("model2", __doc__, CANDIDATES, ROOT / "results" / "model2_screen.json", REFERENCE)
