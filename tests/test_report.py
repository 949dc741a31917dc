"""README's and docs' result figures are generated from results/seeds.json, and a stale one fails here."""

import pytest
from conftest import ROOT

from s6.report import documents, main, render

RECORD = {"model2": {"params": 19584, "runs": [
    {"seed": 1, "role": "development", "epochs": 8, "final_test_acc": 99.5, "seconds_per_epoch": 18.0,
     "device": "cpu: A"},
    {"seed": 2, "role": "development", "epochs": 8, "final_test_acc": 99.42, "seconds_per_epoch": 20.0,
     "device": "cpu: A"},
    {"seed": 21, "role": "confirmation", "epochs": 8, "final_test_acc": 99.6, "seconds_per_epoch": 19.0,
     "device": "cpu: B"},
]}}


def test_every_marked_figure_in_readme_and_docs_matches_results():
    """`python -m s6.report --check`: what CI runs; `python -m s6.report` rewrites the blocks when this fails."""
    assert main(["--check", "--root", str(ROOT)]) == 0
    assert any("<!-- s6:seeds -->" in path.read_text() for path in documents(ROOT))


def test_a_stale_block_is_rewritten_and_the_text_around_it_is_kept():
    text = "before\n<!-- s6:seeds -->\n| an old table |\n<!-- /s6:seeds -->\nafter <!-- s6:devices-model2 -->\nx\n" \
           "<!-- /s6:devices-model2 --> end\n"
    new = render(text, RECORD)
    assert new.startswith("before\n<!-- s6:seeds -->\n| model |") and new.endswith("<!-- /s6:devices-model2 --> end\n")
    assert "| Model-2 | 19,584 | 8 | 2 development (1-2) | **99.46** | **99.42** (2) | 99.50 | 19.0 |" in new
    assert "| Model-2 | 19,584 | 8 | 1 confirmation (21) | **99.60** | **99.60** (21) | 99.60 | 19.0 |" in new
    assert "Devices: seeds 1-2 on cpu: A; seeds 21 on cpu: B." in new
    assert render(new, RECORD) == new  # regenerating a fresh block changes nothing


def test_an_unknown_block_name_is_an_error_not_a_silent_skip():
    with pytest.raises(KeyError, match="unknown report block 'sedes'"):
        render("<!-- s6:sedes -->\n<!-- /s6:sedes -->", RECORD)
