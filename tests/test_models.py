"""Model shapes, budgets, ingredients and receptive fields."""

import copy
import importlib.util
import json
import sys
from pathlib import Path

import pytest
import torch
from conftest import ROOT
from torch import nn

from s6.models.registry import REGISTRY, build_model, recipe_for
from s6.models.summary import RFRow, count_parameters, receptive_field_table


def test_the_default_model_is_registered():
    from s6.models.registry import DEFAULT_MODEL

    assert DEFAULT_MODEL in REGISTRY


@pytest.mark.parametrize("name", list(REGISTRY))
def test_output_is_one_score_per_class(name):
    model = build_model(name).eval()
    assert model(torch.zeros(5, 1, 28, 28)).shape == (5, 10)


@pytest.mark.parametrize("name", list(REGISTRY))
def test_parameter_count_is_under_20k(name):
    assert 0 < count_parameters(build_model(name)) < 20_000


def layers_in_call_order(model: nn.Module) -> list[nn.Module]:
    """The leaf modules in the order forward() runs them."""
    called: list[nn.Module] = []
    leaves = [m for m in model.modules() if not list(m.children())]
    hooks = [m.register_forward_hook(lambda m, i, o: called.append(m)) for m in leaves]
    model.eval()(torch.zeros(1, 1, 28, 28))
    for hook in hooks:
        hook.remove()
    return called


def test_model2_uses_batchnorm_dropout_gap_and_a_1x1_head():
    layers = layers_in_call_order(build_model("model2"))
    for kind in (nn.BatchNorm2d, nn.Dropout, nn.AdaptiveAvgPool2d):
        assert any(isinstance(m, kind) for m in layers), kind
    assert not any(isinstance(m, nn.Linear) for m in layers)
    gap, head = layers[-2:]  # global average pooling, then the classifier, and nothing after it
    assert isinstance(gap, nn.AdaptiveAvgPool2d) and gap.output_size in (1, (1, 1))
    assert isinstance(head, nn.Conv2d) and head.kernel_size == (1, 1) and head.out_channels == 10


