"""The ``symcnn`` commands: their arguments, checked before any work starts (compiling takes
seconds), and thin wrappers around the Python API.  :mod:`symcnn.cli` runs them."""

from __future__ import annotations

import argparse
import dataclasses
import math
import os
import sys
import time
from importlib import metadata
from pathlib import Path

import numpy as np

from .activations import LOSSES
from .compile import BACKENDS, DEFAULT_BACKEND
from .data import load_data
from .gradcheck import check_gradient
from .exercises import KINDS
from .grade.commands import exercise_command, grade_command
from .errors import SymcnnError
from .latex import DEFAULT_MAX_SIZE, FRAGMENT_KINDS, build_pdf, elided_factors
from .network import Network, load
from .parse.source import MAX_ANSWER_BYTES
from .runs import check_params, load_run, output_folder
from .text import ENTRY_LIMIT, overview
from .training import train
from .verify import to_json, verify
from .verify.report import text as verify_text

DESCRIPTION = """Derive the gradients of a convolutional network symbolically, in the course's notation;
print the derivation as LaTeX; check hand derivations; compile the gradients to NumPy and train."""
EPILOG = """Exit status: 0 success, 1 a negative verdict (verify: wrong, gradcheck: failed), 2 bad input
(one line naming the file, key or argument), 130 Ctrl-C. 'symcnn COMMAND --help' describes a command."""
GRADCHECK_MAX_BATCH = 1024  # finite differences cost a loss evaluation of the whole batch per entry
GRADCHECK_ENTRIES = 1000    # per parameter: all of a small network's, a sample of LeNet-5's 48000 in W5


def run(argv: list[str] | None = None) -> int:
    """Parse ``argv`` and run the command; its exit status (see :mod:`symcnn.cli`)."""
    try:
        args = _parser().parse_args(argv)
        with np.errstate(all="ignore"):  # overflow and NaN are reported by name where they matter
            return args.run(args)
    except SymcnnError as error:
        print(f"symcnn: error: {error}", file=sys.stderr)
        return 2
    except KeyboardInterrupt as interrupt:  # train says what it saved; elsewhere nothing is lost
        print(f"symcnn: {str(interrupt) or 'interrupted'}", file=sys.stderr)
        return 130
    except BrokenPipeError:  # the reader went away (`symcnn show ... | head`): stop quietly
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 1


class _Parser(argparse.ArgumentParser):
    """argparse, but a usage error is one line like every other bad input (and exit 2)."""

    def error(self, message):
        command = self.prog.removeprefix("symcnn").strip()
        self.exit(2, f"symcnn: error: {command + ': ' if command else ''}{message}\n")


def _integer(minimum: int, maximum: float = math.inf):
    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            value = None
        if value is None or not minimum <= value <= maximum:
            bounds = f">= {minimum}" if maximum == math.inf else f"in {minimum}..{maximum}"
            raise argparse.ArgumentTypeError(f"must be an integer {bounds}, got {text!r}")
        return value
    return parse


def _number(accepted, what: str):
    def parse(text: str) -> float:
        try:
            value = float(text)
        except ValueError:
            value = math.nan
        if not accepted(value):  # nan is never accepted
            raise argparse.ArgumentTypeError(f"must be {what}, got {text!r}")
        return value
    return parse


def _data_name(text: str) -> str:
    if text != "digits" and not (text.startswith("npz:") and len(text) > 4):
        raise argparse.ArgumentTypeError(f"expected digits or npz:PATH, got {text!r}")
    return text


def _entries(text: str) -> int | None:
    """``--entries``: a positive integer, or ``all`` (None: every entry)."""
    return None if text == "all" else _integer(1)(text)


def _version() -> str:
    try:
        return metadata.version("symcnn")
    except metadata.PackageNotFoundError:  # run from a source tree that was never installed
        return "unknown (not installed)"


