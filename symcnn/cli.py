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

from .document import build_pdf
from .data import load_data
from .gradcheck import check_gradient
from .exercises import KINDS
from .grade.commands import exercise_command, grade_command
from .errors import SymcnnError
from .latex import DEFAULT_MAX_SIZE
from .parse.source import MAX_ANSWER_BYTES
from .network import Network, load
from .text import ENTRY_LIMIT, overview
from .train import train
from .verify import to_json, verify
from .verify.report import text as verify_text


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

    derive = commands.add_parser("derive", help="write the derivation as a LaTeX document")
    derive.add_argument("spec", type=Path)
    derive.add_argument("-o", "--output", type=Path, help="the .tex file (default: standard output)")
    derive.add_argument("--pdf", action="store_true", help="also compile OUT.pdf beside OUT.tex")
    derive.add_argument("--max-size", type=int, default=DEFAULT_MAX_SIZE,
                        help=f"elide matrices with more rows or columns (default {DEFAULT_MAX_SIZE})")
    derive.set_defaults(run=_derive)

    verify = commands.add_parser("verify", help="check a hand derivation written in LaTeX "
                                                "(exit 0 right, 1 wrong, 2 bad input)")
    verify.add_argument("spec", type=Path)
    verify.add_argument("answer", type=Path, help="a .tex file holding the answer's math")
    verify.add_argument("--wrt", help="the variable, e.g. W1 (none: the answer is an equation Z^1_2 = ...)")
    verify.add_argument("--of", default="L", help="the differentiated tensor (default L, the loss)")
    verify.add_argument("--points", type=int, default=64, help="most random exact points per entry (at least 1)")
    verify.add_argument("--seed", type=int, default=0)
    verify.add_argument("--format", choices=["text", "json"], default="text",
                        help="json: verdict, each entry's status, the named mistake, the counterexample")
    verify.add_argument("--hide-solution", action="store_true", help="leave the expected expressions out (graders)")
    verify.add_argument("--time-limit", type=float, default=60.0,
                        help="seconds for the whole check (default 60); past it, exit 2 saying so")
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

    exercise = commands.add_parser("exercise", help="seeded exercise variants: question, worked solution, answer key "
                                                    "(or a PrairieLearn question)")
    exercise.add_argument("kind", choices=list(KINDS))
    exercise.add_argument("--seed", type=int, required=True, help="the variant (the same seed, the same exercise)")
    exercise.add_argument("--count", type=int, default=1, help="variants seed, seed+1, ... (default 1)")
    exercise.add_argument("-o", "--output", type=Path, help="the folder (default KIND-SEED); with --count, "
                                                            "one subfolder KIND-SEED per variant")
    exercise.add_argument("--prairielearn", type=Path, metavar="DIR",
                          help="write a PrairieLearn question folder (info.json, question.html, server.py)")
    exercise.add_argument("--set", action="append", default=[], metavar="NAME=VALUE", dest="assignments",
                          help="a setting, e.g. --set size=4..7 --set values=-2..2 --set dims=1,2 (repeatable)")
    exercise.add_argument("--settings", type=Path, metavar="FILE.toml", help="settings from a TOML file")
    exercise.add_argument("--points", type=float, default=1.0, help="points of a right answer (default 1)")
    exercise.add_argument("--partial-credit", action="store_true", help="a wrong answer earns its share of right entries")
    exercise.add_argument("--time-limit", type=float, default=30.0, help="seconds to check one answer (default 30)")
    exercise.add_argument("--no-pdf", action="store_true", help="write the .tex files only")
    exercise.add_argument("--self-test", action="store_true", help="grade each variant's own answer and its typical "
                                                                   "mistakes; write nothing (exit 1 if one fails)")
    exercise.set_defaults(run=_exercise)

    grade = commands.add_parser("grade", help="grade LaTeX answers against a key (exit 0 when grading ran)")
    grade.add_argument("key", type=Path, help="the key.json written by symcnn exercise")
    grade.add_argument("answers", type=Path, nargs="+", metavar="ANSWER", help=".tex files or folders of them")
    grade.add_argument("--csv", type=Path, help="the gradebook, rewritten after every submission")
    grade.add_argument("--gradescope", type=Path, metavar="results.json",
                       help="Gradescope's results file (one student's submission)")
    grade.add_argument("--time-limit", type=float, help="seconds to check one answer (default: the key's)")
    grade.set_defaults(run=_grade)
    return parser


def _show(args) -> int:
    net = load(args.spec)
    print(net.summary())
    print("\n".join(overview(net, net.derivation, net.general, entries=args.entries or None)))
    return 0


def _derive(args) -> int:
    if args.pdf and args.output is None:
        raise SymcnnError("derive: --pdf needs -o OUT.tex (the PDF is written beside it)")
    if args.max_size < 3:
        raise SymcnnError(f"derive: --max-size must be at least 3, got {args.max_size}")
    text = load(args.spec).latex(max_size=args.max_size)
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
    if args.points < 1:
        raise SymcnnError(f"verify: --points must be at least 1, got {args.points}")
    if not args.time_limit > 0:
        raise SymcnnError(f"verify: --time-limit must be a positive number of seconds, got {args.time_limit}")
    answer = _answer_text(args.answer)
    report = verify(load(args.spec), answer, wrt=args.wrt, of=args.of, points=args.points, seed=args.seed,
                    source=str(args.answer), time_limit=args.time_limit)
    print(to_json(report, args.hide_solution) if args.format == "json" else verify_text(report, args.hide_solution))
    return 0 if report.correct else 1


def _answer_text(path: Path) -> str:
    """The answer file's text: at most 100 KB of UTF-8."""
    try:
        if path.stat().st_size > MAX_ANSWER_BYTES:
            raise SymcnnError(f"{path}: the answer is {path.stat().st_size // 1000} KB; answers are limited "
                              f"to {MAX_ANSWER_BYTES // 1000} KB")
        return path.read_bytes().decode("utf-8")
    except UnicodeDecodeError as error:
        raise SymcnnError(f"{path}: not UTF-8 text (byte {error.start})") from None
    except OSError as error:
        raise SymcnnError(f"{path}: cannot read the answer ({error.strerror})") from None


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


def _exercise(args) -> int:
    return exercise_command(args.kind, args.seed, args.count, args.output, args.prairielearn, args.assignments,
                            args.settings, args.points, args.partial_credit, args.time_limit, not args.no_pdf,
                            args.self_test)


def _grade(args) -> int:
    return grade_command(args.key, args.answers, args.csv, args.gradescope, args.time_limit)


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
