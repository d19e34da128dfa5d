"""Shared test helpers: paths, seeded generators, commands that Ctrl-C can reach."""

import signal
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parent.parent
DERIVATIONS = ROOT / "derivations"


@pytest.fixture
def rng():
    return np.random.default_rng(20261125)


def start_symcnn(*args, **kwargs) -> subprocess.Popen:
    """``python -m symcnn ARGS`` as a user starts it from a terminal, where Ctrl-C reaches it.
    A shell that runs the suite in the background (CI runs two suites at once) starts it with
    SIGINT ignored, which the child would inherit and Python would honour: reset it."""
    return subprocess.Popen([sys.executable, "-m", "symcnn", *map(str, args)], text=True,
                            preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL), **kwargs)