def _parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="symcnn", description=DESCRIPTION, epilog=EPILOG)
    parser.add_argument("--version", action="version", version=f"symcnn {_version()}")
    commands = parser.add_subparsers(required=True, metavar="COMMAND", help="one of")
    spec_help = "the network's spec file (TOML)"
    seed = dict(type=_integer(0), default=0, metavar="S")
    positive = _number(lambda t: 0 < t < math.inf, "a positive number")
    seconds = _number(lambda t: 0 < t < math.inf, "a positive number of seconds")

    show = commands.add_parser("show", help="print the network, its general formulas and chain rules",
                               description="Print the network's layers, its forward rules and backpropagation as "
                                           "general formulas, its chain rules with shapes and, for a small "
                                           "network, every entry.")
    show.add_argument("spec", type=Path, metavar="SPEC", help=spec_help)
    show.add_argument("--entries", action="store_true",
                      help=f"write every entry out, however many (default: only up to {ENTRY_LIMIT})")
    show.set_defaults(run=_show)

    derive = commands.add_parser("derive", help="write the derivation as a LaTeX document, Beamer slides or a fragment",
                                 description="Write the derivation as a LaTeX document (and its PDF), as Beamer "
                                             "slides, or one fragment to paste into your own notes.")
    derive.add_argument("spec", type=Path, metavar="SPEC", help=spec_help)
    derive.add_argument("-o", "--output", type=Path, metavar="OUT.tex", help="the .tex file (default: standard output)")
    derive.add_argument("--pdf", action="store_true", help="also compile OUT.pdf beside OUT.tex")
    derive.add_argument("--beamer", action="store_true", help="Beamer slides, one idea per frame")
    derive.add_argument("--fragment", metavar="KIND:NAMES",
                        help="one piece to paste into your own notes (needs only amsmath): "
                             f"{', '.join(FRAGMENT_KINDS)}; e.g. jacobian:Z1,W1, chain:W1, formula:L,W1, worked:Z1")
    derive.add_argument("--max-size", type=int, default=DEFAULT_MAX_SIZE, metavar="N",
                        help="write matrices out up to this many rows and columns, elide larger ones "
                             f"(default {DEFAULT_MAX_SIZE})")
    derive.set_defaults(run=_derive)

    verify = commands.add_parser("verify", help="check a hand derivation written in LaTeX "
                                                "(exit 0 right, 1 wrong, 2 bad input)",
                                 description="Check a hand derivation written in LaTeX: exit 0 right, 1 wrong "
                                             "(the wrong entries named), 2 bad input.")
    verify.add_argument("spec", type=Path, metavar="SPEC", help=spec_help)
    verify.add_argument("answer", type=Path, metavar="ANSWER", help="a .tex file holding the answer's math")
    verify.add_argument("--wrt", help="the variable, e.g. W1 (none: the answer is an equation Z^1_2 = ...)")
    verify.add_argument("--of", default="L", help="the differentiated tensor (default L, the loss)")
    verify.add_argument("--points", type=_integer(1), default=64, metavar="N",
                        help="most random exact points per entry (default 64)")
    verify.add_argument("--seed", **seed, help="seed of the random points (default 0)")
    verify.add_argument("--format", choices=["text", "json"], default="text",
                        help="json: verdict, each entry's status, the named mistake, the counterexample")
    verify.add_argument("--hide-solution", action="store_true", help="leave the expected expressions out (graders)")
    verify.add_argument("--time-limit", type=seconds, default=60.0, metavar="SECONDS",
                        help="seconds for the whole check (default 60); past it, exit 2 saying so")
    verify.set_defaults(run=_verify)

    gradcheck = commands.add_parser("gradcheck", help="compiled gradients vs finite differences "
                                                      "(exit 0 pass, 1 fail)",
                                    description="Compare the compiled gradients with central finite differences "
                                                "at random samples, entry by entry: exit 0 pass, 1 fail.")
    gradcheck.add_argument("spec", type=Path, metavar="SPEC", help=spec_help)
    gradcheck.add_argument("--batch", type=_integer(1, GRADCHECK_MAX_BATCH), default=4, metavar="N",
                           help="random samples (default 4)")
    gradcheck.add_argument("--seed", **seed, help="seed of the samples and parameters (default 0)")
    gradcheck.add_argument("--backend", default=DEFAULT_BACKEND, choices=list(BACKENDS),
                           help=f"compiled code to check (default {DEFAULT_BACKEND})")
    gradcheck.add_argument("--entries", type=_entries, default=GRADCHECK_ENTRIES, metavar="N",
                           help=f"most entries of each parameter to difference, drawn at random (default "
                                f"{GRADCHECK_ENTRIES}; 'all' for every one: a large network takes minutes)")
    gradcheck.set_defaults(run=_gradcheck)

    train = commands.add_parser("train", help="train with the compiled gradients (SGD with momentum)",
                                description="Train with the compiled gradients (SGD with momentum). Ctrl-C "
                                            "saves params.npz and history.json of the steps so far (exit 130); "
                                            "--resume continues from them. Without a terminal every epoch "
                                            "prints a progress line.")
    train.add_argument("spec", type=Path, metavar="SPEC", help=spec_help)
    train.add_argument("--data", required=True, type=_data_name,
                       help="digits (scikit-learn's 8x8 digits) or npz:PATH (arrays X and y)")
    train.add_argument("--epochs", type=_integer(1), default=15, metavar="N",
                       help="passes over the data (default 15; with --resume, so many more)")
    train.add_argument("--batch", type=_integer(1), default=32, metavar="B", help="minibatch size (default 32)")
    train.add_argument("--lr", type=positive, default=0.05, metavar="R",
                       help="learning rate (default 0.05)")
    train.add_argument("--momentum", type=_number(lambda m: 0 <= m < 1, "in [0, 1)"), default=0.9, metavar="M",
                       help="momentum (default 0.9)")
    train.add_argument("--seed", **seed, help="seed of the split, the initial parameters and the shuffling "
                                              "(default 0)")
    train.add_argument("--dtype", default="float64", choices=["float64", "float32"],
                       help="floating point type of training (default float64)")
    train.add_argument("--out", type=Path, metavar="DIR",
                       help="folder for params.npz, history.json, curve.png, filters.png (default out/SPEC-NAME)")
    train.add_argument("--resume", type=Path, metavar="PATH",
                       help="start from saved parameters (a params.npz or its folder), continuing the history.json "
                            "beside them")
    train.add_argument("--no-progress", action="store_true", help="no progress bar or progress lines")
    train.set_defaults(run=_train)

    exercise = commands.add_parser("exercise", help="seeded exercise variants: question, worked solution, answer key "
                                                    "(or a PrairieLearn question)",
                                   description="Write seeded exercise variants: the question and its worked solution "
                                               "(LaTeX and PDF) and the answer key symcnn grade reads; or a "
                                               "PrairieLearn question folder; or self-test the variants.")
    exercise.add_argument("kind", choices=list(KINDS), metavar="KIND", help=f"one of {', '.join(KINDS)}")
    exercise.add_argument("--seed", type=_integer(0), required=True, metavar="S",
                          help="the variant (the same seed, the same exercise)")
    exercise.add_argument("--count", type=_integer(1), default=1, metavar="N",
                          help="variants seed, seed+1, ... (default 1)")
    exercise.add_argument("-o", "--output", type=Path, metavar="DIR",
                          help="the folder (default KIND-SEED); with --count, one subfolder KIND-SEED per variant")
    exercise.add_argument("--prairielearn", type=Path, metavar="DIR",
                          help="write a PrairieLearn question folder (info.json, question.html, server.py)")
    exercise.add_argument("--set", action="append", default=[], metavar="NAME=VALUE", dest="assignments",
                          help="a setting, e.g. --set size=4..7 --set values=-2..2 --set dims=1,2 (repeatable)")
    exercise.add_argument("--settings", type=Path, metavar="FILE.toml", help="settings from a TOML file")
    exercise.add_argument("--points", type=positive, default=1.0, metavar="P",
                          help="points of a right answer (default 1)")
    exercise.add_argument("--partial-credit", action="store_true", help="a wrong answer earns its share of right entries")
    exercise.add_argument("--time-limit", type=seconds, metavar="SECONDS",
                          help="seconds to check one answer (default 30; with --prairielearn 5, and at most 5: "
                               "PrairieLearn stops a server.py call after 10 s)")
    exercise.add_argument("--students", type=Path, metavar="ROSTER",
                          help="a variant per student: a roster (Gradescope's CSV with an Email or SID column, or "
                               "one per line); -o DIR gets a folder per student")
    exercise.add_argument("--gradescope", type=Path, metavar="DIR",
                          help="add the question to a Gradescope autograder folder (setup.sh, run_autograder, keys)")
    exercise.add_argument("--name", metavar="NAME", help="the question's name in the autograder; students submit "
                                                          "NAME.tex (default: KIND)")
    exercise.add_argument("--no-pdf", action="store_true", help="write the .tex files only")
    exercise.add_argument("--self-test", action="store_true", help="grade each variant's own answer and its typical "
                                                                   "mistakes; write nothing (exit 1 if one fails)")
    exercise.set_defaults(run=_exercise)

    grade = commands.add_parser("grade", help="grade LaTeX answers against a key (exit 0 when grading ran)",
                                description="Grade LaTeX answers against a key written by symcnn exercise: one line "
                                            "per submission (score, status, the named mistake), a CSV gradebook, "
                                            "Gradescope's results.json. A bad submission gets 0 and a message; "
                                            "exit 0 when grading ran, whatever the grades.")
    grade.add_argument("key", type=Path, metavar="KEY", help="the key.json written by symcnn exercise (or its folder)")
    grade.add_argument("answers", type=Path, nargs="+", metavar="ANSWER", help=".tex files or folders of them")
    grade.add_argument("--csv", type=Path, metavar="OUT.csv", help="the gradebook, rewritten after every submission")
    grade.add_argument("--gradescope", type=Path, metavar="results.json",
                       help="Gradescope's results file (one student's submission)")
    grade.add_argument("--time-limit", type=seconds, metavar="SECONDS",
                       help="seconds to check one answer (default: the key's)")
    grade.add_argument("--file", metavar="NAME.tex", help="in each folder, grade the file of this name (at any depth)")
    grade.add_argument("--name", metavar="NAME", help="the question's name, before its title in the results")
    grade.add_argument("--metadata", type=Path, metavar="submission_metadata.json",
                       help="Gradescope's metadata: KEY is a folder of keys, one per student, picked by the "
                            "submitting student's e-mail address or SID")
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
    if args.fragment is not None and (args.pdf or args.beamer):
        raise SymcnnError(f"derive: --fragment is a piece to paste into your own notes; it cannot be combined "
                          f"with {'--pdf' if args.pdf else '--beamer'}")
    if args.max_size < 3:
        raise SymcnnError(f"derive: --max-size must be at least 3, got {args.max_size}")
    net = load(args.spec)
    if args.fragment is not None:
        text, elided = net.fragment(args.fragment, max_size=args.max_size), []
    else:
        text = (net.slides if args.beamer else net.latex)(max_size=args.max_size)
        elided = elided_factors(net, args.max_size)
    if args.output is None:
        sys.stdout.write(text)
    else:
        try:
            args.output.parent.mkdir(parents=True, exist_ok=True)
            args.output.write_text(text)
        except OSError as error:
            raise SymcnnError(f"{args.output}: cannot write ({error.strerror})") from None
        print(f"wrote {args.output}")
    if elided:  # for the one deriving, not in the students' document; after the write (an error stays one line)
        print(f"symcnn: {len(elided)} chain-rule factor{'s are' if len(elided) > 1 else ' is'} larger than "
              f"--max-size {args.max_size} and shown by first rows and columns; symcnn derive --max-size N "
              "writes up to N where they fit", file=sys.stderr)
    if args.pdf:
        print(f"wrote {build_pdf(args.output)}")
    return 0


