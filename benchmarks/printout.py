"""A benchmark's printout, kept as its record: the lines it printed, verbatim, and the figures prose quotes.

docs/ shows a benchmark's output as a code block, and README quotes a figure or two from it; both are generated
from the record by ``python tools/report.py``, whose check (a test) fails when they no longer match it. So an
output cannot be trimmed or edited by hand, and a figure cannot outlive the run that measured it.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from datetime import date
from pathlib import Path

from s6 import S6Error, save_json, writable_file


class Printout:
    """Print a line and keep it; ``figures`` holds the numbers README's prose quotes (by name)."""

    def __init__(self, benchmark: str) -> None:
        self.benchmark = benchmark  # the script that printed it
        self.lines: list[str] = []
        self.figures: dict = {}

    def __call__(self, line: str = "") -> None:
        print(line, flush=True)
        self.lines.extend(line.split("\n"))

    def save(self, path: str | os.PathLike) -> None:
        """The record as JSON, written atomically: the benchmark and its options, the day it ran, the s6 and torch
        versions and the commit, its lines and its figures."""
        from s6.device import versions  # torch's version: a benchmark has imported it already

        save_json(path, {"benchmark": self.benchmark, "arguments": sys.argv[1:], "date": date.today().isoformat(),
                         **versions(), "lines": self.lines, "figures": self.figures})


def load_printout(path: str | os.PathLike) -> dict:
    """A saved record (``Printout.save``); a raw .txt output (results/h100/) reads as its lines alone."""
    path = Path(path)
    if path.suffix == ".txt":
        return {"lines": path.read_text().rstrip("\n").split("\n"), "figures": {}}
    return json.loads(path.read_text())


def add_save_option(parser: argparse.ArgumentParser) -> None:
    """A benchmark's ``--save FILE``: keep its printout as a record, besides printing it. The file's folder is
    checked when the options are read, so a benchmark never runs for minutes and then cannot keep its record."""
    parser.add_argument("--save", metavar="FILE", type=_writable, help="also keep the printout as a JSON record "
                        "(results/bench/NAME.json is what python tools/report.py quotes in README and docs/)")


def _writable(path: str) -> Path:
    try:
        return writable_file(path, "--save")
    except S6Error as e:
        raise argparse.ArgumentTypeError(str(e)) from None
