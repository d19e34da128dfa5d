"""Training with the compiled gradients: minibatch SGD with momentum.

    v <- mu v - lr dL/dw        w <- w + v          (per minibatch, mean loss over the batch)

Before the first step the compiled gradients are checked against finite differences on a few
training samples (:func:`~symcnn.gradcheck.check_gradient`); training refuses to start when
they disagree.  A loss that becomes NaN or infinite stops training with the step named, and
the last parameters that gave a finite loss are saved.  ``out`` receives ``params.npz``,
``curve.png`` (loss and accuracy) and, for a first conv layer, ``filters.png``.
"""

from __future__ import annotations

import json
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np

from .compile import CompiledModel
from .data import Dataset
from .errors import SymcnnError
from .gradcheck import check_gradient


class TrainingError(SymcnnError):
    """Training stopped: a failing gradient check, or a loss that is no longer finite."""


@dataclass
class History:
    """Per step the minibatch loss; per epoch the mean loss and the accuracies (or errors)."""

    step_loss: list = field(default_factory=list)
    epoch_loss: list = field(default_factory=list)
    train_score: list = field(default_factory=list)
    test_score: list = field(default_factory=list)


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
    if model.spec.loss == "cross_entropy":
        return float(np.mean(model.predict(params, X) == y))
    return float(np.mean(np.sum((model.predict(params, X) - y) ** 2, axis=1)))


def train(model: CompiledModel, data: Dataset, epochs: int = 15, batch: int = 32, lr: float = 0.05,
          momentum: float = 0.9, seed: int = 0, out: str | Path | None = None,
          progress: bool = True) -> TrainResult:
    """Train ``model`` on ``data`` from seeded initial parameters; see the module doc."""
    for name, value in (("epochs", epochs), ("batch", batch)):
        if not isinstance(value, int) or value < 1:
            raise SymcnnError(f"--{name}: must be a positive integer, got {value!r}")
    if not lr > 0 or not 0 <= momentum < 1:
        raise SymcnnError(f"--lr must be > 0 and --momentum in [0, 1), got {lr!r} and {momentum!r}")
    out = _output_folder(out)
    params = model.init_params(seed)
    rng = np.random.default_rng(seed)
    check = gradient_check(model, params, data, rng)
    if not check.passed:
        raise TrainingError(f"the compiled gradients fail the finite-difference check, not training: "
                            f"{str(check).splitlines()[-1]}")
    velocity = {name: np.zeros_like(value) for name, value in params.items()}
    history, last_good = History(), params
    steps = epochs * -(-len(data.X_train) // batch)
    bar = _progress(steps, progress)
    start, step = time.perf_counter(), 0
    for epoch in range(epochs):
        order = rng.permutation(len(data.X_train))
        losses = []
        for first in range(0, len(order), batch):
            chosen = order[first:first + batch]
            with np.errstate(all="ignore"):  # a diverging loss is reported below, by its step
                loss, grads = model.loss_and_grad(params, data.X_train[chosen], data.y_train[chosen])
            step += 1
            if not np.isfinite(loss):
                saved = _save(out, last_good) if out else None
                bar.close()
                raise TrainingError(f"the loss became {loss} at step {step} (epoch {epoch + 1}); "
                                    + (f"the last parameters with a finite loss are in {saved}" if saved
                                       else "try a smaller --lr"))
            last_good = params
            params = {}
            for name, value in last_good.items():
                velocity[name] = momentum * velocity[name] - lr * grads[name]
                params[name] = value + velocity[name]
            losses.append(loss)
            history.step_loss.append(loss)
            bar.update(1)
            bar.set_postfix(loss=f"{np.mean(losses[-20:]):.4f}", epoch=epoch + 1, refresh=False)
        history.epoch_loss.append(float(np.mean(losses)))
        history.train_score.append(score(model, params, data.X_train, data.y_train))
        history.test_score.append(score(model, params, data.X_test, data.y_test))
    bar.close()
    seconds = time.perf_counter() - start
    files = _write_outputs(out, params, history, model) if out else ()
    return TrainResult(params, history, history.test_score[-1], seconds, files, check)


def gradient_check(model: CompiledModel, params: dict, data: Dataset, rng, samples: int = 8):
    """The finite-difference check on a few training samples with a little noise added: images
    with flat regions put exact ties into pooling windows, where differences say nothing."""
    X = data.X_train[:samples]
    noisy = X + rng.normal(scale=0.05 * (np.abs(X).max() or 1), size=X.shape)
    return check_gradient(model.at_float64(), params, noisy, data.y_train[:samples])


def load_params(path: str | Path) -> dict[str, np.ndarray]:
    """Parameters saved by :func:`train` (``params.npz``), ready for ``model.predict``."""
    try:
        with np.load(path) as arrays:
            return {name: arrays[name] for name in arrays.files}
    except (OSError, ValueError) as error:
        raise SymcnnError(f"{path}: cannot read saved parameters ({error})") from None


def _output_folder(out) -> Path | None:
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


def _progress(steps: int, enabled: bool):
    from tqdm import tqdm
    # disable=None: tqdm draws only on a terminal, so logs and pipes get no bar
    return tqdm(total=steps, desc="training", unit="step", disable=None if enabled else True, leave=False)


def _save(out: Path, params: dict) -> Path:
    path = out / "params.npz"
    np.savez(path, **params)
    return path


def _write_outputs(out: Path, params: dict, history: History, model: CompiledModel) -> tuple:
    files = [_save(out, params)]
    (out / "history.json").write_text(json.dumps(asdict(history)))
    files.append(out / "history.json")
    files.append(_plot_curve(out / "curve.png", history, model.spec.loss == "cross_entropy"))
    if model.spec.layers[0].type == "conv":
        files.append(_plot_filters(out / "filters.png", params["W1"]))
    return tuple(files)


def _plot_curve(path: Path, history: History, accuracy: bool) -> Path:
    import matplotlib  # matplotlib is slow to import: only when plotting
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    figure, (left, right) = plt.subplots(1, 2, figsize=(10, 3.8))
    steps = np.arange(1, len(history.step_loss) + 1)
    per_epoch = len(history.step_loss) // len(history.epoch_loss)
    left.plot(steps, history.step_loss, lw=0.6, alpha=0.5, label="minibatch")
    left.plot(per_epoch * np.arange(1, len(history.epoch_loss) + 1), history.epoch_loss, "o-", label="epoch mean")
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
