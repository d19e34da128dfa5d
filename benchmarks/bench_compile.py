"""Derive + compile time and peak memory against input size and depth, through the general formulas.

Each case runs in a fresh process (so peak memory is its own): load the spec, derive the general
formulas and compile the default (numba) backend (``net.compile()``, its kernels from Numba's disk cache), then time ``net.formula`` for every
tensor and parameter and ``.latex()`` of each.  Then ``symcnn show`` and ``symcnn derive`` run as
whole commands on a 1x512x512 input.  Medians of ``--repeat`` runs; run with

    make bench-compile          # or: python benchmarks/bench_compile.py [--repeat N]
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

CASE = r"""
import json, resource, sys, time
start = time.perf_counter()
import symcnn
import symcnn.network, symcnn.compile.numba_backend  # symcnn loads lazily: SymPy, NumPy, Numba counted as import
spec = json.loads(sys.argv[1])
imported = time.perf_counter()
net = symcnn.load(spec) if isinstance(spec, str) else symcnn.Network(spec)
model = net.compile()
compiled = time.perf_counter()
names = [r.of for r in net.rules] + net.flow[:-1] + net.parameters
formulas = [net.formula(n) for n in names if n in {r.of for r in net.rules}]
formulas += [net.formula("L", n) for n in net.flow[:-1] + net.parameters] if net.spec.loss else []
text = [f.latex() for f in formulas]
done = time.perf_counter()
print(json.dumps({"compile": compiled - imported, "formulas": done - compiled, "count": len(formulas),
                  "import": imported - start, "peak_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
                  "entries_built": "_entries" in net.__dict__}))
"""


def conv_net(size: int, depth: int, filters: int = 8, channels: int = 1) -> dict:
    """``depth`` 3x3 conv layers (padding 1, ReLU), a 2x2 pool, a dense layer of 10, softmax."""
    layers = [{"type": "conv", "filters": filters, "size": 3, "padding": 1, "activation": "relu"}
              for _ in range(depth)]
    layers += [{"type": "maxpool", "size": 2}, {"type": "dense", "units": 10}]
    return {"input": [channels, size, size], "loss": "cross_entropy", "layers": layers}


CASES = [
    ("digits_cnn (8x8)", str(ROOT / "derivations" / "digits_cnn.toml")),
    ("LeNet-5 (28x28)", str(ROOT / "derivations" / "lenet5.toml")),
    ("2 conv, 16 filters, 3x16x16", conv_net(16, 2, filters=16, channels=3)),
    ("3 conv at 16x16", conv_net(16, 3)),
    *[(f"1 conv, {n}x{n}", conv_net(n, 1)) for n in (8, 16, 32, 64, 128, 256, 512)],
    *[(f"{d} conv at 32x32", conv_net(32, d)) for d in (1, 2, 4, 8)],
]


def run_case(spec, repeat: int) -> dict:
    runs = []
    for _ in range(repeat):
        out = subprocess.run([sys.executable, "-c", CASE, json.dumps(spec)], capture_output=True, text=True,
                             check=True, cwd=ROOT)
        runs.append(json.loads(out.stdout))
    return {key: statistics.median(r[key] for r in runs) if isinstance(runs[0][key], float) else runs[0][key]
            for key in runs[0]}


def time_command(arguments, repeat: int) -> float:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        subprocess.run([sys.executable, "-m", "symcnn", *arguments], capture_output=True, check=True, cwd=ROOT)
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3, help="runs per case (median reported)")
    args = parser.parse_args()
    print(f"{'case':<30} {'derive+compile':>15} {'formulas+latex':>15} {'peak MB':>8}  entries built")
    for name, spec in CASES:
        r = run_case(spec, args.repeat)
        print(f"{name:<30} {r['compile']:>13.2f} s {r['formulas']:>13.2f} s {r['peak_mb']:>8.0f}  "
              f"{'yes' if r['entries_built'] else 'no'}  ({r['count']} formulas; import {r['import']:.2f} s)")
    with tempfile.TemporaryDirectory() as folder:
        spec = Path(folder) / "big.toml"
        spec.write_text('input = [1, 512, 512]\nloss = "cross_entropy"\n[[layers]]\ntype = "conv"\nfilters = 4\n'
                        'size = 3\npadding = 1\nactivation = "relu"\n[[layers]]\ntype = "maxpool"\nsize = 2\n'
                        '[[layers]]\ntype = "dense"\nunits = 10\n')
        show = time_command(["show", str(spec)], args.repeat)
        derive = time_command(["derive", str(spec), "-o", str(Path(folder) / "big.tex")], args.repeat)
    print(f"\nwhole commands on a 1x512x512 input (process start included): symcnn show {show:.2f} s, "
          f"symcnn derive {derive:.2f} s")


if __name__ == "__main__":
    main()
