"""A screen of several sizes, read back: each size's worst seed, its mean, whether every seed held the bar in each
of its last epochs, and the figure and table drawn from them (s6.results.frontier, plots, report)."""

import pytest
from report import frontier_table, smallest_holding

from s6.results.frontier import frontier
from s6.results.plots import plot_frontier


def row(candidate: str, family: str, params: int, seed: int, val_accs: list[float]) -> dict:
    return {"candidate": candidate, "note": f"{family} at {params}", "family": family, "params": params, "seed": seed,
            "final_val_acc": val_accs[-1], "val_accs": val_accs, "seconds": 120.0, "threads": 1,
            "device": "cpu: test, 1 thread", "torch": "2.x"}


RECORD = {"reference": "plain-big", "chosen": "sep-small", "runs": [
    # an early low epoch is not one of the last three: it holds
    row("plain-big", "plain", 7000, 1, [97.0, 99.45, 99.5, 99.6]),
    row("plain-big", "plain", 7000, 2, [98.0, 99.4, 99.41, 99.5]),
    # its final epochs reach the bar, but seed 2 dipped in the third-last: it does not hold
    row("plain-small", "plain", 4000, 1, [97.0, 99.5, 99.5, 99.5]),
    row("plain-small", "plain", 4000, 2, [98.0, 99.39, 99.45, 99.45]),
    row("sep-small", "separable", 3800, 1, [97.0, 99.3, 99.3, 99.35]),
    row("sep-small", "separable", 3800, 2, [98.0, 99.5, 99.5, 99.55]),
]}


def test_a_size_holds_only_if_every_seed_reaches_the_bar_in_each_of_its_last_three_epochs():
    points = {p.candidate: p for p in frontier(RECORD)}
    assert points["plain-big"].holds() and points["plain-big"].held == pytest.approx(99.4)
    assert not points["plain-small"].holds() and points["plain-small"].held == pytest.approx(99.39)
    assert points["plain-small"].worst == pytest.approx(99.45)  # its finals both pass: only the last three tell
    sep = points["sep-small"]
    assert (sep.worst, sep.worst_seed, sep.mean, sep.seeds) == (pytest.approx(99.35), 1, pytest.approx(99.45), (1, 2))


def test_the_smallest_holding_size_is_the_fewest_parameters_that_held_and_none_when_none_did():
    assert smallest_holding(frontier(RECORD)).candidate == "plain-big"
    assert smallest_holding(frontier(RECORD), bar=99.7) is None


def test_the_frontier_figure_draws_each_familys_worst_and_mean_seed_at_its_parameters():
    (ax,) = plot_frontier(RECORD).axes
    drawn = [line for line in ax.get_lines() if len(line.get_xdata())]  # not the legend's keys to the markers
    worst = {line.get_label(): line for line in drawn
             if line.get_marker() == "o" and line.get_markerfacecolor() != "none"}
    held = [list(line.get_ydata()) for line in drawn if line.get_marker() == "v"]
    assert held == [pytest.approx([99.39, 99.4]), pytest.approx([99.3])]  # each seed's lowest of its last 3
    means = [line for line in drawn if line.get_markerfacecolor() == "none"]
    plain = worst["plain (2 seeds)"]
    assert list(plain.get_xdata()) == [4000, 7000] and list(plain.get_ydata()) == pytest.approx([99.45, 99.5])
    assert [list(line.get_ydata()) for line in means] == [pytest.approx([99.475, 99.55]), pytest.approx([99.45])]
    assert means[0].get_color() == plain.get_color()  # a family's mean in its worst seed's colour
    low, high = ax.get_ylim()
    assert low < 99.3 and high > 99.55  # every point, and the bar, in view
    assert [t.get_text() for t in ax.texts] == ["Model-3 (sep-small)"]  # the record's chosen candidate, pointed out


def test_the_frontier_table_names_the_smallest_size_that_held_and_compares_seed_by_seed():
    table = frontier_table(RECORD)
    assert "**plain-big**, 7,000 parameters" in table
    lines = {line.split(" | ")[0].strip("| "): line for line in table.splitlines() if line.startswith("| ")}
    assert "| 99.39 | -0.075 (2 seeds) |" in lines["plain-small"]  # (99.5 - 99.6 + 99.45 - 99.5) / 2
    assert "| 99.35 (1) |" in lines["sep-small"]
