"""Training-step time of symcnn's compiled gradients vs PyTorch CPU and hand-written NumPy.

    python benchmarks/bench_step.py            (or: make bench)

All in one process, on the same batch of scikit-learn's 8x8 digits (batch 64, float64) and the
architecture of derivations/digits_cnn.toml.  The three steps are timed in interleaved rounds
and reported as medians and ratios; then compile time (derive + lambdify + structure checks)
and step times for inputs of 8x8, 16x16 and 28x28 (random data, same architecture).
"""

import statistics
import sys
import time
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from sklearn.datasets import load_digits

import symcnn

sys.path.insert(0, str(Path(__file__).parent))
import numpy_baseline  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
BATCH, ROUNDS, STEPS = 64, 30, 20


def torch_step(params):
    weights = {k: torch.tensor(v, requires_grad=True) for k, v in params.items()}

    def step(x, labels):
        for w in weights.values():
            w.grad = None
        a = F.max_pool2d(torch.relu(F.conv2d(x, weights["W1"], weights["b1"], padding=1)), 2)
        loss = F.cross_entropy(a.reshape(len(x), -1) @ weights["W3"] + weights["b3"], labels)
        loss.backward()
        return loss.item(), {k: w.grad for k, w in weights.items()}
    return step


def interleaved_medians(steps: dict) -> dict:
    """Median seconds per step of each callable, timed round-robin so drift hits all alike."""
    samples = {name: [] for name in steps}
    for _ in range(ROUNDS):
        for name, step in steps.items():
            start = time.perf_counter()
            for _ in range(STEPS):
                step()
            samples[name].append((time.perf_counter() - start) / STEPS)
    return {name: statistics.median(times) for name, times in samples.items()}


def network(size: int) -> symcnn.Network:
    spec = symcnn.parse_spec({**__import__("tomllib").loads((ROOT / "derivations/digits_cnn.toml").read_text()),
                              "input": [size, size]})
    return symcnn.Network(spec)


def main():
    torch.set_num_threads(2)
    digits = load_digits()
    X = (digits.images[:BATCH] / 16.0).astype(np.float64)
    labels = digits.target[:BATCH]
    start = time.perf_counter()
    net = symcnn.load(ROOT / "derivations/digits_cnn.toml")
    model = net.compile()
    compile_seconds = time.perf_counter() - start
    params = model.init_params(0)

    loss, grads = model.loss_and_grad(params, X, labels)
    t_step = torch_step(params)
    x_t, y_t = torch.tensor(X).reshape(BATCH, 1, 8, 8), torch.tensor(labels)
    t_loss, t_grads = t_step(x_t, y_t)
    n_loss, n_grads = numpy_baseline.step(params, X.reshape(BATCH, 1, 8, 8), labels)
    worst = max(float(np.abs(grads[k] - t_grads[k].numpy()).max()) for k in grads)
    worst_numpy = max(float(np.abs(n_grads[k] - t_grads[k].numpy()).max()) for k in grads)
    print(f"digits_cnn, batch {BATCH}, float64: loss symcnn {loss:.12f}, PyTorch {t_loss:.12f}")
    print(f"largest gradient difference from PyTorch: symcnn {worst:.1e}, hand NumPy {worst_numpy:.1e}")

    X4 = X.reshape(BATCH, 1, 8, 8)
    medians = interleaved_medians({
        "symcnn": lambda: model.loss_and_grad(params, X, labels),
        "PyTorch CPU": lambda: t_step(x_t, y_t),
        "hand NumPy": lambda: numpy_baseline.step(params, X4, labels),
    })
    print(f"\nstep time, median of {ROUNDS} rounds x {STEPS} steps (interleaved):")
    for name, seconds in medians.items():
        print(f"  {name:<12} {seconds * 1e3:7.3f} ms   symcnn / this = {medians['symcnn'] / seconds:.2f}")
    print(f"  symcnn compile (derive + lambdify): {compile_seconds:.2f} s")

    print("\ncompile time and step time by input size (same architecture, random data):")
    print("  input    pixels  compile    symcnn step  PyTorch step  ratio")
    rng = np.random.default_rng(0)
    base = None
    for size in (8, 16, 28):
        start = time.perf_counter()
        model = network(size).compile()
        seconds = time.perf_counter() - start
        base = base or seconds
        params = model.init_params(0)
        Xs = rng.random((BATCH, size, size))
        ys = rng.integers(10, size=BATCH)
        step = torch_step(params)
        xs_t, ys_t = torch.tensor(Xs).reshape(BATCH, 1, size, size), torch.tensor(ys)
        times = interleaved_medians({"symcnn": lambda: model.loss_and_grad(params, Xs, ys),
                                     "torch": lambda: step(xs_t, ys_t)})
        print(f"  {size:>2}x{size:<2}  {size * size:>6}  {seconds:6.2f} s ({seconds / base:4.1f}x)"
              f"  {times['symcnn'] * 1e3:8.3f} ms  {times['torch'] * 1e3:9.3f} ms  "
              f"{times['symcnn'] / times['torch']:5.2f}")


if __name__ == "__main__":
    main()
