"""Data sets for training: scikit-learn's bundled 8x8 digits, or a user's own ``.npz`` arrays.

Nothing is downloaded: the digits ship inside scikit-learn.  Every data set is split into a
seeded, stratified (for class labels) train and test part.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .errors import ShapeError, SymcnnError
from .spec import Spec


@dataclass(frozen=True)
class Dataset:
    """Train and test arrays; ``X`` is ``(n, *input)``, ``y`` labels ``(n,)`` or targets ``(n, K)``."""

    name: str
    X_train: np.ndarray
    y_train: np.ndarray
    X_test: np.ndarray
    y_test: np.ndarray


def load_data(name: str, spec: Spec, seed: int = 0, test_fraction: float = 0.25) -> Dataset:
    """``"digits"`` or ``"npz:PATH"`` (arrays ``X`` and ``y``), checked against the spec."""
    if name == "digits":
        from sklearn.datasets import load_digits  # scikit-learn is slow to import: only when used
        digits = load_digits()
        X, y = digits.images / 16.0, digits.target
    elif name.startswith("npz:"):
        X, y = _read_npz(Path(name[4:]))
    else:
        raise SymcnnError(f"--data: unknown data set {name!r}; expected digits or npz:PATH")
    X, y = _checked(name, X, y, spec)
    return _split(name, X, y, spec, seed, test_fraction)


def _read_npz(path: Path):
    try:
        with np.load(path) as arrays:
            missing = [key for key in ("X", "y") if key not in arrays.files]
            if missing:
                raise ShapeError(f"{path}: no array {missing[0]!r} (it has {', '.join(arrays.files) or 'none'})")
            return arrays["X"], arrays["y"]
    except (OSError, ValueError) as error:
        raise SymcnnError(f"{path}: cannot read the arrays ({error})") from None


def _checked(name: str, X, y, spec: Spec):
    X, y = np.asarray(X), np.asarray(y)
    if X.shape[1:] not in (spec.sample_shape, spec.input_shape):
        raise ShapeError(f"{name}: samples of shape {X.shape[1:]}, but the spec's input is {spec.sample_shape}")
    if not np.issubdtype(X.dtype, np.number) or not np.isfinite(X).all():
        bad = np.argwhere(~np.isfinite(X.astype(float)))[0] if np.issubdtype(X.dtype, np.number) else None
        where = f" (first at X{[int(i) for i in bad]})" if bad is not None else ""
        raise ShapeError(f"{name}: X must hold finite numbers{where}")
    classes = int(np.prod(spec.output_shape))
    if len(y) != len(X):
        raise ShapeError(f"{name}: {len(X)} samples in X but {len(y)} in y")
    if spec.loss == "cross_entropy":
        if y.ndim != 1 or not np.issubdtype(y.dtype, np.integer) or y.min() < 0 or y.max() >= classes:
            raise ShapeError(f"{name}: y must be class labels 0..{classes - 1} for the spec's {classes} outputs")
    elif y.shape[1:] != (classes,) or not np.isfinite(y).all():
        raise ShapeError(f"{name}: y must be finite targets of shape (n, {classes}), got {y.shape}")
    return X.astype(np.float64).reshape(len(X), *spec.sample_shape), y


def _split(name, X, y, spec: Spec, seed: int, test_fraction: float) -> Dataset:
    from sklearn.model_selection import train_test_split
    stratify = y if spec.loss == "cross_entropy" else None
    X_train, X_test, y_train, y_test = train_test_split(X, y, test_size=test_fraction, random_state=seed,
                                                        stratify=stratify)
    return Dataset(name, X_train, y_train, X_test, y_test)
