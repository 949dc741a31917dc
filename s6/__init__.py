"""s6: backpropagation by hand and a parameter-efficient MNIST CNN."""

__version__ = "0.3.0"  # the minor number moves when a model's design does: 0.3 is the 5-epoch Model-2


class S6Error(Exception):
    """A problem the user can fix; the CLI prints it as one line and exits non-zero."""


class TrainingInterrupted(S6Error):
    """Ctrl-C during training; the last completed epoch is saved. The CLI exits with 130."""


def plural(count: int, word: str) -> str:
    """``1 epoch``, ``2 epochs``: counts in messages read as English."""
    return f"{count:,} {word}" if count == 1 else f"{count:,} {word}s"