def load_benchmark(monkeypatch, name: str = "sweep_model3"):
    monkeypatch.syspath_prepend(str(ROOT / "benchmarks"))  # as a script sees its folder: the screens share a module
    spec = importlib.util.spec_from_file_location(name, ROOT / "benchmarks" / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    monkeypatch.setitem(sys.modules, name, module)  # dataclasses look their module up there
    spec.loader.exec_module(module)
    return module


def test_the_sweeps_chosen_design_builds_the_3918_parameters_its_record_gives(monkeypatch):
    """benchmarks/sweep_model3.py writes designs as strings; the one it chose (Model-3 of 2026-11) must still build
    the network its record (results/model3_sweep.json) describes."""
    sweep = load_benchmark(monkeypatch)
    network = sweep.network_of(sweep.SEP, dropout=0.0)
    assert count_parameters(network) == 3918 and sweep.Candidate(sweep.SEP).recipe.epochs == 19
    assert [name for name, _ in network.named_children()] == ["block1", "block2", "pool", "block3", "block4",
                                                              "block5", "block6", "gap", "head", "flatten"]


def test_the_sweeps_grouped_copies_never_see_each_other(monkeypatch):
    """Copy 0's scores do not move when copy 1's image changes, and each copy has one model's parameters."""
    sweep = load_benchmark(monkeypatch)
    model, params = sweep.build(sweep.SEP, copies=2, dropout=0.0)
    assert params == 3918 and count_parameters(model) == 2 * params
    x = torch.randn(3, 2, 28, 28)
    changed = x.clone()
    changed[:, 1] = torch.randn(3, 28, 28)
    before, after = (model.eval()(images).view(3, 2, 10) for images in (x, changed))
    assert torch.equal(before[:, 0], after[:, 0]) and not torch.equal(before[:, 1], after[:, 1])


@pytest.mark.slow
def test_the_sweeps_copies_train_independently(monkeypatch, mnist):
    """Two copies of Model-3 in one grouped network: each learns, on its own batches."""
    from dataclasses import replace

    sweep = load_benchmark(monkeypatch)
    candidate = sweep.CANDIDATES["model3-19ep"]
    candidate = replace(candidate, recipe=replace(candidate.recipe, epochs=2))
    row = sweep.sweep("dry", candidate, 2, mnist, torch.device("cpu"), train_subset=3000)
    assert row["params"] == 3918 and row["epochs"] == 2 and row["copies"] == 2
    first, second = row["final_test_acc"]
    assert first > 80 and second > 80 and first != second  # both learn; different batches, different models


@pytest.mark.parametrize("name", [n for n in REGISTRY if n != "model1"])
def test_final_models_normalise_pool_globally_and_classify_with_a_1x1_conv(name):
    model = build_model(name)
    kinds = {type(m) for m in model.modules()}
    assert {nn.BatchNorm2d, nn.AdaptiveAvgPool2d} <= kinds
    assert nn.Linear not in kinds
    head = [m for m in model.modules() if isinstance(m, nn.Conv2d)][-1]
    assert head.kernel_size == (1, 1) and head.out_channels == 10


def test_model3_answers_the_next_exercise_under_8000_parameters_in_at_most_15_epochs():
    from s6.models.registry import NEXT_EPOCHS, NEXT_PARAMETERS

    assert count_parameters(build_model("model3")) < NEXT_PARAMETERS == 8000
    assert recipe_for("model3").epochs <= NEXT_EPOCHS == 15
    assert REGISTRY["model3"].goal.last == 3  # "consistently shown in your last few epochs"


def test_the_screens_chosen_candidate_is_the_registrys_model3(monkeypatch):
    """docs/models.md reads the choice off results/model3_screen.json: its row must be the model students train."""
    assert json.loads((ROOT / "results" / "model3_screen.json").read_text())["chosen"] == "sep-7.9k-tail3"
    from report import block_table

    screen = load_benchmark(monkeypatch, "screen_model3")
    chosen = screen.CANDIDATES[screen.CHOSEN]
    torch.manual_seed(0)
    candidate = chosen.network()
    torch.manual_seed(0)
    model3 = build_model("model3")
    assert block_table(candidate) == block_table(model3) and chosen.recipe == recipe_for("model3")
    weights = zip(candidate.state_dict().items(), model3.state_dict().items(), strict=True)
    assert all(a == b and torch.equal(x, y) for (a, x), (b, y) in weights)  # the same weights, drawn in one order


@pytest.mark.parametrize("name", list(REGISTRY))
def test_a_default_run_plans_fewer_than_20_epochs(name):
    """The exercise's rule, checked on the plan a user's `python -m s6 train --model NAME` gets."""
    from s6.training.run import new_plan

    plan = new_plan(name)
    assert plan.epochs == recipe_for(name).epochs < 20


def test_model2_spends_its_budget_after_the_pool():
    """Model-2's width sits on maps of 11x11 and smaller, where it is cheap; the 26x26 map has 8 channels."""
    model = build_model("model2")
    assert 19_000 < count_parameters(model) < 20_000
    convs = [m for m in layers_in_call_order(model) if isinstance(m, nn.Conv2d)]
    assert convs[0].out_channels == 8 and max(c.out_channels for c in convs[:-1]) == 24


def test_model3_buys_width_with_depthwise_separable_convolutions():
    convs = [m for m in build_model("model3").modules() if isinstance(m, nn.Conv2d)]
    spatial = [c for c in convs if c.kernel_size == (3, 3)]
    # blocks 1-2 plain (one channel in, then 8: little to separate), blocks 3-6 one 3x3 filter per channel
    assert [c.groups == c.in_channels == c.out_channels for c in spatial] == [False, False, True, True, True, True]
    pointwise = [c for c in convs if c.kernel_size == (1, 1)][:-1]  # the head's 1x1 aside
    assert [c.out_channels for c in pointwise] == [39] * 4  # wider than Model-2's 24 channels


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


@pytest.mark.parametrize("name", list(REGISTRY))
def test_every_model_sees_the_whole_digit_before_classifying(name):
    assert receptive_field_table(build_model(name))[-1].rf >= 28


def channels(name: str) -> str:
    """A model's widths as README and docs write them: '8-16 · pool · 8 (1×1)-16-16-16', from the convolutions and
    max-pools in the order forward() calls them (a depthwise convolution keeps its width: its 1x1 sets it)."""
    parts: list[str] = []
    layers = layers_in_call_order(build_model(name))
    for layer in layers[:-1]:  # the head, last, aside
        if isinstance(layer, nn.MaxPool2d):
            parts.append(" · pool · ")
        elif isinstance(layer, nn.Conv2d) and layer.groups == 1:
            depthwise_before = parts and parts[-1] == "separable"
            parts = parts[:-1] if depthwise_before else parts
            squeeze = layer.kernel_size == (1, 1) and not depthwise_before
            width = f"{layer.out_channels} (1×1)" if squeeze else str(layer.out_channels)
            parts.append(width if not parts or parts[-1].endswith(" ") else f"-{width}")
        elif isinstance(layer, nn.Conv2d):
            parts.append("separable")
    return "".join(parts)


@pytest.mark.parametrize("document", ["README.md", "docs/models.md"])
def test_the_model_tables_quote_the_registrys_parameters_channels_epochs_batches_fields_and_jitter(document):
    rows = {}
    for line in (ROOT / document).read_text().splitlines():
        cells = [cell.strip().strip("*") for cell in line.strip("|").split("|")]
        if line.startswith("| ") and len(cells) == len(REGISTRY) + 1:  # a column per model
            rows.setdefault(cells[0], cells[1:])
    names = list(REGISTRY)
    assert rows["parameters"] == [f"{count_parameters(build_model(name)):,}" for name in names]
    assert all(cell.startswith(channels(name)) for cell, name in zip(rows["channels"], names, strict=True))
    for cell, name in zip(rows["schedule"], names, strict=True):
        recipe = recipe_for(name)
        assert cell.startswith(f"{recipe.epochs} epochs, batch {recipe.batch_size}"), (name, cell)
        assert document == "README.md" or f"peak lr {recipe.max_lr:g}" in cell
    if document == "docs/models.md":  # its rows that README leaves out: each model's receptive field and jitter
        from s6.models.summary import describe_augment

        for cell, name in zip(rows["receptive field before GAP"], names, strict=True):
            table = receptive_field_table(build_model(name))
            assert cell == str(next(row.rf for row in reversed(table) if row.layer != "gap" and row.size > 1)), name
        for cell, name in zip(rows["augmentation"], names, strict=True):
            augment = recipe_for(name).augment
            assert cell.startswith("none" if augment is None else describe_augment(augment)), (name, cell)


def test_the_fast_dropout_matches_its_reference_forward_and_gradient_on_a_small_tensor():
    """Reference: each value kept when its 16 random bits (four to a 64-bit word of torch's generator) reach the
    threshold, and scaled by 1 / (1 - p); the gradient is the same mask times the same scale."""
    from s6.training.train import FastDropout

    x = torch.randn(2, 3, 4, 5, requires_grad=True)
    torch.manual_seed(7)
    y = FastDropout(0.25).train()(x)
    torch.manual_seed(7)
    bits = torch.empty(30, dtype=torch.int64).random_(-(2**63), None).view(torch.int16).view(2, 3, 4, 5)
    keep = (bits >= -32768 + 16384).float()  # p = 0.25 = 16,384 / 65,536
    assert torch.equal(y == 0, keep == 0)  # exactly the values the reference drops
    assert torch.allclose(y, x * keep / 0.75, rtol=1e-6, atol=0)
    y.backward(torch.ones_like(y))
    assert torch.allclose(x.grad, keep / 0.75, rtol=1e-6, atol=0)
    assert torch.equal(FastDropout(0.25).eval()(x), x)  # nothing is dropped when reading


def test_the_fast_dropout_drops_p_of_the_values_in_either_memory_layout():
    from s6.training.train import FastDropout

    x = torch.ones(64, 24, 9, 9)
    for maps in (x, x.contiguous(memory_format=torch.channels_last)):
        y = FastDropout(0.05).train()(maps)
        assert y.is_contiguous(memory_format=torch.channels_last) == maps.is_contiguous(
            memory_format=torch.channels_last)  # the output keeps the layout the next layer expects
        assert abs((y == 0).float().mean().item() - 0.05) < 0.005  # 124,416 values: 0.05 within a tenth
        assert y.mean().item() == pytest.approx(1.0, abs=0.01)  # kept values are scaled: the mean is unchanged


def model_file(name: str) -> Path:
    return ROOT / (REGISTRY[name].module.replace(".", "/") + ".py")


@pytest.mark.parametrize("name", list(REGISTRY))
def test_a_model_file_imports_torch_and_its_recipes_types_and_nothing_else_of_s6(name):
    """What a student pastes into a notebook of their own: the file, torch, and the two dataclasses its RECIPE is
    written in (or nothing of s6 at all, once the RECIPE is left out)."""
    import ast

    imported = set()
    for node in ast.walk(ast.parse(model_file(name).read_text())):
        if isinstance(node, ast.Import):
            imported |= {(alias.name, None) for alias in node.names}
        elif isinstance(node, ast.ImportFrom):
            imported |= {(node.module, alias.name) for alias in node.names}
    outside_torch = {(module, what) for module, what in imported if module.split(".")[0] not in ("torch", "__future__")}
    assert outside_torch <= {("s6.models.recipe", "Recipe"), ("s6.models.recipe", "Augment")}, outside_torch


@pytest.mark.parametrize("name", list(REGISTRY))
def test_every_setting_of_a_models_recipe_is_written_in_its_file(name):
    """RECIPE = Recipe(...) names every field, and so does its Augment: no setting comes from a default a reader of
    the file cannot see (Recipe and Augment have none)."""
    import ast
    import dataclasses

    from s6.models.recipe import Augment, Recipe

    tree = ast.parse(model_file(name).read_text())
    (call,) = (node.value for node in tree.body if isinstance(node, ast.Assign)
               and [target.id for target in node.targets] == ["RECIPE"])
    assert call.func.id == "Recipe" and not call.args
    assert {k.arg for k in call.keywords} == {f.name for f in dataclasses.fields(Recipe)}
    for keyword in call.keywords:
        if isinstance(keyword.value, ast.Call) and keyword.value.func.id == "Augment":
            assert {k.arg for k in keyword.value.keywords} == {f.name for f in dataclasses.fields(Augment)}
    assert all(f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING
               for cls in (Recipe, Augment) for f in dataclasses.fields(cls))


@pytest.mark.parametrize("name", list(REGISTRY))
def test_after_the_speed_ups_every_dropout_draws_the_cheaper_mask_and_every_map_is_channels_last(name):
    from s6.training.train import FastDropout, speed_up

    plain = build_model(name)
    dropouts = [m.p for m in plain.modules() if isinstance(m, nn.Dropout)]
    fast = speed_up(copy.deepcopy(plain))
    assert not [m for m in fast.modules() if type(m) is nn.Dropout]
    assert [m.p for m in fast.modules() if isinstance(m, FastDropout)] == dropouts
    assert all(p.is_contiguous(memory_format=torch.channels_last) for p in fast.parameters() if p.dim() == 4)
    seen = []
    first_conv = next(m for m in fast.modules() if isinstance(m, nn.Conv2d))
    first_conv.register_forward_pre_hook(lambda m, args: seen.append(args[0]))
    fast(torch.randn(2, 1, 28, 28))  # a channels-first batch, as the loaders give it
    assert seen[0].is_contiguous(memory_format=torch.channels_last)
    assert fast.state_dict().keys() == plain.state_dict().keys()  # checkpoints load either way


@pytest.mark.parametrize("name", list(REGISTRY))
def test_in_eval_mode_the_speed_ups_change_no_output_beyond_float_rounding(name):
    from s6.training.train import speed_up

    plain = build_model(name).eval()
    fast = speed_up(copy.deepcopy(plain)).eval()
    x = torch.randn(8, 1, 28, 28)
    assert torch.allclose(fast(x), plain(x), atol=1e-5)


def test_model2_as_its_file_writes_it_trains_in_a_textbook_loop(mnist):
    """The path a student copies: Model-2's file alone, torch.optim.SGD, plain nn.Dropout and channels-first maps.
    A short run must learn (a tenth of an epoch: well past chance)."""
    torch.manual_seed(0)
    model = build_model("model2")
    optimizer = torch.optim.SGD(model.parameters(), lr=0.05, momentum=0.9)
    images = ((mnist.train_images[:4096].unsqueeze(1).float() / 255) - 0.1307) / 0.3081
    labels = mnist.train_labels[:4096]
    model.train()
    for start in range(0, 4096, 64):
        loss = nn.functional.cross_entropy(model(images[start:start + 64]), labels[start:start + 64])
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    model.eval()
    with torch.no_grad():
        test = ((mnist.test_images[:1000].unsqueeze(1).float() / 255) - 0.1307) / 0.3081
        accuracy = (model(test).argmax(1) == mnist.test_labels[:1000]).float().mean().item()
    assert accuracy > 0.5, accuracy  # chance is 0.1


def test_model2_pools_its_first_convolution_before_batchnorm_and_relu():
    """Max-pooling commutes with ReLU, not with BatchNorm: pooling first is a design choice, and it leaves
    BatchNorm and ReLU a quarter of the 26x26 map to work on."""
    block1 = build_model("model2").block1
    assert [type(m) for m in block1] == [nn.Conv2d, nn.MaxPool2d, nn.BatchNorm2d, nn.ReLU]
    rows = receptive_field_table(build_model("model2"))
    assert [(r.layer, r.size, r.rf, r.jump) for r in rows[1:3]] == [("block1.0", 26, 3, 1), ("block1.1", 13, 4, 2)]


def test_each_models_size_and_rf_comments_are_what_the_model_computes():
    """Each layer's comment in s6/models/modelN.py (``# 28 -> 26 -> 13, RF 3 -> 4``) is typed by hand: here it is
    held to the map sizes and receptive fields the built model has."""
    import itertools
    import re

    for model in REGISTRY:
        blocks = {r.layer.split(".")[0] for r in receptive_field_table(build_model(model))[1:]} - {"head"}  # 1x1 on 1x1
        checked = set()
        for line in (ROOT / (REGISTRY[model].module.replace(".", "/") + ".py")).read_text().splitlines():
            found = re.match(r"\s*self\.(\w+) = .*#\s*([\d >-]+), RF ([\d >-]+)", line)
            if not found:
                continue
            name, sizes, fields = found[1], re.findall(r"\d+", found[2]), re.findall(r"\d+", found[3])
            rows = [r for r in receptive_field_table(build_model(model)) if r.layer.split(".")[0] == name]
            dedup = lambda values: [v for v, _ in itertools.groupby(values)]  # noqa: E731 (a separable block's 1x1)
            assert dedup(r.size for r in rows) == [int(s) for s in sizes[1:]], (model, name, line)
            assert dedup(r.rf for r in rows) == [int(f) for f in fields], (model, name, line)
            checked.add(name)
        assert checked == blocks, (model, "blocks whose line gives no map size and RF", sorted(blocks - checked))


def test_readmes_layer_table_is_model2s_module_layer_by_layer():
    """README's table of Model-2's layers against the module itself: each row a child of the network in the order
    forward() calls them, its steps the child's own layers, its output the shape a dummy image gets there, its
    parameters the child's."""
    import re

    text = (ROOT / "README.md").read_text()
    table = re.search(r"<!-- s6:blocks-model2 -->\n(.*?)<!-- /s6:blocks-model2 -->", text, re.S)[1]
    rows = [[cell.strip() for cell in line.strip("|").split("|")] for line in table.splitlines()[2:-1]]
    model = build_model("model2").eval()
    outputs = {}
    for name, child in model.named_children():
        child.register_forward_hook(lambda m, i, o, name=name: outputs.update({name: tuple(o.shape[1:])}))
    model(torch.zeros(1, 1, 28, 28))

    def words(layer: nn.Module) -> str:
        if isinstance(layer, nn.Conv2d):
            return f"{layer.kernel_size[0]}×{layer.kernel_size[1]} conv to {layer.out_channels}"
        if isinstance(layer, nn.Dropout):
            return f"Dropout {layer.p:g}"
        return {nn.MaxPool2d: "max-pool", nn.BatchNorm2d: "BatchNorm", nn.ReLU: "ReLU",
                nn.AdaptiveAvgPool2d: "global average pool"}[type(layer)]

    rf = {r.layer.split(".")[0]: r.rf for r in receptive_field_table(model)}
    children = list(model.named_children())
    assert [row[0] for row in rows] == [name for name, _ in children]
    for (name, child), (_, steps, output, field, params) in zip(children, rows, strict=True):
        leaves = list(child) if isinstance(child, nn.Sequential) else [child]
        assert steps == " → ".join(words(layer) for layer in leaves), name
        assert output == "×".join(map(str, outputs[name])), name
        assert int(field) == rf[name] and int(params.replace(",", "")) == sum(p.numel() for p in child.parameters())


def test_every_committed_checkpoint_loads_into_todays_network_of_its_model():
    """The shipped weights and every run in results/ were written by the networks s6 had then: their weights'
    names and shapes must still be today's modules' (strict loading), or no figure in results/ can be reproduced."""
    from s6.inference.shipped import SHIPPED
    from s6.training.checkpoint import load_checkpoint

    files = [SHIPPED, *sorted((ROOT / "results").rglob("checkpoint.pt"))]
    record = json.loads((ROOT / "results" / "seeds.json").read_text())
    runs = {ROOT / "results" / model / f"seed{run['seed']}" / "checkpoint.pt" for model in record
            for run in record[model]["runs"]}
    assert runs <= set(files), sorted(runs - set(files))  # each seed README's tables count has its weights here
    for path in files:
        checkpoint = load_checkpoint(path)
        build_model(checkpoint["plan"]["model"]).load_state_dict(checkpoint["state_dict"])  # strict: every name
