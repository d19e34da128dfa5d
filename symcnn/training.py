"""Training with the compiled gradients: minibatch SGD with momentum.

    v <- mu v - lr dL/dw        w <- w + v          (per minibatch, mean loss over the batch)

Before the first step the compiled gradients are checked against finite differences on a few
training samples (:func:`~symcnn.gradcheck.check_gradient`); training refuses to start when
they disagree.  A run ends in one of three ways, recorded as ``status`` in ``history.json``:

``"completed"``
    ``out`` receives ``params.npz``, ``history.json``, ``curve.png`` (loss and accuracy) and, for
    a first conv layer, ``filters.png``.
``"interrupted"``
    Ctrl-C (``KeyboardInterrupt``) saves ``params.npz``, ``velocity.npz`` and ``history.json``
    of the steps so far and raises :class:`TrainingInterrupted`; ``train(..., params=...,
    history=..., velocity=...)`` (the command's ``--resume``, see :func:`~symcnn.runs.load_run`)
    continues from them.  Epoch ``e`` visits the samples in the order drawn by
    ``default_rng([seed, e])``, so a run resumed after whole epochs takes exactly the steps the
    uninterrupted run would have taken.
``"diverged"``
    A minibatch loss that is NaN or infinite, or an epoch whose mean loss is more than
    ``DIVERGED`` times the loss at the starting parameters, stops training with a
    :class:`TrainingError`; ``params.npz`` then holds the parameters of the last epoch that
    ended below that limit (or the starting ones).

Without a terminal (a log file, CI) every epoch prints one progress line instead of a bar.
"""

from __future__ import annotations

import numbers
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .activations import LOSSES
from .compile import CompiledModel
from .data import Dataset
from .errors import SymcnnError
from .gradcheck import check_gradient
from .runs import History, check_params, output_folder, save_run

DIVERGED = 2.0  # an epoch's mean loss above DIVERGED x the starting loss: the steps are too large


class TrainingError(SymcnnError):
    """Training stopped: a failing gradient check, or a loss that diverged."""


class TrainingInterrupted(KeyboardInterrupt):
    """Ctrl-C during training, after the parameters and history so far were saved; ``str()`` says
    where.  A ``KeyboardInterrupt``, so that whatever stops on Ctrl-C still stops."""


@dataclass(frozen=True)
class TrainResult:
    params: dict
    history: History
    test_score: float
    seconds: float
    files: tuple
    check: object  # the GradientCheck run before the first step


def score(model: CompiledModel, params: dict, X, y) -> float:
    """Accuracy for class labels; mean squared error per sample for regression targets."""
    if model.spec.class_labels:
        return float(np.mean(model.predict(params, X) == y))
    return float(np.mean(np.sum((model.predict(params, X) - y) ** 2, axis=1)))


def check_settings(epochs, batch, lr, momentum) -> None:
    """One line naming the first setting out of range (the command line's option names)."""
    for name, value in (("epochs", epochs), ("batch", batch)):
        if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < 1:
            raise SymcnnError(f"--{name}: must be a positive integer, got {value!r}")
    if not (isinstance(lr, numbers.Real) and 0 < lr < float("inf")):
        raise SymcnnError(f"--lr: must be a positive number, got {lr!r}")
    if not (isinstance(momentum, numbers.Real) and 0 <= momentum < 1):
        raise SymcnnError(f"--momentum: must be in [0, 1), got {momentum!r}")


