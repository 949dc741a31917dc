"""How far `s6 train` is from `loss.backward()`: every s6 module whose functions run from the command line's main()
to the first backward pass (the package's own __init__ included), in the order first entered, and the call stack at
that moment.

    python tools/path_to_backward.py [--data-dir DIR]

It trains nothing past the first batch: the default run, stopped at its first ``backward``.
"""

from __future__ import annotations

import argparse
import inspect
import sys
import tempfile


class Reached(Exception):
    """Raised from inside the first backward call: the trace is complete."""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-dir", help="MNIST root (default: $S6_DATA_DIR, else ./data)")
    args = parser.parse_args()

    import torch

    from s6.cli import main as s6_main

    entered: list[str] = []  # s6 modules, in the order their code first ran
    stack: list[str] = []

    def profile(frame, event, arg):  # noqa: ANN001 - sys.setprofile's signature
        if event != "call" or not frame.f_code.co_flags & inspect.CO_OPTIMIZED:  # a function, not an import's
            return  # module or class body
        if frame.f_code.co_filename != frame.f_globals.get("__file__"):  # code a decorator wrote (a dataclass's)
            return
        module = frame.f_globals.get("__name__", "")
        if module.startswith("s6") and module not in entered:
            entered.append(module)

    def backward(self, *a, **k):  # noqa: ANN001, ANN002, ANN003
        sys.setprofile(None)
        frame = sys._getframe(1)
        while frame is not None:
            module = frame.f_globals.get("__name__", "")
            if module.startswith("s6"):
                stack.append(f"{module}.{frame.f_code.co_name}")
            frame = frame.f_back
        raise Reached

    torch.Tensor.backward = backward
    with tempfile.TemporaryDirectory() as out:
        argv = ["train", "--quiet", "--out", out]  # `s6 train` as README runs it: the default model and schedule
        argv += ["--data-dir", args.data_dir] if args.data_dir else []
        sys.setprofile(profile)
        try:
            s6_main(argv)
        except Reached:
            pass
        finally:
            sys.setprofile(None)
    print(f"{len(entered)} s6 modules run from main() to the first loss.backward(), in the order first entered:")
    print("  " + " -> ".join(m.removeprefix("s6.") if m != "s6" else "s6 (its __init__)" for m in entered))
    print(f"{len({f.rsplit('.', 1)[0] for f in stack})} modules on the call stack at loss.backward(), its functions:")
    print("  " + " -> ".join(reversed(stack)))


if __name__ == "__main__":
    main()
