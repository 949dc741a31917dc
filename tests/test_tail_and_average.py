"""A recipe's tail (its last epochs at the schedule's floor rate) and its moving average of the weights, for any
model: the rate per step at the tail's boundaries, the average against one computed by hand, a resumed run against
an uninterrupted one, and the weights a run saves and predict reads."""

import pytest
import torch
from conftest import recipe, register_model
from test_resume import assert_resumes_exactly
from torch import nn

from s6.training.train import OneCycleSGD, average_of, check_steps, one_cycle

TAILED = recipe(epochs=4, tail_epochs=1)  # Model-2's recipe, its last epoch at the floor


def test_the_tail_trains_at_the_floor_rate_with_the_high_momentum_from_its_first_step():
    """40 steps, the last 10 the tail: the cycle is a 30-step one-cycle, step for step, and every tail step is at
    max_lr / start_div / end_div with the momentum at its high."""
    floor, high = TAILED.max_lr / TAILED.start_div / TAILED.end_div, TAILED.momentum[1]
    assert [one_cycle(s, TAILED, 40, 10) for s in range(30)] == [one_cycle(s, TAILED, 30) for s in range(30)]
    assert one_cycle(29, TAILED, 40, 10)[0] == pytest.approx(floor, rel=1e-9)  # the cycle's last step reaches it
    assert [one_cycle(s, TAILED, 40, 10) for s in range(30, 40)] == [(floor, high)] * 10
    assert one_cycle(30, TAILED, 40, 0) != (floor, high)  # without a tail, step 30 is still annealing


def test_a_recipes_tail_is_counted_in_steps_and_never_takes_a_whole_short_run():
    assert check_steps(TAILED, 10, 4) == (40, 10)
    assert check_steps(recipe(tail_epochs=3), 10, 5) == (50, 30)
    assert check_steps(recipe(tail_epochs=3), 10, 1) == (10, 0)  # --epochs 1: all of it is cycle
    assert check_steps(recipe(tail_epochs=0), 10, 4) == (40, 0)


def test_the_average_is_the_moving_average_of_the_weights_and_buffers_computed_by_hand():
    """The first update copies the weights; each later one moves the average a tenth of the way (decay 0.9), the
    BatchNorm running statistics with them."""
    torch.manual_seed(0)
    net = nn.Sequential(nn.Conv2d(1, 3, 3), nn.BatchNorm2d(3), nn.ReLU(), nn.Flatten(), nn.Linear(3 * 4 * 4, 10))
    average = average_of(net, 0.9)
    optimizer = OneCycleSGD(net.parameters(), TAILED, 4)
    by_hand = None
    for _ in range(4):
        loss = nn.functional.cross_entropy(net(torch.randn(8, 1, 6, 6)), torch.randint(0, 10, (8,)))
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        average.update_parameters(net)
        now = {k: v.detach().clone() for k, v in net.state_dict().items() if v.is_floating_point()}
        by_hand = now if by_hand is None else {k: 0.9 * by_hand[k] + 0.1 * now[k] for k in now}
    averaged = average.module.state_dict()
    for name, value in by_hand.items():
        assert torch.allclose(averaged[name], value, rtol=0, atol=1e-6), name
    assert not torch.allclose(averaged["4.weight"], net.state_dict()["4.weight"])  # an average, not the weights


class Tiny(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.block = nn.Sequential(nn.Conv2d(1, 8, 3, bias=False), nn.MaxPool2d(2), nn.BatchNorm2d(8), nn.ReLU(),
                                   nn.Dropout(0.1))
        self.gap, self.head = nn.AdaptiveAvgPool2d(1), nn.Conv2d(8, 10, 1)

    def forward(self, x):
        return self.head(self.gap(self.block(x))).flatten(1)


@pytest.fixture
def averaged_model(monkeypatch):
    """A throwaway model whose recipe has a tail and a moving average: 3 epochs, the last at the floor."""
    register_model(monkeypatch, "tiny-ema", "Model-E", Tiny,
                   recipe(epochs=3, batch_size=64, tail_epochs=1, ema=0.9, clean_epochs=1))
    return "tiny-ema"


def test_a_resumed_run_with_a_tail_and_an_average_ends_bit_for_bit_as_an_uninterrupted_one(averaged_model, mnist,
                                                                                             tmp_path):
    from s6.training.run import new_plan

    assert_resumes_exactly(new_plan(averaged_model, seed=3, train_subset=512, validation=500), mnist, tmp_path)


def test_the_checkpoint_and_predict_hold_the_averaged_weights(averaged_model, mnist, tmp_path):
    """What a run scored each epoch is what it saves and what predict reads: the average; the weights the optimiser
    stepped are kept beside it, to resume from."""
    from s6.inference.predict import load_classifier
    from s6.training.checkpoint import load_checkpoint
    from s6.training.run import new_plan, train_run

    run = train_run(new_plan(averaged_model, seed=3, train_subset=512), out=tmp_path, mnist=mnist, device="cpu",
                    progress=False, log=lambda _: None)
    checkpoint = load_checkpoint(tmp_path)
    model, _ = load_classifier(tmp_path / "checkpoint.pt")
    for name, value in run.model.state_dict().items():
        assert torch.equal(checkpoint["state_dict"][name], value), name
        assert torch.equal(model.state_dict()[name], value), name
    stepped = checkpoint["training"]["state_dict"]
    assert not torch.equal(stepped["head.weight"], checkpoint["state_dict"]["head.weight"])
    assert int(checkpoint["training"]["n_averaged"]) == 3 * 512 // 64  # one update a step


def test_the_log_names_the_epochs_that_train_at_the_floor_rate():
    """Model-3's log said "one-cycle schedule" over a run whose last 3 epochs sit at its floor rate."""
    from s6.training.run import lr_legend

    assert lr_legend(15, 3) == "one-cycle schedule, then its floor rate in epochs 13-15"
    assert lr_legend(2, 1) == "one-cycle schedule, then its floor rate in epoch 2"  # --epochs 2: one epoch of cycle
    assert lr_legend(5, 0) == "one-cycle schedule"