def train(model: CompiledModel, data: Dataset, epochs: int = 15, batch: int = 32, lr: float = 0.05,
          momentum: float = 0.9, seed: int = 0, out: str | Path | None = None, progress: bool = True,
          params: dict | None = None, history: History | None = None, velocity: dict | None = None) -> TrainResult:
    """Train ``model`` on ``data`` from seeded initial parameters, or from ``params`` (continuing
    ``history``, with the momentum ``velocity``, zero when not given) when resuming; see the
    module doc."""
    check_settings(epochs, batch, lr, momentum)
    out = output_folder(out)
    params = model.init_params(seed) if params is None else check_params(params, model.shapes, "params")
    history = History() if history is None else history
    velocity = ({name: np.zeros_like(value) for name, value in params.items()} if velocity is None
                else check_params(velocity, model.shapes, "velocity"))
    start_loss = _mean_loss(model, params, data)
    if not np.isfinite(start_loss):
        raise TrainingError(f"{data.name}: the loss at the starting parameters is {start_loss}; are the inputs "
                            f"scaled? (the largest |X| is {np.abs(data.X_train).max():.3g})")
    check = gradient_check(model, params, data, np.random.default_rng(seed))
    if not check.passed:
        raise TrainingError(f"the compiled gradients fail the finite-difference check, not training: "
                            f"{str(check).splitlines()[-1]}")
    if progress:
        worst = check.worst
        print(f"gradient check before training: {sum(p.checked for p in check.parameters)} entries of "
              f"{len(check.parameters)} parameters, {check.samples} samples, worst relative error {worst.error:.1e} "
              f"(allowed {worst.allowed:.1e}): passed", flush=True)
    history.start_loss, history.status = start_loss, "running"
    run = _Run(model, data, params, velocity, history, out, lr, momentum)
    start = time.perf_counter()
    bar = _progress(epochs * -(-len(data.X_train) // batch), progress)
    done = len(history.epoch_loss)  # epochs of the run resumed
    try:
        for epoch in range(done + 1, done + epochs + 1):
            run.epoch(np.random.default_rng([seed, epoch]).permutation(len(data.X_train)), batch, bar)
            if progress and not sys.stdout.isatty():
                print(f"epoch {epoch}/{done + epochs}: " + run.summary(time.perf_counter() - start), flush=True)
    except KeyboardInterrupt:
        bar.close()
        saved = run.stop("interrupted")
        where = f"step {len(history.step_loss)} (epoch {len(history.epoch_loss) + 1})"
        raise TrainingInterrupted(f"training interrupted at {where}; " + (
            f"the parameters and history so far are in {out} (continue with --resume {saved[0]})" if saved
            else "nothing saved (no output folder)")) from None
    bar.close()
    seconds, history.status = time.perf_counter() - start, "completed"
    files = _write_outputs(out, run, model) if out else ()
    return TrainResult(run.params, history, history.test_score[-1], seconds, files, check)


class _Run:
    """The state of a run between steps: parameters and velocity, history, and the parameters
    and velocity at the end of the last epoch that did not diverge (``good``)."""

    def __init__(self, model, data, params, velocity, history, out, lr, momentum):
        self.model, self.data, self.history, self.out = model, data, history, out
        self.lr, self.momentum = lr, momentum
        self.params, self.velocity = params, velocity
        self.good = params, velocity

    def epoch(self, order, batch, bar) -> None:
        """One pass over the training set, then the epoch's scores; divergence stops the run."""
        losses = []
        for first in range(0, len(order), batch):
            chosen = order[first:first + batch]
            with np.errstate(all="ignore"):  # a diverging loss is reported below, by its step
                loss, grads = self.model.loss_and_grad(self.params, self.data.X_train[chosen],
                                                       self.data.y_train[chosen])
            if not np.isfinite(loss):
                self._diverged(f"the loss became {loss} at step {len(self.history.step_loss) + 1} "
                               f"(epoch {len(self.history.epoch_loss) + 1})")
            velocity = {name: self.momentum * v - self.lr * grads[name] for name, v in self.velocity.items()}
            # one assignment, so that Ctrl-C finds either the old or the new parameters
            self.params, self.velocity = {name: w + velocity[name] for name, w in self.params.items()}, velocity
            self.history.step_loss.append(loss)
            losses.append(loss)
            bar.update(1)
            bar.set_postfix(loss=f"{np.mean(losses[-20:]):.4f}", refresh=False)
        history = self.history
        history.epoch_loss.append(float(np.mean(losses)))
        history.epoch_steps.append(len(history.step_loss))
        if history.epoch_loss[-1] > DIVERGED * history.start_loss:
            self._diverged(f"the mean loss of epoch {len(history.epoch_loss)} was {history.epoch_loss[-1]:.4g}, "
                           f"more than {DIVERGED:g} x the starting loss {history.start_loss:.4g}")
        history.train_score.append(score(self.model, self.params, self.data.X_train, self.data.y_train))
        history.test_score.append(score(self.model, self.params, self.data.X_test, self.data.y_test))
        self.good = self.params, self.velocity

    def summary(self, seconds: float) -> str:
        """``loss 0.1234, train accuracy 0.951, test accuracy 0.940 (3.2 s)`` for the last epoch."""
        kind = LOSSES[self.model.spec.loss].metric
        h = self.history
        return (f"loss {h.epoch_loss[-1]:.4f}, train {kind} {h.train_score[-1]:.3f}, test {kind} "
                f"{h.test_score[-1]:.3f} ({seconds:.1f} s)")

    def stop(self, status: str) -> tuple:
        """Save the parameters and velocity (the last good ones after a divergence) and the history."""
        h = self.history
        epochs = min(map(len, (h.epoch_loss, h.epoch_steps, h.train_score, h.test_score)))
        for per_epoch in (h.epoch_loss, h.epoch_steps, h.train_score, h.test_score):
            del per_epoch[epochs:]  # Ctrl-C while an epoch was being recorded: only whole epochs
        h.status = status
        if self.out is None:
            return ()
        params, velocity = self.good if status == "diverged" else (self.params, self.velocity)
        return save_run(self.out, params, self.history, velocity)

    def _diverged(self, what: str):
        saved = self.stop("diverged")
        kept = (f"the parameters of epoch {len(self.history.test_score)} are in {saved[0]}"
                if self.history.test_score else f"the starting parameters are in {saved[0]}") if saved else ""
        raise TrainingError(f"training diverged: {what}; " + (kept + "; " if kept else "")
                            + f"try a smaller --lr (now {self.lr:g})")


def _mean_loss(model: CompiledModel, params: dict, data: Dataset, chunk: int = 1024) -> float:
    """The mean loss over the training set, ``chunk`` samples at a time."""
    X, y = data.X_train, data.y_train
    with np.errstate(all="ignore"):  # an overflow is reported by the caller
        total = sum(model.loss(params, X[i:i + chunk], y[i:i + chunk]) * len(X[i:i + chunk])
                    for i in range(0, len(X), chunk))
    return float(total / len(X))


def gradient_check(model: CompiledModel, params: dict, data: Dataset, rng, samples: int = 8,
                   entries: int = 512):
    """The finite-difference check on a few training samples with a little noise added (images
    with flat regions put exact ties into pooling windows), on at most ``entries`` entries of each
    parameter: a wrong compiled gradient is wrong in many entries, and a 64x64 net's dense layer
    has 40960 (``symcnn gradcheck`` checks them all)."""
    X = data.X_train[:samples]
    noisy = X + rng.normal(scale=0.05 * (np.abs(X).max() or 1), size=X.shape)
    return check_gradient(model.at_float64(), params, noisy, data.y_train[:samples], entries=entries)


def _progress(steps: int, enabled: bool):
    from tqdm import tqdm
    # disable=None: tqdm draws only on a terminal, so logs and pipes get no bar
    return tqdm(total=steps, desc="training", unit="step", disable=None if enabled else True, leave=False)


def _write_outputs(out: Path, run: _Run, model: CompiledModel) -> tuple:
    files = list(save_run(out, run.params, run.history, run.velocity))
    files.append(_plot_curve(out / "curve.png", run.history, model.spec.class_labels))
    if model.spec.layers[0].type == "conv":
        files.append(_plot_filters(out / "filters.png", run.params["W1"]))
    return tuple(files)


def _plot_curve(path: Path, history: History, accuracy: bool) -> Path:
    import matplotlib  # matplotlib is slow to import: only when plotting
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    figure, (left, right) = plt.subplots(1, 2, figsize=(10, 3.8))
    steps = np.arange(1, len(history.step_loss) + 1)
    left.plot(steps, history.step_loss, lw=0.6, alpha=0.5, label="minibatch")
    left.plot(history.epoch_steps, history.epoch_loss, "o-", label="epoch mean")
    left.set(xlabel="step", ylabel="loss", yscale="log", title="training loss")
    left.legend()
    epochs = np.arange(1, len(history.test_score) + 1)
    right.plot(epochs, history.train_score, "o-", label="train")
    right.plot(epochs, history.test_score, "s-", label="test")
    right.set(xlabel="epoch", ylabel="accuracy" if accuracy else "squared error",
              title="accuracy" if accuracy else "error")
    right.legend()
    figure.tight_layout()
    figure.savefig(path, dpi=100)
    plt.close(figure)
    return path


def _plot_filters(path: Path, weights: np.ndarray) -> Path:
    """Each filter (and input channel) of the first conv layer as a small image."""
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    filters, channels = weights.shape[:2]
    images = weights.reshape(filters, channels, -1, weights.shape[-1])  # a 1D filter is one row
    limit = np.abs(images).max()
    figure, axes = plt.subplots(channels, filters, figsize=(1.3 * filters + 0.8, 1.3 * channels + 0.4),
                                squeeze=False)
    for c in range(channels):
        for f in range(filters):
            shown = axes[c, f].imshow(images[f, c], cmap="RdBu_r", vmin=-limit, vmax=limit)
            axes[c, f].set_xticks([])
            axes[c, f].set_yticks([])
            axes[c, f].set_title(f"W1[{f}" + (f", {c}]" if channels > 1 else "]"), fontsize=8)
    figure.colorbar(shown, ax=axes, shrink=0.8)
    figure.savefig(path, dpi=100)
    plt.close(figure)
    return path
