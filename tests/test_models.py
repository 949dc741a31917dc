"""Model shapes, budgets, ingredients and receptive fields."""

import pytest
import torch
from torch import nn

from s6.models import MODELS, build_model, count_parameters
from s6.summary import RFRow, receptive_field_table


@pytest.mark.parametrize("name", list(MODELS))
def test_output_is_one_score_per_class(name):
    model = build_model(name).eval()
    assert model(torch.zeros(5, 1, 28, 28)).shape == (5, 10)


@pytest.mark.parametrize("name", list(MODELS))
def test_parameter_count_is_under_20k(name):
    assert 0 < count_parameters(build_model(name)) < 20_000


def test_model2_uses_batchnorm_dropout_gap_and_a_1x1_head():
    kinds = {type(m) for m in build_model("model2").modules()}
    assert {nn.BatchNorm2d, nn.Dropout, nn.AdaptiveAvgPool2d} <= kinds


@pytest.mark.parametrize("name", [n for n in MODELS if n != "model1"])
def test_final_models_normalise_pool_globally_and_classify_with_a_1x1_conv(name):
    model = build_model(name)
    kinds = {type(m) for m in model.modules()}
    assert {nn.BatchNorm2d, nn.AdaptiveAvgPool2d} <= kinds
    assert nn.Linear not in kinds
    head = [m for m in model.modules() if isinstance(m, nn.Conv2d)][-1]
    assert head.kernel_size == (1, 1) and head.out_channels == 10


def test_model3_has_at_most_4000_parameters():
    assert count_parameters(build_model("model3")) <= 4000


def test_model3_buys_width_with_depthwise_separable_convolutions():
    convs = [m for m in build_model("model3").modules() if isinstance(m, nn.Conv2d)]
    spatial = [c for c in convs if c.kernel_size == (3, 3)]
    assert spatial[0].in_channels == 1  # the first layer sees one channel: nothing to separate
    assert all(c.groups == c.in_channels == c.out_channels for c in spatial[1:])  # one 3x3 filter per channel
    assert max(c.out_channels for c in convs) >= 20  # wider than Model-2's 16 channels


def test_receptive_field_table_of_model1_equals_hand_computation():
    # r_out = r_in + (k - 1) * j_in, j_out = j_in * s
    hand = [
        RFRow("input", 28, 1, 1),
        RFRow("conv1", 26, 3, 1),   # 1 + 2*1
        RFRow("conv2", 24, 5, 1),   # 3 + 2*1
        RFRow("pool", 12, 6, 2),    # 5 + 1*1, jump 1*2
        RFRow("squeeze", 12, 6, 2),  # 1x1 adds nothing
        RFRow("conv3", 10, 10, 2),  # 6 + 2*2
        RFRow("conv4", 8, 14, 2),   # 10 + 2*2
        RFRow("conv5", 6, 18, 2),   # 14 + 2*2
        RFRow("gap", 1, 28, 12),    # 18 + 5*2: global pooling over 6x6
        RFRow("head", 1, 28, 12),
    ]
    assert receptive_field_table(build_model("model1")) == hand


@pytest.mark.parametrize("name", list(MODELS))
def test_every_model_sees_the_whole_digit_before_classifying(name):
    assert receptive_field_table(build_model(name))[-1].rf >= 28