def _verify(args) -> int:
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
        raise SymcnnError(f"{path}: not UTF-8 text (byte {error.start}); LaTeX answers are UTF-8") from None
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
    y = rng.integers(classes, size=args.batch) if net.spec.class_labels else \
        rng.normal(size=(args.batch, classes))
    result = check_gradient(model, params, X, y, entries=args.entries)
    print(f"gradcheck {args.spec} ({args.backend} backend){note}: {result}")
    return 0 if result.passed else 1


def _exercise(args) -> int:
    return exercise_command(args.kind, args.seed, args.count, args.output, args.prairielearn, args.assignments,
                            args.settings, args.points, args.partial_credit, args.time_limit, not args.no_pdf,
                            args.self_test, args.students, args.gradescope, args.name)


def _grade(args) -> int:
    return grade_command(args.key, args.answers, args.csv, args.gradescope, args.time_limit, args.name,
                         args.metadata, args.file)


def _train(args) -> int:
    net = load(args.spec)
    if net.spec.loss is None:
        raise SymcnnError(f"{args.spec}: training needs a loss; the spec has none")
    data = load_data(args.data, net.spec, seed=args.seed)
    out = output_folder(args.out or Path("out") / args.spec.stem)
    params = history = velocity = None
    if args.resume:
        params, history, velocity, path = load_run(args.resume)
        params = check_params(params, net.spec.parameter_shapes(), str(path))
        if velocity is not None:
            velocity = check_params(velocity, net.spec.parameter_shapes(), str(path.parent / "velocity.npz"))
    print(f"data: {data.name}, {len(data.X_train)} train / {len(data.X_test)} test samples")
    if args.resume:
        print(f"resuming from {path}" + (f" after {len(history.epoch_loss)} epoch(s), {len(history.step_loss)} "
                                         f"step(s)" if history else " (no history.json beside it)")
              + ("" if velocity is not None else "; no velocity.npz beside it: the momentum starts at zero"))
    start = time.perf_counter()
    model = net.compile(dtype=args.dtype)
    print(f"derived and compiled {args.spec} in {time.perf_counter() - start:.1f} s", flush=True)
    result = train(model, data, epochs=args.epochs, batch=args.batch, lr=args.lr, momentum=args.momentum,
                   seed=args.seed, out=out, progress=not args.no_progress, params=params, history=history,
                   velocity=velocity)
    history = result.history
    print(f"trained {args.epochs * -(-len(data.X_train) // args.batch)} steps ({args.epochs} epochs of batch "
          f"{args.batch}) in {result.seconds:.1f} s; final loss {history.epoch_loss[-1]:.4f}")
    if history.epoch_loss[-1] >= history.start_loss:
        print(f"symcnn: warning: the last epoch's mean loss {history.epoch_loss[-1]:.4g} is not below the "
              f"starting loss {history.start_loss:.4g}; if the network should still learn, try a smaller --lr",
              file=sys.stderr)
    print("wrote " + ", ".join(str(f) for f in result.files))
    print(f"test {LOSSES[net.spec.loss].metric}: {result.test_score:.3f}")
    return 0
