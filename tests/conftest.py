"""Shared test helpers: paths, seeded generators."""

from pathlib import Path

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parent.parent
DERIVATIONS = ROOT / "derivations"


@pytest.fixture
def rng():
    return np.random.default_rng(20261125)
