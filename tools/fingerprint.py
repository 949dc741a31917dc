"""Each registered model's fingerprint: short training runs on a fixed subset and seed, reduced to a hash of the
weights they end with and of their metrics, so a change to the code that must not change behaviour can be held to it.

    python tools/fingerprint.py > before.json      # on the old code
    python tools/fingerprint.py --against before.json   # on the new: exit 1 if any run differs

results/fingerprints.json is the record (tests/test_training.py holds the code to it on a machine like the one that
wrote it): its runs gave the same hashes at c9923fb, before the models became plain modules, and after.

The runs: the first epoch of each model's own schedule (augmented where its recipe augments), a two-epoch schedule
(Model-2's last epoch clean), the textbook torchvision pipeline's two epochs for the default model, and a validation
run. Bitwise equality holds on one machine, CPU path, thread count and torch version: another rounds differently
(docs/speed.md), so a record names them (``machine``).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import sys
import tempfile
from pathlib import Path

VOLATILE = {"seconds", "device", "cpu_path", "commit", "s6", "torch"}  # the machine's and the moment's, not the run's


def digest(state: dict) -> str:
    """SHA-256 of a state dict's names, dtypes, shapes and bytes, in order."""
    h = hashlib.sha256()
    for name, tensor in state.items():
        h.update(f"{name}:{tensor.dtype}:{tuple(tensor.shape)}".encode())
        h.update(tensor.detach().cpu().contiguous().numpy().tobytes())
    return h.hexdigest()


def steady(value: object) -> object:
    """``value`` without the fields that name the machine, the moment or the code's commit."""
    if isinstance(value, dict):
        return {k: steady(v) for k, v in value.items() if k not in VOLATILE}
    if isinstance(value, list):
        return [steady(v) for v in value]
    return value


def runs() -> list[tuple[str, dict, int | None]]:
    """(label, new_plan's settings, stop_after) for every run fingerprinted."""
    from s6.models.registry import REGISTRY

    chosen = [(f"{m}-first-epoch", {"model": m, "train_subset": 2000}, 1) for m in REGISTRY]
    chosen += [(f"{m}-two-epochs", {"model": m, "epochs": 2, "train_subset": 1000}, None) for m in REGISTRY]
    chosen += [("model2-torchvision", {"model": "model2", "epochs": 2, "train_subset": 512, "loader": "torchvision"},
                None),
               ("model2-validation", {"model": "model2", "epochs": 2, "train_subset": 1000, "validation": 5000}, None)]
    return chosen


def machine() -> dict:
    """What a fingerprint's bits depend on beside the code: the CPU, its vector path and threads, torch's version."""
    import torch

    from s6.device import describe_device

    return {"device": describe_device(torch.device("cpu")), "torch": str(torch.__version__)}


def fingerprint(data_dir: str | None) -> dict:
    from s6.training.run import new_plan, train_run

    prints = {}
    for label, settings, stop_after in runs():
        with tempfile.TemporaryDirectory() as out:
            result = train_run(new_plan(seed=1, **settings), out=out, data_dir=data_dir, device="cpu",
                               stop_after=stop_after, progress=False, log=lambda line: None)
            metrics = json.loads((Path(out) / "metrics.json").read_text())
        prints[label] = {"weights": digest(result.model.state_dict()),
                         "metrics": hashlib.sha256(json.dumps(steady(metrics), sort_keys=True).encode()).hexdigest(),
                         "final": steady(metrics["epochs"][-1])}
        print(f"{label}: {prints[label]['weights'][:16]} {prints[label]['metrics'][:16]}", file=sys.stderr)
    return prints


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-dir", help="MNIST root (default: $S6_DATA_DIR, else ./data)")
    parser.add_argument("--against", metavar="JSON", help="a fingerprint written before: exit 1 if a run differs")
    args = parser.parse_args()
    prints = fingerprint(args.data_dir)
    if not args.against:
        print(json.dumps({"machine": machine(), "runs": prints}, indent=1))
        return 0
    record = json.loads(Path(args.against).read_text())
    before = record.get("runs", record)  # a record, or a bare set of runs
    if record.get("machine", machine()) != machine():
        print(f"warning: {args.against} was written on {record['machine']}, this is {machine()}: bits may differ",
              file=sys.stderr)
    differ = [label for label in before if {k: before[label][k] for k in ("weights", "metrics")}
              != {k: prints.get(label, {}).get(k) for k in ("weights", "metrics")}]
    for label in before:
        print(f"{label}: {'DIFFERS' if label in differ else 'same weights and metrics'}")
    return 1 if differ else 0


if __name__ == "__main__":
    sys.exit(main())
