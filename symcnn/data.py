"""Data sets for training: scikit-learn's bundled 8x8 digits, or a user's own ``.npz`` arrays.

Nothing is downloaded: the digits ship inside scikit-learn.  Every data set is checked against
the spec (one line naming the data set and array for each kind of mismatch) and split into a
seeded train and test part, stratified by class when every class can be in both parts.
"""

from __future__ import annotations

import math
import zipfile
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
        arrays = read_npz(name[4:], "the arrays")
        missing = [key for key in ("X", "y") if key not in arrays]
        if missing:
            raise ShapeError(f"{name[4:]}: no array {missing[0]!r} (it has {', '.join(arrays) or 'none'})")
        X, y = arrays["X"], arrays["y"]
    else:
        raise SymcnnError(f"--data: unknown data set {name!r}; expected digits or npz:PATH")
    X, y = _checked(name, X, y, spec)
    return _split(name, X, y, spec, seed, test_fraction)


def read_npz(path: str | Path, what: str) -> dict[str, np.ndarray]:
    """Every array of a ``numpy.savez`` file, or one line saying why not (``what`` names the
    contents in it).  The first bytes tell a zip archive (``.npz``) from a single ``.npy`` array
    or anything else, so that numpy's own messages (pickled data, bad zip files) never reach users."""
    if not str(path):
        raise SymcnnError(f"{what}: no file named (npz:PATH needs a path)")
    try:
        with open(path, "rb") as file:
            start = file.read(6)
    except OSError as error:
        raise SymcnnError(f"{path}: cannot read {what} ({error.strerror or error})") from None
    write = "write one with numpy.savez(PATH, name=array, ...)"
    if start == b"\x93NUMPY":
        raise SymcnnError(f"{path}: a single .npy array, not an .npz archive of {what}; {write}")
    if not start.startswith(b"PK\x03\x04"):
        kind = "an empty file" if not start else "not a zip file"
        raise SymcnnError(f"{path}: not an .npz archive of {what} ({kind}); {write}")
    try:
        with np.load(path, allow_pickle=False) as archive:
            return {key: _member(archive, key, path) for key in archive.files}
    except SymcnnError:
        raise
    except (OSError, ValueError, EOFError, zipfile.BadZipFile) as error:
        reason = (str(error) or type(error).__name__).splitlines()[0]
        raise SymcnnError(f"{path}: a broken .npz archive of {what} ({reason})") from None


def _member(archive, key: str, path) -> np.ndarray:
    try:
        return archive[key]
    except ValueError as error:
        if "allow_pickle" in str(error):
            raise SymcnnError(f"{path}: array {key!r} holds Python objects (pickled data), which symcnn does not "
                              "load; store numbers") from None
        raise


def _checked(name: str, X, y, spec: Spec):
    """``X`` as float64 ``(n, *sample_shape)`` and ``y`` as the spec's loss needs it, or a
    :class:`ShapeError` naming the data set, the array and what is wrong."""
    X, y = np.asarray(X), np.asarray(y)
    if X.ndim == 0 or y.ndim == 0:
        raise ShapeError(f"{name}: X and y must be arrays with one entry per sample, got shapes {X.shape} and "
                         f"{y.shape}")
    if X.shape[1:] not in (spec.sample_shape, spec.input_shape):
        raise ShapeError(f"{name}: samples of shape {X.shape[1:]}, but the spec's input is {spec.sample_shape}")
    if X.dtype == bool or not np.issubdtype(X.dtype, np.integer) and not np.issubdtype(X.dtype, np.floating):
        raise ShapeError(f"{name}: X must hold real numbers, got dtype {X.dtype}")
    if not np.isfinite(X).all():
        bad = np.argwhere(~np.isfinite(X))[0]
        raise ShapeError(f"{name}: X must hold finite numbers (first at X{[int(i) for i in bad]})")
    if len(y) != len(X):
        raise ShapeError(f"{name}: {len(X)} samples in X but {len(y)} in y")
    if len(X) < 2:
        raise ShapeError(f"{name}: {len(X)} sample(s); a train and a test part need at least 2")
    classes = int(np.prod(spec.output_shape))
    if spec.class_labels:
        labels = f"y must be class labels 0..{classes - 1} for the spec's {classes} outputs"
        if y.ndim != 1:
            raise ShapeError(f"{name}: {labels}, one per sample, got shape {y.shape}"
                             + (" (one-hot rows? use y.argmax(axis=1))" if y.shape[1:] == (classes,) else ""))
        if y.dtype == bool or not np.issubdtype(y.dtype, np.integer):
            raise ShapeError(f"{name}: {labels}, stored as integers; got dtype {y.dtype}"
                             + (" (convert with y.astype(int))" if _whole_numbers(y) else ""))
        bad = np.flatnonzero((y < 0) | (y >= classes))
        if bad.size:
            raise ShapeError(f"{name}: {labels}, got {y[bad[0]]} (sample {bad[0]})")
    elif (y.shape[1:] != (classes,) or y.dtype == bool or not np.issubdtype(y.dtype, np.number)
          or np.iscomplexobj(y) or not np.isfinite(y).all()):
        raise ShapeError(f"{name}: y must be finite real targets of shape (n, {classes}), got {y.dtype} {y.shape}")
    return X.astype(np.float64).reshape(len(X), *spec.sample_shape), y


def _whole_numbers(y: np.ndarray) -> bool:
    return np.issubdtype(y.dtype, np.floating) and bool(np.all(np.isfinite(y) & (y == np.round(y))))


def _split(name: str, X, y, spec: Spec, seed: int, test_fraction: float) -> Dataset:
    """A seeded split, stratified by class when every class can be in both parts."""
    from sklearn.model_selection import train_test_split
    test = math.ceil(test_fraction * len(X))
    stratify = None
    if spec.class_labels:
        counts = np.unique(y, return_counts=True)[1]
        if counts.min() >= 2 and len(counts) <= min(test, len(X) - test):
            stratify = y
    X_train, X_test, y_train, y_test = train_test_split(X, y, test_size=test, random_state=seed,
                                                        stratify=stratify)
    return Dataset(name, X_train, y_train, X_test, y_test)
