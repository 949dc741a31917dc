"""The Model-2 weights that ship inside the package, so ``s6 predict`` and ``s6 demo`` work after a plain install.

They are a benchmark run's checkpoint less what only resuming needs (optimiser, schedule and random states):
the weights, the plan and the run's metrics, so predict can say which run they are and how well it did
(about 80 kB). Regenerate them from a finished run, from the repository root:

    python -m s6.inference.shipped results/model2/seed1
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from s6 import S6Error
from s6.models.registry import DEFAULT_MODEL

SHIPPED = Path(__file__).parent.parent / "weights" / f"{DEFAULT_MODEL}.pt"  # s6/weights/: package data (pyproject.toml)
RESUME_ONLY = ("optimizer", "scheduler", "rng")  # what predict never reads

# The checkpoint predict and demo use when none is given: your own run in the current folder, else the
# weights shipped inside the package, so they work from any folder after a plain install. Here, not in predict.py,
# so that the command line's help can say so without importing torch.
OWN_RUN = f"runs/{DEFAULT_MODEL}/checkpoint.pt"
DEFAULT_HELP = f"default: {OWN_RUN} if you trained one here, else the Model-2 weights shipped with s6"


def default_checkpoint() -> Path:
    for path in (Path(OWN_RUN), SHIPPED):
        if path.exists():
            return path
    raise S6Error(f"no checkpoint at {OWN_RUN}, and this copy of s6 has no shipped weights ({SHIPPED}): "
                  "train one with 'python -m s6 train', or pass --checkpoint")


def export_weights(run: str | os.PathLike, out: str | os.PathLike = SHIPPED) -> dict:
    """Write ``run``'s checkpoint, less its resume-only state, to ``out``; S6Error unless it is a finished run."""
    from s6.training.checkpoint import load_checkpoint, save_torch

    checkpoint = load_checkpoint(run)
    done, planned = len(checkpoint["metrics"]["epochs"]), checkpoint["plan"]["epochs"]
    if done < planned:
        raise S6Error(f"{run} is an unfinished run ({done} of {planned} epochs): ship only a finished one")
    if checkpoint["plan"].get("validation"):
        raise S6Error(f"{run} trained with a validation split held out: ship a run trained on all the training "
                      "images, and tested on the test set")
    weights = {key: value for key, value in checkpoint.items() if key not in RESUME_ONLY}
    save_torch(out, weights)
    return weights


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m s6.inference.shipped", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("run", help="a finished run's folder or checkpoint.pt, e.g. results/model2/seed1")
    parser.add_argument("--out", default=str(SHIPPED), help="where to write (default: the package's own copy)")
    args = parser.parse_args(argv)
    try:
        weights = export_weights(args.run, args.out)
    except S6Error as e:
        print(f"error: {e}", file=sys.stderr)
        return 1
    accuracy = weights["metrics"]["epochs"][-1]["test_acc"]
    print(f"wrote {args.out}: {weights['model']}, seed {weights['plan']['seed']}, test accuracy {accuracy:.2f}%")
    return 0


if __name__ == "__main__":
    sys.exit(main())
