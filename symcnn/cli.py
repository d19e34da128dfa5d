"""The ``symcnn`` command line: thin wrappers around the Python API.

Exit status: 0 success, 1 a check that ran and failed, 2 bad input (one line on stderr).
"""

from __future__ import annotations

import argparse
import dataclasses
import os
import sys
import time
from pathlib import Path

import numpy as np

from .data import load_data
from .gradcheck import check_gradient
from .errors import SymcnnError
from .latex import DEFAULT_MAX_SIZE, FRAGMENT_KINDS, build_pdf
from .network import Network, load
from .text import ENTRY_LIMIT, overview
from .train import train


def main(argv: list[str] | None = None) -> int:
    parser = _parser()
    args = parser.parse_args(argv)
    try:
        return args.run(args)
    except SymcnnError as error:
        print(f"symcnn: error: {error}", file=sys.stderr)
        return 2
    except BrokenPipeError:  # the reader went away (`symcnn show ... | head`): stop quietly
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 1


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="symcnn", description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(required=True, metavar="COMMAND")

    show = commands.add_parser("show", help="print the network, its general formulas and chain rules")
    show.add_argument("spec", type=Path)
    show.add_argument("--entries", action="store_true",
                      help=f"write every entry out, however many (default: only up to {ENTRY_LIMIT})")
    show.set_defaults(run=_show)

    derive = commands.add_parser("derive", help="write the derivation as a LaTeX document, Beamer slides "
                                                "or a fragment")
    derive.add_argument("spec", type=Path)
    derive.add_argument("-o", "--output", type=Path, help="the .tex file (default: standard output)")
    derive.add_argument("--pdf", action="store_true", help="also compile OUT.pdf beside OUT.tex")
    derive.add_argument("--beamer", action="store_true", help="Beamer slides, one idea per frame")
    derive.add_argument("--fragment", metavar="KIND:NAMES",
                        help="one piece to paste into your own notes (needs only amsmath): "
                             f"{', '.join(FRAGMENT_KINDS)}; e.g. jacobian:Z1,W1, chain:W1, formula:L,W1, worked:Z1")
    derive.add_argument("--max-size", type=int, default=DEFAULT_MAX_SIZE,
                        help="write matrices out up to this many rows and columns, elide larger ones "
                             f"(default {DEFAULT_MAX_SIZE})")
    derive.set_defaults(run=_derive)

    verify = commands.add_parser("verify", help="check a hand derivation written in LaTeX "
                                                "(exit 0 right, 1 wrong, 2 bad input)")
    verify.add_argument("spec", type=Path)
    verify.add_argument("answer", type=Path, help="a .tex file holding the answer's math")
    verify.add_argument("--wrt", help="the variable, e.g. W1 (none: the answer is an equation Z^1_2 = ...)")
    verify.add_argument("--of", default="L", help="the differentiated tensor (default L, the loss)")
    verify.add_argument("--points", type=int, default=64, help="most random exact points per entry")
    verify.add_argument("--seed", type=int, default=0)
    verify.set_defaults(run=_verify)

    gradcheck = commands.add_parser("gradcheck", help="compiled gradients vs central finite differences "
                                                      "(exit 0 pass, 1 fail)")
    gradcheck.add_argument("spec", type=Path)
    gradcheck.add_argument("--batch", type=int, default=4, help="random samples (default 4)")
    gradcheck.add_argument("--seed", type=int, default=0)
    gradcheck.add_argument("--backend", default="array", choices=["array", "scalar"])
    gradcheck.set_defaults(run=_gradcheck)

    train = commands.add_parser("train", help="train with the compiled gradients (SGD with momentum)")
    train.add_argument("spec", type=Path)
    train.add_argument("--data", required=True, help="digits (scikit-learn's 8x8 digits) or npz:PATH")
    train.add_argument("--epochs", type=int, default=15)
    train.add_argument("--batch", type=int, default=32)
    train.add_argument("--lr", type=float, default=0.05)
    train.add_argument("--momentum", type=float, default=0.9)
    train.add_argument("--seed", type=int, default=0)
    train.add_argument("--dtype", default="float64", choices=["float64", "float32"])
    train.add_argument("--out", type=Path, help="folder for params.npz, curve.png, filters.png "
                                                 "(default out/SPEC-NAME)")
    train.add_argument("--no-progress", action="store_true", help="no progress bar")
    train.set_defaults(run=_train)
    return parser


