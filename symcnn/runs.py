"""What a training run leaves on disk, and reading it back: ``params.npz`` (the parameters,
for ``model.predict`` or to resume), ``velocity.npz`` (the momentum ``v`` of SGD, to resume
exactly where the run stopped) and ``history.json`` (losses, scores, how the run ended).

Files are written through a temporary file and a rename, with Ctrl-C held back meanwhile, so
that an interrupted run never leaves a half-written file behind.
"""

from __future__ import annotations

import json
import os
import signal
import threading
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path
from typing import NamedTuple

import numpy as np

from .data import read_npz
from .errors import ShapeError, SymcnnError


@dataclass
class History:
    """Per step the minibatch loss; per epoch the mean loss, the accuracies (or errors) and the
    number of steps done so far; the loss at the starting parameters; how the run ended."""

    step_loss: list = field(default_factory=list)
    epoch_loss: list = field(default_factory=list)
    train_score: list = field(default_factory=list)
    test_score: list = field(default_factory=list)
    epoch_steps: list = field(default_factory=list)
    start_loss: float | None = None
    status: str = "running"


def load_params(path: str | Path) -> dict[str, np.ndarray]:
    """Parameters saved by :func:`~symcnn.training.train` (``params.npz``), ready for ``model.predict``."""
    return read_npz(path, "saved parameters")


class SavedRun(NamedTuple):
    """A run read back by :func:`load_run`: ``velocity`` and ``history`` are ``None`` where the
    files beside ``params.npz`` are missing (a ``params.npz`` saved by hand, say)."""

    params: dict
    history: History | None
    velocity: dict | None
    path: Path


def load_run(path: str | Path) -> SavedRun:
    """What a run saved, to resume it: ``path`` is its ``params.npz`` or the folder holding it;
    ``train(model, data, params=run.params, history=run.history, velocity=run.velocity)`` goes on
    from there."""
    path = Path(path)
    if path.is_dir():
        path = path / "params.npz"
    params = load_params(path)
    history, velocity = path.parent / "history.json", path.parent / "velocity.npz"
    return SavedRun(params, load_history(history) if history.exists() else None,
                    read_npz(velocity, "saved momentum") if velocity.exists() else None, path)


def load_history(path: str | Path) -> History:
    """A ``history.json`` written by :func:`~symcnn.training.train`."""
    try:
        data = json.loads(Path(path).read_text())
        names = {f.name for f in fields(History)}
        history = History(**{key: value for key, value in data.items() if key in names})
        lists = [history.step_loss, history.epoch_loss, history.train_score, history.test_score]
        if not all(isinstance(v, list) and all(isinstance(x, (int, float)) for x in v) for v in lists):
            raise ValueError("the loss and score lists must hold numbers")
    except (OSError, ValueError, TypeError, AttributeError) as error:
        raise SymcnnError(f"{path}: not a training history written by symcnn "
                          f"({getattr(error, 'strerror', None) or str(error).splitlines()[0]})") from None
    if not history.epoch_steps and history.epoch_loss:  # written before epoch_steps was recorded
        per_epoch = len(history.step_loss) // len(history.epoch_loss)
        history.epoch_steps = [per_epoch * (e + 1) for e in range(len(history.epoch_loss))]
    return history


def check_params(params: dict, shapes: dict, source: str) -> dict:
    """``params`` as float arrays with exactly the names and ``shapes`` of a network's parameters
    and finite entries, or a :class:`ShapeError` naming ``source`` and the first mismatch."""
    missing = [name for name in shapes if name not in params]
    extra = [name for name in params if name not in shapes]
    if missing or extra:
        raise ShapeError(f"{source}: " + (f"no {', '.join(missing)}" if missing else f"unknown {', '.join(extra)}")
                         + f"; this network's parameters are {', '.join(shapes)}")
    for name, shape in shapes.items():
        value = np.asarray(params[name])
        if value.shape != tuple(shape) or not np.issubdtype(value.dtype, np.floating):
            raise ShapeError(f"{source}: {name} is {value.dtype} {value.shape}, expected float {tuple(shape)}")
        if not np.isfinite(value).all():
            raise ShapeError(f"{source}: {name} holds {value[~np.isfinite(value)][0]}")
    return {name: np.asarray(params[name]) for name in shapes}


def output_folder(out) -> Path | None:
    """``out`` created if need be and checked to be writable (``None`` stays ``None``)."""
    if out is None:
        return None
    out = Path(out)
    try:
        out.mkdir(parents=True, exist_ok=True)
        probe = out / ".symcnn-write-test"
        probe.write_text("")
        probe.unlink()
    except OSError as error:
        raise SymcnnError(f"--out {out}: cannot write there ({error.strerror})") from None
    return out


def save_run(out: Path, params: dict, history: History, velocity: dict) -> tuple[Path, Path, Path]:
    """``out/params.npz``, ``out/history.json`` and ``out/velocity.npz``, each whole (old or new)
    whatever happens."""
    with _no_interrupts():  # a second Ctrl-C must not leave half-written files
        return (_replace(out / "params.npz", lambda file: np.savez(file, **params)),
                _replace(out / "history.json", lambda file: file.write(json.dumps(asdict(history)).encode())),
                _replace(out / "velocity.npz", lambda file: np.savez(file, **velocity)))


def _replace(path: Path, write) -> Path:
    """Write through a temporary file and rename it: ``path`` is always whole, old or new."""
    partial = path.with_name(path.name + ".partial")
    with open(partial, "wb") as file:
        write(file)
    os.replace(partial, path)
    return path


@contextmanager
def _no_interrupts():
    """Hold Ctrl-C back (in the main thread, where signals arrive) while files are written."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        yield
    finally:  # None: a handler installed from C, which Python cannot put back; Python's own instead
        signal.signal(signal.SIGINT, signal.default_int_handler if previous is None else previous)
