"""The optimiser written out (s6.training.train.OneCycleSGD) against torch.optim's SGD under OneCycleLR, step by step,
bit for bit."""

import io
import subprocess
import sys

import pytest
import torch
import torch.nn.functional as F
from conftest import ROOT, torch_one_cycle_sgd

from s6.models.recipe import Recipe
from s6.models.registry import recipe_for
from s6.training.checkpoint import optimizer_state
from s6.training.train import OneCycleSGD, one_cycle

RECIPES = {
    "model2": recipe_for("model2"),  # Nesterov, weight decay, linear
    "model1": recipe_for("model1"),  # no weight decay
    "plain momentum, cosine": Recipe(epochs=2, batch_size=8, max_lr=0.4, momentum=(0.7, 0.8), nesterov=False,
                                     weight_decay=1e-3, warmup=0.25, start_div=4, end_div=50, anneal="cos",
                                     augment=None, clean_epochs=0, tail_epochs=0, ema=None),
}


def small_net() -> torch.nn.Module:
    """A convolution, BatchNorm and a linear layer: weights with and without decay's effect, of a few shapes."""
    torch.manual_seed(0)
    return torch.nn.Sequential(torch.nn.Conv2d(1, 4, 3), torch.nn.BatchNorm2d(4), torch.nn.ReLU(),
                               torch.nn.Flatten(), torch.nn.Linear(4 * 6 * 6, 10))


def batch(step: int) -> tuple[torch.Tensor, torch.Tensor]:
    generator = torch.Generator().manual_seed(step)
    return torch.randn(16, 1, 8, 8, generator=generator), torch.randint(0, 10, (16,), generator=generator)


def take_step(model: torch.nn.Module, optimizer, step: int, schedule=None) -> None:
    """One training step on batch ``step``; ``schedule``: torch's OneCycleLR, stepped after its optimiser."""
    x, y = batch(step)
    optimizer.zero_grad()
    F.cross_entropy(model(x), y).backward()
    optimizer.step()
    if schedule is not None:
        schedule.step()


@pytest.mark.parametrize("name", RECIPES)
def test_each_step_equals_torch_optims_sgd_under_one_cycle_lr_bit_for_bit(name):
    recipe, total = RECIPES[name], 30
    ours, theirs = small_net(), small_net()
    optimizer = OneCycleSGD(ours.parameters(), recipe, total)
    reference, schedule = torch_one_cycle_sgd(theirs, recipe, total)
    for step in range(total):
        group = reference.param_groups[0]
        assert (optimizer.lr, one_cycle(step, recipe, total)[1]) == (group["lr"], group["momentum"]), step
        take_step(ours, optimizer, step)
        take_step(theirs, reference, step, schedule)
        for a, b in zip(ours.parameters(), theirs.parameters(), strict=True):
            assert torch.equal(a, b), f"step {step}"


def test_the_schedule_rises_to_max_lr_then_falls_to_its_floor_with_momentum_against_it():
    recipe = RECIPES["model2"]  # max_lr 0.3, warm-up 20%, start_div 10, end_div 100
    lrs, momenta = zip(*(one_cycle(step, recipe, 100) for step in range(100)))
    assert lrs[0] == pytest.approx(0.03) and lrs[19] == pytest.approx(0.3) == max(lrs)
    assert lrs[-1] == pytest.approx(0.0003) == min(lrs)
    assert momenta[0] == momenta[-1] == 0.95 and momenta[19] == pytest.approx(0.85) == min(momenta)


def test_a_checkpoint_written_with_torch_optim_resumes_to_the_same_numbers():
    """A run saved while s6 trained with torch.optim continues under OneCycleSGD exactly as torch.optim would have."""
    recipe, total, saved_at = RECIPES["model2"], 20, 7
    theirs = small_net()
    reference, schedule = torch_one_cycle_sgd(theirs, recipe, total)
    for step in range(saved_at):
        take_step(theirs, reference, step, schedule)
    buffer = io.BytesIO()
    # torch before 2.4 kept OneCycleLR's anneal function itself in its state, which no weights-only load reads,
    # then or now; s6 reads only the step count from it.
    scheduler = {key: value for key, value in schedule.state_dict().items() if not callable(value)}
    torch.save({"optimizer": reference.state_dict(), "scheduler": scheduler}, buffer)
    buffer.seek(0)
    checkpoint = torch.load(buffer, weights_only=True)  # as s6 reads a checkpoint

    ours = small_net()
    ours.load_state_dict(theirs.state_dict())
    optimizer = OneCycleSGD(ours.parameters(), recipe, total)
    optimizer.load_state_dict(optimizer_state(checkpoint))
    assert optimizer.steps == saved_at
    for step in range(saved_at, total):
        take_step(ours, optimizer, step)
        take_step(theirs, reference, step, schedule)
    for a, b in zip(ours.parameters(), theirs.parameters(), strict=True):
        assert torch.equal(a, b)


def test_training_never_imports_torch_dynamo_or_openpyxl(data_dir, tmp_path):
    """torch.optim's first call imports torch._dynamo (2 s, and 0.4 s more at exit); s6's optimiser must not."""
    code = ("import sys\nfrom s6.cli import main\ncode = main(sys.argv[1:])\n"
            "print('torch._dynamo' in sys.modules, 'openpyxl' in sys.modules)\nsys.exit(code)\n")
    result = subprocess.run([sys.executable, "-c", code, "train", "--epochs", "1", "--train-subset", "500",
                             "--data-dir", str(data_dir), "--out", str(tmp_path / "run"), "--quiet"],
                            cwd=ROOT, capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines()[-1] == "False False"  # nor openpyxl (Part 1's workbook), 0.17 s