def _show(args) -> int:
    net = load(args.spec)
    print(net.summary())
    print("\n".join(overview(net, net.derivation, net.general, entries=args.entries or None)))
    return 0


def _derive(args) -> int:
    if args.pdf and args.output is None:
        raise SymcnnError("derive: --pdf needs -o OUT.tex (the PDF is written beside it)")
    if args.fragment is not None and (args.pdf or args.beamer):
        raise SymcnnError(f"derive: --fragment is a piece to paste into your own notes; it cannot be combined "
                          f"with {'--pdf' if args.pdf else '--beamer'}")
    if args.max_size < 3:
        raise SymcnnError(f"derive: --max-size must be at least 3, got {args.max_size}")
    net = load(args.spec)
    if args.fragment is not None:
        text = net.fragment(args.fragment, max_size=args.max_size)
    else:
        text = (net.slides if args.beamer else net.latex)(max_size=args.max_size)
    if args.output is None:
        sys.stdout.write(text)
        return 0
    try:
        args.output.parent.mkdir(parents=True, exist_ok=True)
        args.output.write_text(text)
    except OSError as error:
        raise SymcnnError(f"{args.output}: cannot write ({error.strerror})") from None
    print(f"wrote {args.output}")
    if args.pdf:
        print(f"wrote {build_pdf(args.output)}")
    return 0


def _verify(args) -> int:
    try:
        answer = args.answer.read_text()
    except OSError as error:
        raise SymcnnError(f"{args.answer}: cannot read the answer ({error.strerror})") from None
    report = load(args.spec).verify(answer, wrt=args.wrt, of=args.of, points=args.points,
                                    seed=args.seed, source=str(args.answer))
    print(report)
    return 0 if report.correct else 1


def _gradcheck(args) -> int:
    net = load(args.spec)
    note = ""
    if net.spec.loss is None:  # the layers' gradients can be checked all the same
        net = Network(dataclasses.replace(net.spec, loss="squared"))
        note = " (a forward-only spec: checked with a squared loss on random targets)"
    model = net.compile(args.backend)
    rng = np.random.default_rng(args.seed)
    params = model.init_params(args.seed)
    X = rng.normal(size=(args.batch, *net.spec.sample_shape))
    classes = int(np.prod(net.spec.output_shape))
    y = rng.integers(classes, size=args.batch) if net.spec.loss == "cross_entropy" else \
        rng.normal(size=(args.batch, classes))
    result = check_gradient(model, params, X, y)
    print(f"gradcheck {args.spec} ({args.backend} backend){note}: {result}")
    return 0 if result.passed else 1


def _train(args) -> int:
    net = load(args.spec)
    if net.spec.loss is None:
        raise SymcnnError(f"{args.spec}: training needs a loss; the spec has none")
    data = load_data(args.data, net.spec, seed=args.seed)
    print(f"data: {data.name}, {len(data.X_train)} train / {len(data.X_test)} test samples")
    start = time.perf_counter()
    model = net.compile(dtype=args.dtype)
    print(f"derived and compiled {args.spec} in {time.perf_counter() - start:.1f} s")
    out = args.out or Path("out") / args.spec.stem
    result = train(model, data, epochs=args.epochs, batch=args.batch, lr=args.lr, momentum=args.momentum,
                   seed=args.seed, out=out, progress=not args.no_progress)
    print(f"gradient check before training: {len(result.check.parameters)} parameters, "
          f"{result.check.samples} samples ({result.check.skipped} left out near a kink), worst relative "
          f"error {result.check.worst.error:.1e}: passed")
    steps = len(result.history.step_loss)
    print(f"trained {steps} steps ({args.epochs} epochs of batch {args.batch}) in {result.seconds:.1f} s; "
          f"final loss {result.history.epoch_loss[-1]:.4f}")
    print("wrote " + ", ".join(str(f) for f in result.files))
    label = "test accuracy" if net.spec.loss == "cross_entropy" else "test squared error"
    print(f"{label}: {result.test_score:.3f}")
    return 0
