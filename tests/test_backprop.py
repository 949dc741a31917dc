"""The hand-written chain rule in s6.backprop.network against torch autograd."""

import pytest
import torch
from autograd_reference import autograd_run, autograd_step

from s6.backprop.network import WEIGHTS, Inputs, forward_backward, train

CASES = [
    Inputs(),
    Inputs(t1=0.01, t2=0.99, w=(0.3, 0.2, 0.25, 0.3, 0.4, 0.45, 0.5, 0.55)),
    Inputs(i1=1.0, i2=-2.0, t1=0.9, t2=0.1),
]


@pytest.mark.parametrize("inputs", CASES)
def test_hand_gradients_equal_autograd(inputs):
    ours = forward_backward(inputs.i1, inputs.i2, inputs.t1, inputs.t2, inputs.w)
    e_total, grad = autograd_step(inputs, torch.tensor(inputs.w, dtype=torch.float64))
    assert abs(ours["E_total"] - e_total) < 1e-12
    for name, g in zip(WEIGHTS, grad.tolist()):
        assert abs(ours[f"dE/d{name}"] - g) < 1e-12, name


def test_gradient_descent_matches_autograd_for_100_iterations():
    for (w, e_total, grad), row in zip(autograd_run(Inputs(), 2.0, 100), train(Inputs(), 2.0, 100)):
        assert abs(row["E_total"] - e_total) < 1e-12
        for i, name in enumerate(WEIGHTS):
            assert abs(row[name] - w[i]) < 1e-12
            assert abs(row[f"dE/d{name}"] - grad[i]) < 1e-12


def test_hidden_weight_gradients_use_their_own_hidden_unit():
    """The widely copied template uses a_h1(1 - a_h1) in dE/dw3 and dE/dw4; that is measurably wrong."""
    v = forward_backward(0.05, 0.1, 0.5, 0.5, Inputs().w)
    template_w3 = v["dE/da_h2"] * v["a_h1"] * (1 - v["a_h1"]) * v["i1"]
    right_w3 = v["dE/da_h2"] * v["a_h2"] * (1 - v["a_h2"]) * v["i1"]
    assert abs(v["dE/dw3"] - right_w3) < 1e-15
    assert abs(template_w3 - right_w3) > 1e-8


@pytest.mark.parametrize("inputs", CASES)
def test_the_written_chain_rule_comes_to_the_numbers_autograd_checks(inputs):
    """Every step of the derivation's text (the workbook's comments and Derivation sheet, the figures, docs), read as
    arithmetic, equals the reference's value of what it names; a mistyped index (a_h1 for a_h2) would not."""
    from s6.backprop.derivation import STEPS, equations, evaluate

    v = forward_backward(inputs.i1, inputs.i2, inputs.t1, inputs.t2, inputs.w)
    checked = set()
    for _, text in STEPS:
        for name, *sides in equations(text):
            key = name.replace("∂E_total/∂", "dE/d")
            for side in sides:
                value = evaluate(side, v)
                if value is not None and key in v:
                    assert abs(value - v[key]) < 1e-15, (name, side)
                    checked.add(key)
    assert checked >= {*(f"dE/d{w}" for w in WEIGHTS), "dE/da_h1", "dE/da_h2", "E_total", "a_h1", "a_o2"}


def test_a_mistyped_chain_rule_is_caught():
    """The check above can fail: the template's a_h1(1 - a_h1) in dE/dw3 comes to another number."""
    from s6.backprop.derivation import evaluate, gradient

    v = forward_backward(0.05, 0.1, 0.5, 0.5, Inputs().w)
    wrong = gradient("w3").replace("·a_h2·(1 − a_h2)·", "·a_h1·(1 − a_h1)·")
    assert wrong != gradient("w3") and abs(evaluate(wrong, v) - v["dE/dw3"]) > 1e-8
