"""Training-step and inference time of symcnn's compiled models vs PyTorch CPU and hand NumPy.

    make bench                      (python benchmarks/bench_step.py [--rounds N] [--only NAME])

The targets of issue 15, in one process: derivations/digits_cnn.toml (a step at batch 64 and
1024) and derivations/lenet5.toml (a step at batch 64 and 256), inference (``predict``) at batch
1024 for both, each in float32 and float64; against PyTorch 2.13 CPU with 1 thread and with 2
threads (the same network and parameters, autograd, ``torch.no_grad`` for inference) and the
hand-written NumPy im2col step of ``numpy_baseline.py``.  Each network is derived and compiled
once; the float32 model is the same compiled model (``astype``).

Timing: interleaved rounds (every case, every implementation in shuffled order, each sample
about 50 ms of repeated calls); medians over the *quiet* rounds.  The machine is shared: a round
is quiet when the other processes used less than ``QUIET`` of a core during it (from
/proc/stat's busy time minus this process's own CPU time).  When fewer than ``MIN_ROUNDS``
rounds of a case are quiet, the quietest ``MIN_ROUNDS`` are used and the table says so.
Numba's JIT warm-up is timed apart: with an empty cache in a child process, and from the cache.
A second ratio, of CPU time, compares symcnn with single-threaded PyTorch in every round: it
is what the wall-clock ratio would be on an idle machine, within the noise of shared caches.
"""

import argparse
import os
import random
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F

import symcnn

sys.path.insert(0, str(Path(__file__).parent))
import numpy_baseline  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
NETWORKS = {"digits_cnn": (64, 1024), "lenet5": (64, 256)}
INFERENCE_BATCH = 1024
TARGETS = {("digits_cnn", "step"): 0.5, ("lenet5", "step"): 1.0, ("digits_cnn", "infer"): 1.0,
           ("lenet5", "infer"): 1.0}
IMPLEMENTATIONS = ("symcnn", "torch 1t", "torch 2t", "hand NumPy")
SAMPLE_SECONDS, QUIET, MIN_ROUNDS = 0.05, 0.1, 5


