"""The ``symcnn`` command line; the commands themselves are in :mod:`symcnn.commands`.

Exit status: 0
success, 1 a check that ran and failed, 2 bad input (one line on stderr naming the file, key or
argument), 130 Ctrl-C (one line; ``train`` saves its work first).
"""

from __future__ import annotations

import sys


def main(argv: list[str] | None = None) -> int:
    """The ``symcnn`` command.  SymPy, NumPy and Numba are imported here, inside the handler, so
    that a Ctrl-C in the second it takes to load them is one line and exit 130 like any other."""
    try:
        from .commands import run
        return run(argv)
    except KeyboardInterrupt:
        print("symcnn: interrupted", file=sys.stderr)
        return 130
