"""The registry is the one list of the models: a model registered there alone trains, is summarised and is
reported, and no other file lists the models or spells the default's name."""

import re

from conftest import ROOT, recipe, register_model
from torch import nn

from s6.models.registry import DEFAULT_MODEL, REGISTRY, Goal, build_model, display_name
from s6.models.summary import count_parameters, describe
from s6.results.seeds import goal, seeds_table
from s6.training.run import new_plan, train_run


class Tiny(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.block1 = nn.Sequential(nn.Conv2d(1, 4, 3, bias=False), nn.MaxPool2d(2), nn.BatchNorm2d(4), nn.ReLU())
        self.block2 = nn.Sequential(nn.Conv2d(4, 8, 3, bias=False), nn.BatchNorm2d(8), nn.ReLU())
        self.gap = nn.AdaptiveAvgPool2d(1)
        self.head = nn.Conv2d(8, 10, 1)

    def forward(self, x):
        return self.head(self.gap(self.block2(self.block1(x)))).flatten(1)


def test_a_model_registered_once_trains_is_summarised_and_is_reported(mnist, tmp_path, monkeypatch):
    plain = recipe(epochs=1, batch_size=64, max_lr=0.05, augment=None, clean_epochs=0)
    register_model(monkeypatch, "tiny", "Model-T", Tiny, plain, Goal(min=10.0, mean=10.0))
    run = train_run(new_plan("tiny", seed=1, train_subset=256), mnist=mnist, device="cpu", out=tmp_path / "run",
                    progress=False, log=lambda _: None)
    params = count_parameters(build_model("tiny"))
    assert run.metrics["model"] == "tiny" and run.metrics["params"] == params and len(run.metrics["epochs"]) == 1
    assert f"Trainable parameters: {params:,}" in describe(build_model("tiny"))
    record = {"tiny": {"params": params, "runs": [{"seed": 1, "role": "development", "epochs": 1, "device": "cpu",
                                                   "final_test_acc": run.final_test_acc, "seconds_per_epoch": 1.0}]}}
    assert "| Model-T |" in seeds_table(record) and display_name("tiny") == "Model-T"
    assert goal("tiny", record).startswith("Development seeds 1: each ≥ 10%")


def test_no_module_outside_the_registry_lists_the_models_or_names_the_default():
    """The registry's names appear elsewhere only in prose (docstrings, comments, help text examples), never as a
    literal that code compares or looks up."""
    literal = re.compile(r"""(?<![\\w/-])["'](model[123])["']""")
    offenders = []
    for path in sorted((ROOT / "s6").rglob("*.py")):
        if path.name == "registry.py":
            continue
        for number, line in enumerate(path.read_text().splitlines(), 1):
            code = line.split("#", 1)[0]
            if literal.search(code):
                offenders.append(f"{path.relative_to(ROOT)}:{number}: {line.strip()}")
    assert offenders == []
    assert DEFAULT_MODEL in REGISTRY
