"""A figure in README, docs/ or results/*/README.md describes what is here now, or says which design it describes:
a parameter count belongs to a registered model, or its paragraph names a commit, a date or the peer."""

import re

import pytest
from conftest import ROOT

from s6.models.registry import REGISTRY, build_model

PAGES = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md")), *sorted((ROOT / "results").glob("*/README.md"))]
COUNT = re.compile(r"(?<![\d,.])(\d{1,3}(?:,\d{3})+)[- ]parameters?\b")
BOUND = re.compile(r"(?:under|fewer than|<|≤|at most|below)\s*$", re.I)  # "under 4,000 parameters": a goal, no model
# What dates a paragraph: a commit (7 hex digits with a digit and a letter), a day, or the timed peer of speed.md.
DATED = re.compile(r"(?<![0-9a-f])(?=[0-9a-f]*[a-f])(?=[0-9a-f]*\d)[0-9a-f]{7,40}(?![0-9a-f])|\b20\d\d-\d\d-\d\d\b|"
                   r"\bpeer", re.I)


def registered_counts() -> set[int]:
    return {sum(p.numel() for p in build_model(name).parameters()) for name in REGISTRY}


def undated_counts(text: str, current: set[int]) -> list[str]:
    """Each parameter count of ``text`` that is no registered model's, no bound, and in a paragraph naming no
    commit, day or peer, with the start of its paragraph."""
    found = []
    for paragraph in re.split(r"\n\s*\n", text):
        for match in COUNT.finditer(paragraph):
            count = int(match[1].replace(",", ""))
            if count in current or BOUND.search(paragraph[: match.start()]) or DATED.search(paragraph):
                continue
            found.append(f"{match[0]} in: {paragraph.strip()[:80]}...")
    return found


@pytest.mark.parametrize("page", PAGES, ids=lambda p: str(p.relative_to(ROOT)))
def test_every_parameter_count_is_a_registered_models_or_names_the_design_it_describes(page):
    assert undated_counts(page.read_text(), registered_counts()) == []


def test_a_count_of_a_gone_design_written_as_current_is_caught():
    current = {19_274}
    assert undated_counts("Model-2 has 19,274 parameters.", current) == []
    assert undated_counts("Under 8,000 parameters every weight counts.", current) == []
    assert undated_counts("At 558d71b it had 19,584 parameters.", current) == []
    assert undated_counts("Today's Model-2 (19,584 parameters, 8 epochs).", current) == [
        "19,584 parameters in: Today's Model-2 (19,584 parameters, 8 epochs)...."]