class Machine:
    """How many cores the *other* processes kept busy between two snapshots."""

    def __init__(self):
        self.available = Path("/proc/stat").exists()
        self.tick = os.sysconf("SC_CLK_TCK") if self.available else 100

    def snapshot(self):
        busy = 0
        if self.available:
            fields = [int(v) for v in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
            busy = sum(fields) - fields[3] - fields[4]  # all but idle and iowait
        own = os.times()
        return time.perf_counter(), busy / self.tick, own.user + own.system

    def others(self, before, after) -> float:
        if not self.available:
            return 0.0
        wall = after[0] - before[0]
        return max(0.0, (after[1] - before[1]) - (after[2] - before[2])) / wall


def torch_model(spec, params, dtype):
    """The same network in PyTorch: a training step (loss, grads) and a prediction."""
    weights = {k: torch.tensor(v, dtype=dtype, requires_grad=True) for k, v in params.items()}

    def logits(x):
        a = x
        for l, layer in enumerate(spec.layers, start=1):
            if layer.type == "maxpool":
                a = F.max_pool2d(a, layer.size, layer.stride)
                continue
            if layer.type == "conv":
                z = F.conv2d(a, weights[f"W{l}"], weights[f"b{l}"], stride=layer.stride, padding=layer.padding)
            else:
                z = a.reshape(len(a), -1) @ weights[f"W{l}"] + weights[f"b{l}"]
            a = torch.relu(z) if layer.activation == "relu" else z
        return a

    def step(x, labels):
        for w in weights.values():
            w.grad = None
        loss = F.cross_entropy(logits(x), labels)
        loss.backward()
        return loss.item(), {k: w.grad for k, w in weights.items()}

    def predict(x):
        with torch.no_grad():
            return logits(x).argmax(axis=1)
    return step, predict


def hand_architecture(spec):
    """``numpy_baseline``'s description of the network (stride-1 square convs, 2x2 pooling)."""
    arch = []
    for layer in spec.layers:
        if layer.type == "conv":
            arch.append(("conv", layer.size[0], layer.padding[0], layer.activation == "relu"))
        elif layer.type == "maxpool":
            arch.append(("pool", 2))
        else:
            arch.append(("dense", layer.activation == "relu"))
    return arch


def cases(only):
    """Every (network, dtype, kind, batch) of the issue's targets, with its callables."""
    rng = np.random.default_rng(0)
    for name, batches in NETWORKS.items():
        if only and name != only:
            continue
        start = time.perf_counter()
        net = symcnn.load(ROOT / f"derivations/{name}.toml")
        model64 = net.compile()
        print(f"{name}: derived and compiled in {time.perf_counter() - start:.1f} s (backend {model64.backend})")
        spec, arch = net.spec, hand_architecture(net.spec)
        for dtype in (np.float32, np.float64):
            model = model64.astype(dtype)
            params = model.init_params(0)
            t_step, t_predict = torch_model(spec, model64.init_params(0), getattr(torch, np.dtype(dtype).name))
            check_gradients(name, model, params, t_step, arch, spec, rng, dtype)
            for kind, batch in [("step", b) for b in batches] + [("infer", INFERENCE_BATCH)]:
                X = rng.random((batch, *spec.input_shape)).astype(dtype)
                y = rng.integers(10, size=batch)
                yield (name, kind, batch, np.dtype(dtype).name), calls(kind, model, params, t_step, t_predict, arch, X, y)


def calls(kind, model, params, t_step, t_predict, arch, X, y) -> dict:
    """Per implementation its call of one case and the number of threads PyTorch may use."""
    x_t, y_t = torch.tensor(X), torch.tensor(y)
    if kind == "step":
        ours, torch_call = lambda: model.loss_and_grad(params, X, y), lambda: t_step(x_t, y_t)
        hand = lambda: numpy_baseline.step(arch, params, X, y)  # noqa: E731
    else:
        ours, torch_call = lambda: model.predict(params, X), lambda: t_predict(x_t)
        hand = lambda: numpy_baseline.predict(arch, params, X)  # noqa: E731
    return dict(zip(IMPLEMENTATIONS, ((ours, 1), (torch_call, 1), (torch_call, 2), (hand, 1))))


def check_gradients(name, model, params, t_step, arch, spec, rng, dtype):
    """symcnn's and hand NumPy's loss gradients against PyTorch's, on one batch of 64."""
    X = rng.random((64, *spec.input_shape)).astype(dtype)
    y = rng.integers(10, size=64)
    _, grads = model.loss_and_grad(params, X, y)
    _, t_grads = t_step(torch.tensor(X), torch.tensor(y))
    _, n_grads = numpy_baseline.step(arch, params, X, y)

    def worst(g):
        return max(float(np.abs(g[k] - t_grads[k].numpy()).max() / np.abs(t_grads[k].numpy()).max()) for k in g)
    print(f"  {np.dtype(dtype).name}: largest gradient difference from PyTorch, relative to the largest entry: "
          f"symcnn {worst(grads):.1e}, hand NumPy {worst(n_grads):.1e}")


def timed(call, repeats: int):
    """Wall-clock and CPU seconds (this process, all threads) per call."""
    start, cpu = time.perf_counter(), time.process_time()
    for _ in range(repeats):
        call()
    return (time.perf_counter() - start) / repeats, (time.process_time() - cpu) / repeats


def run(all_cases, rounds: int):
    """Interleaved rounds: per case and round, each implementation's seconds per call and the
    other processes' load during the round."""
    machine = Machine()
    repeats = {}
    for key, calls in all_cases:
        for impl, (call, threads) in calls.items():
            torch.set_num_threads(threads)
            call()  # warm up (and measure how many calls make a sample)
            repeats[key, impl] = max(1, round(SAMPLE_SECONDS / max(timed(call, 1)[0], 1e-6)))
    samples = {(key, impl): [] for key, _ in all_cases for impl in IMPLEMENTATIONS}
    noise = {key: [] for key, _ in all_cases}
    for _ in range(rounds):
        for key, calls in all_cases:
            order = list(calls.items())
            random.shuffle(order)
            before = machine.snapshot()
            for impl, (call, threads) in order:
                torch.set_num_threads(threads)
                samples[key, impl].append(timed(call, repeats[key, impl]))
            noise[key].append(machine.others(before, machine.snapshot()))
    return samples, noise


def report(all_cases, samples, noise, rounds: int):
    print(f"\nmedian ms per call over the quiet rounds ({rounds} rounds; quiet: other processes used "
          f"< {QUIET} of a core)")
    print(f"{'case':<34}{'symcnn':>9}{'torch 1t':>10}{'torch 2t':>10}{'hand NumPy':>11}"
          f"{'/ t1':>7}{'/ t2':>7}{'/ NumPy':>8}{'target':>8}  met  {'cpu / t1':>8}  quiet rounds (others' load)")
    missed = []
    for key, _ in all_cases:
        name, kind, batch, dtype = key
        order = sorted(range(rounds), key=lambda r: noise[key][r])
        kept = [r for r in order if noise[key][r] < QUIET]
        note = f"{len(kept)}/{rounds}"
        if len(kept) < MIN_ROUNDS:
            kept = order[:MIN_ROUNDS]
            note = f"{note}, kept quietest {MIN_ROUNDS}"
        load = statistics.median(noise[key][r] for r in kept)
        ms = {impl: 1e3 * statistics.median(samples[key, impl][r][0] for r in kept) for impl in IMPLEMENTATIONS}
        cpu = [statistics.median(samples[key, impl][r][1] for r in range(rounds)) for impl in ("symcnn", "torch 1t")]
        ratios = [ms["symcnn"] / ms[other] for other in ("torch 1t", "torch 2t", "hand NumPy")]
        target = TARGETS[name, kind]
        met = max(ratios[:2]) <= target
        if not met:
            missed.append(key)
        label = f"{name} {'step' if kind == 'step' else 'predict'} B={batch} {dtype}"
        print(f"{label:<34}" + "".join(f"{ms[impl]:>{w}.3f}" for impl, w in zip(IMPLEMENTATIONS, (9, 10, 10, 11)))
              + "".join(f"{r:>{w}.2f}" for r, w in zip(ratios, (7, 7, 8)))
              + f"{target:>8.1f}  {'yes' if met else 'NO ':<4}{cpu[0] / cpu[1]:>8.2f}  {note} ({load:.2f} cores)")
    print("cpu / t1: CPU time per call of symcnn over PyTorch's with 1 thread, medians of all rounds (both single-"
          "threaded,\nso other processes change it little)")
    print(f"\ntargets met: {len(all_cases) - len(missed)} of {len(all_cases)}"
          + ("" if not missed else "; missed: " + ", ".join(" ".join(map(str, k)) for k in missed)))


def jit_warmup():
    """Seconds of the first step and first prediction in a fresh process: with an empty Numba
    cache (compiling every kernel) and again with the cache it wrote."""
    code = ("import time, numpy as np, symcnn\n"
            "m = symcnn.load('derivations/digits_cnn.toml').compile()\n"
            "for dtype in ('float64', 'float32'):\n"
            "    model = m.astype(dtype); p = model.init_params(0); X = np.ones((4, 8, 8), dtype)\n"
            "    t = time.perf_counter(); model.loss_and_grad(p, X, np.arange(4)); model.predict(p, X)\n"
            "    print(dtype, time.perf_counter() - t)\n")
    with tempfile.TemporaryDirectory() as cache:
        environment = {**os.environ, "NUMBA_CACHE_DIR": cache}
        for label in ("empty cache", "from the cache"):
            run = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=environment, capture_output=True,
                                 text=True, check=True)
            seconds = dict(line.split() for line in run.stdout.splitlines())
            print(f"  JIT warm-up ({label}): " + ", ".join(f"{d} {float(s):.2f} s" for d, s in seconds.items()))


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=15)
    parser.add_argument("--only", choices=list(NETWORKS), help="one network only")
    parser.add_argument("--no-jit", action="store_true", help="skip timing Numba's warm-up")
    args = parser.parse_args()
    print(f"torch {torch.__version__}, numpy {np.__version__}, {os.cpu_count()} cores")
    if not args.no_jit:
        jit_warmup()
    all_cases = list(cases(args.only))
    samples, noise = run(all_cases, args.rounds)
    report(all_cases, samples, noise, args.rounds)


if __name__ == "__main__":
    main()
