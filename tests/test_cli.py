"""The command line: help and version, one line for every bad input before any compiling,
Ctrl-C (exit 130, work saved, resumable), and a property test over random specs, arguments and
data files: exit 0, or exit 2 with one line naming the file, key or argument; never a traceback."""

import argparse
import contextlib
import io
import json
import re
import signal
import subprocess
import sys
import time
import tomllib
import types
from importlib import metadata

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import symcnn
from conftest import DERIVATIONS, start_symcnn
from symcnn import cli, commands

DIGITS = DERIVATIONS / "digits_cnn.toml"
SEED = DERIVATIONS / "seed_1d.toml"


def run(*argv):
    """``symcnn argv`` in this process: exit code, standard output, standard error."""
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        try:
            code = cli.main([str(a) for a in argv])
        except SystemExit as exit:  # argparse: --help, --version, usage errors
            code = exit.code
    return code, out.getvalue(), err.getvalue()


@pytest.fixture
def no_compiling(monkeypatch):
    """Compiling takes seconds: bad input must be refused before it starts."""
    def refuse(*args, **kwargs):
        raise AssertionError("compiled before the input was checked")
    monkeypatch.setattr(symcnn.Network, "compile", refuse)


def test_help_describes_the_tool_and_its_exit_codes():
    code, out, _ = run("--help")
    assert code == 0 and "thin wrappers" not in out and "``" not in out
    assert "Derive the gradients of a convolutional network symbolically" in out
    assert "130 Ctrl-C" in " ".join(out.split())


def test_every_argument_has_help():
    parser = commands._parser()
    subcommands = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    assert set(subcommands.choices) == {"show", "derive", "verify", "gradcheck", "train", "exercise", "grade"}
    for name, command in [("symcnn", parser), *subcommands.choices.items()]:
        assert command.description, name
        for action in command._actions:
            assert action.help and action.help != argparse.SUPPRESS, f"{name} {action.dest}"


def test_version():
    assert run("--version") == (0, f"symcnn {metadata.version('symcnn')}\n", "")


BAD_ARGUMENTS = [
    (("train", DIGITS, "--data", "digits", "--seed", "-1"),
     "train: argument --seed: must be an integer >= 0, got '-1'"),
    (("gradcheck", DIGITS, "--batch", "0"), "gradcheck: argument --batch: must be an integer in 1..1024, got '0'"),
    (("gradcheck", DIGITS, "--batch", "-1"), "gradcheck: argument --batch: must be an integer in 1..1024, got '-1'"),
    (("train", DIGITS, "--data", "digits", "--epochs", "0"),
     "train: argument --epochs: must be an integer >= 1, got '0'"),
    (("train", DIGITS, "--data", "digits", "--batch", "2.5"),
     "train: argument --batch: must be an integer >= 1, got '2.5'"),
    (("train", DIGITS, "--data", "digits", "--lr", "nan"), "train: argument --lr: must be a positive number, got 'nan'"),
    (("train", DIGITS, "--data", "digits", "--lr", "-0.1"), "train: argument --lr: must be a positive number, got '-0.1'"),
    (("train", DIGITS, "--data", "digits", "--momentum", "1"), "train: argument --momentum: must be in [0, 1), got '1'"),
    (("train", DIGITS, "--data", "mnist"), "train: argument --data: expected digits or npz:PATH, got 'mnist'"),
    (("train", DIGITS), "train: the following arguments are required: --data"),
    (("verify", SEED, SEED, "--points", "0"), "verify: argument --points: must be an integer >= 1, got '0'"),
    (("derive", SEED, "--max-size", "2"), "derive: --max-size must be at least 3, got 2"),
    (("train", DIGITS, "--data", "npz:/nonexistent/x.npz"),
     "/nonexistent/x.npz: cannot read the arrays (No such file or directory)"),
    (("show", "/nonexistent.toml"), "/nonexistent.toml: cannot read the spec file (No such file or directory)"),
    (("frobnicate",), "argument COMMAND: invalid choice: 'frobnicate' (choose from show, derive, verify, gradcheck, "
                      "train, exercise, grade)"),
    (("exercise", "delta", "--seed", "-1"), "exercise: argument --seed: must be an integer >= 0, got '-1'"),
    (("exercise", "delta", "--seed", "1", "--count", "0"), "exercise: argument --count: must be an integer >= 1, got '0'"),
    (("exercise", "delta"), "exercise: the following arguments are required: --seed"),
    (("grade", "/nonexistent/key.json", SEED), "/nonexistent/key.json: cannot read a JSON key file (No such file or directory)"),
    (("grade", SEED, SEED, "--time-limit", "inf"),
     "grade: argument --time-limit: must be a positive number of seconds, got 'inf'"),
]


@pytest.mark.parametrize("argv, message", BAD_ARGUMENTS, ids=[m[:40] for _, m in BAD_ARGUMENTS])
def test_bad_arguments_are_one_line_before_compiling(no_compiling, argv, message):
    code, out, err = run(*argv)
    assert (code, out) == (2, "")
    # argparse words its list of choices with quotes from Python 3.12 on
    assert err.replace("'show', 'derive', 'verify', 'gradcheck', 'train', 'exercise', 'grade'",
                       "show, derive, verify, gradcheck, train, exercise, grade") == f"symcnn: error: {message}\n"


def test_late_inputs_are_checked_before_compiling(no_compiling, tmp_path):
    blocker = tmp_path / "a-file"
    blocker.write_text("")
    code, _, err = run("train", DIGITS, "--data", "digits", "--out", blocker / "run")
    assert code == 2 and err == f"symcnn: error: --out {blocker / 'run'}: cannot write there (Not a directory)\n"
    np.savez(tmp_path / "params.npz", W1=np.zeros((8, 1, 3, 3)))
    code, _, err = run("train", DIGITS, "--data", "digits", "--out", tmp_path / "out", "--resume", tmp_path)
    assert code == 2 and err == (f"symcnn: error: {tmp_path / 'params.npz'}: no b1, W3, b3; this network's "
                                 "parameters are W1, b1, W3, b3\n")
    code, _, err = run("train", DIGITS, "--data", "digits", "--out", tmp_path / "out", "--resume", tmp_path / "none")
    assert code == 2 and err.startswith(f"symcnn: error: {tmp_path / 'none'}: cannot read saved parameters")


SPEC_FILES = [
    (b'input = [5]\ntitle = "caf\xe9"\n[[layers]]\ntype = "dense"\nunits = 1\n',
     "line 2: not UTF-8 text (byte 0xe9); TOML files are UTF-8"),
    (b'input = [5]\nvalues = 3\n[[layers]]\ntype = "dense"\nunits = 1\n',
     "values: must be a table of arrays ([values] with X = [...], W1 = [...], ...), got 3"),
    (b'input = [3]\n[[layers]]\ntype = "conv"\nsize = 3\nactivation = "relu"\n[values]\nX = [1, nan, 2]\n'
     b'W1 = [1, 1, 1]\nb1 = [0]\n', "values.X: entries must be finite numbers, got nan"),
    (b'input = [3]\n[[layers]]\ntype = "conv"\nsize = 3\n[values]\nX = [1, 2, 2]\nW1 = [1, -inf, 1]\nb1 = [0]\n',
     "values.W1: entries must be finite numbers, got -inf"),
    (b'input = [5]\nloss = "squared"\n[[layers]]\ntype = "conv"\nsize = 3\npadding = 1\nbias = false\n'
     b'[[layers]]\ntype = "dense"\nunits = 1\nbias = false\n[values]\nX = [0, 0, 1, 1, 1]\nW1 = [1, 1, 1]\n',
     "values: missing W2 (shape (5, 1)), y (shape (1,)); a worked example needs X, every parameter and y, or no "
     "[values] at all"),
    (b'input = [5]\n[[layers]]\ntype = ["conv"]\n', "layer 1 (['conv']): type: unknown layer type ['conv']; "
                                                    "expected one of conv, maxpool, dense (did you mean 'conv'?)"),
]


@pytest.mark.parametrize("command", ["show", "derive"])
@pytest.mark.parametrize("text, message", SPEC_FILES, ids=[m[:30] for _, m in SPEC_FILES])
def test_bad_spec_files_are_one_line_naming_the_file(tmp_path, command, text, message):
    path = tmp_path / "spec.toml"
    path.write_bytes(text)
    assert run(command, path) == (2, "", f"symcnn: error: {path}: {message}\n")


def test_an_answer_that_is_not_utf8(tmp_path):
    answer = tmp_path / "answer.tex"
    answer.write_bytes(b"\\frac{\xff}{2}")
    assert run("verify", SEED, answer, "--wrt", "W1") == (
        2, "", f"symcnn: error: {answer}: not UTF-8 text (byte 6); LaTeX answers are UTF-8\n")


@pytest.mark.parametrize("argv", [("show", SEED), ("gradcheck", SEED), ("derive", SEED)])
def test_ctrl_c_anywhere_is_one_line_and_exit_130(monkeypatch, argv):
    def interrupted(*args, **kwargs):
        raise KeyboardInterrupt
    monkeypatch.setattr(commands, "load", interrupted)
    assert run(*argv) == (130, "", "symcnn: interrupted\n")


def test_a_diverging_run_says_so_and_keeps_the_starting_parameters(tmp_path):
    code, out, err = run("train", DIGITS, "--data", "digits", "--epochs", "3", "--lr", "100", "--out", tmp_path)
    assert code == 2 and "test accuracy" not in out
    assert re.fullmatch(r"symcnn: error: training diverged: the mean loss of epoch 1 was 1\d\d\.\d, more than 2 x "
                        r"the starting loss 2\.3\d\d; the starting parameters are in (.*); try a smaller --lr "
                        r"\(now 100\)\n", err).group(1) == str(tmp_path / "params.npz")


def test_a_run_that_learns_nothing_gets_a_warning(tmp_path):
    code, out, err = run("train", DIGITS, "--data", "digits", "--epochs", "1", "--lr", "1", "--out", tmp_path)
    assert code == 0 and out.splitlines()[-1].startswith("test accuracy: ")
    assert re.match(r"symcnn: warning: the last epoch's mean loss 2\.\d+ is not below the starting loss 2\.\d+; ", err)


def start_training(out, *more):
    return start_symcnn("train", DIGITS, "--data", "digits", "--out", out, *more,
                        stdout=subprocess.PIPE, stderr=subprocess.PIPE)


def test_ctrl_c_saves_the_run_and_resume_continues_it(tmp_path):
    first = tmp_path / "first"
    training = start_training(first, "--epochs", "500")
    lines = []
    for line in training.stdout:  # a pipe, not a terminal: one progress line per epoch
        lines.append(line)
        if line.startswith("epoch 1/500: loss "):
            training.send_signal(signal.SIGINT)
            break
    out, err = training.communicate(timeout=120)
    assert training.returncode == 130, "".join(lines) + out + err
    assert err.count("\n") == 1 and err.startswith("symcnn: training interrupted at step ")
    assert f"the parameters and history so far are in {first} (continue with --resume {first / 'params.npz'})" in err
    history = json.loads((first / "history.json").read_text())
    assert history["status"] == "interrupted" and len(history["epoch_loss"]) >= 1
    assert len(history["step_loss"]) >= history["epoch_steps"][-1] == 43 * len(history["epoch_loss"])
    saved = symcnn.load_params(first / "params.npz")
    assert set(saved) == {"W1", "b1", "W3", "b3"}
    assert set(symcnn.runs.load_run(first).velocity) == set(saved)  # the momentum, to go on with

    second = tmp_path / "second"
    resumed = start_training(second, "--epochs", "1", "--resume", first)
    out, err = resumed.communicate(timeout=300)
    assert resumed.returncode == 0, err
    done = len(history["epoch_loss"])
    assert f"resuming from {first / 'params.npz'} after {done} epoch(s), {len(history['step_loss'])} step(s)\n" in out
    assert f"epoch {done + 1}/{done + 1}: loss " in out
    again = json.loads((second / "history.json").read_text())
    assert again["status"] == "completed" and again["step_loss"][:len(history["step_loss"])] == history["step_loss"]
    assert again["start_loss"] < history["start_loss"] / 2  # it went on from the saved parameters


# -- property test: random specs, arguments and data files --------------------------------

JUNK = st.one_of(st.integers(-2, 4), st.floats(), st.booleans(),
                 st.text(st.characters(exclude_categories=["Cs"]), max_size=4),
                 st.lists(st.integers(-1, 3), max_size=3))


def mostly(good: list, bad: list):
    """One of ``good``, and one time in eight one of ``bad``."""
    return st.integers(0, 7).flatmap(lambda i: st.sampled_from(bad if i == 7 else good))


@st.composite
def spec_dicts(draw):
    """A small valid network's dict, sometimes with a key deleted, replaced by junk or added,
    and sometimes a [values] table (whole, partial, with NaN, or junk)."""
    dims = draw(st.sampled_from([1, 2]))
    layers = [{"type": "conv", "filters": draw(st.integers(1, 2)), "size": draw(st.integers(1, 3)),
               "activation": draw(st.sampled_from(["relu", "none", "tanh"]))}]
    if draw(st.booleans()):
        layers.append({"type": "maxpool", "size": 2})
    layers.append({"type": "dense", "units": draw(st.integers(2, 3))})
    data = {"input": [draw(st.integers(4, 6)) for _ in range(dims)], "layers": layers}
    loss = draw(st.sampled_from(["squared", "cross_entropy", None]))
    if loss:
        data["loss"] = loss
    for _ in range(draw(mostly([0], [1, 2]))):
        table = draw(st.sampled_from([data, *layers]))
        key = draw(st.sampled_from(sorted(table) + ["units", "stride", "padding", "bias", "lyers"]))
        if draw(st.booleans()):
            table.pop(key, None)
        else:
            table[key] = draw(JUNK)
    if draw(st.integers(0, 3)) == 0:
        data["values"] = draw(value_tables(data))
    return data


@st.composite
def value_tables(draw, data):
    try:
        shapes = symcnn.parse_spec(data).shapes()
    except symcnn.SpecError:
        return draw(JUNK)
    table = {name: np.arange(int(np.prod(shape))).reshape(shape).tolist() if shape else 0
             for name, shape in shapes.items()}
    change = draw(st.sampled_from(["whole", "partial", "nan", "junk"]))
    if change == "partial":
        table.pop(draw(st.sampled_from(sorted(table))))
    elif change == "nan":
        table["X"] = np.full(shapes["X"], np.nan).tolist()
    elif change == "junk":
        table[draw(st.sampled_from(sorted(table)))] = draw(JUNK)
    return table


def toml(data: dict) -> str:
    """TOML for the dicts above: keys, then [[layers]] tables, then [values]."""
    def value(v):
        if isinstance(v, bool):
            return "true" if v else "false"
        if isinstance(v, float):
            return "nan" if v != v else ("inf" if v == np.inf else "-inf" if v == -np.inf else repr(v))
        if isinstance(v, list):
            return "[" + ", ".join(value(x) for x in v) + "]"
        return json.dumps(v)
    layers, values = data.get("layers"), data.get("values")
    tables = (["layers"] if isinstance(layers, list) and layers and all(isinstance(t, dict) for t in layers) else []) \
        + (["values"] if isinstance(values, dict) and values else [])
    lines = [f"{k} = {value(v)}" for k, v in data.items() if k not in tables]
    for layer in data["layers"] if "layers" in tables else []:
        lines += ["[[layers]]"] + [f"{k} = {value(v)}" for k, v in layer.items()]
    if "values" in tables:
        lines += ["[values]"] + [f"{k} = {value(v)}" for k, v in data["values"].items()]
    return "\n".join(lines) + "\n"


@st.composite
def data_files(draw, spec_text: str):
    """A writer of ``data.npz``: arrays X and y that mostly fit the spec, or no archive at all."""
    try:
        spec = symcnn.parse_spec(tomllib.loads(spec_text))
        shape, classes, labelled = spec.sample_shape, int(np.prod(spec.output_shape)), spec.loss == "cross_entropy"
    except (tomllib.TOMLDecodeError, symcnn.SpecError):
        shape, classes, labelled = (4,), 2, True
    kind = draw(mostly(["arrays"], ["text", "npy", "no y"]))
    n = draw(mostly([8, 12], [0, 1, 3]))
    X = np.random.default_rng(n).normal(size=(n, *draw(mostly([shape], [(3,), (2, 4, 4)]))))
    if n and draw(mostly([False], [True])):
        X.flat[0] = draw(st.sampled_from([np.nan, np.inf, 1e300]))
    dtype = draw(mostly(["float64"], ["complex128", "int64"]))
    X = np.nan_to_num(X).clip(-9, 9).astype(dtype) if dtype == "int64" else X.astype(dtype)
    labels = np.arange(n) % classes
    targets = np.random.default_rng(n).normal(size=(n, classes))
    y = draw(mostly([labels if labelled else targets], [labels.astype(float), labels + 1, np.ones((n, classes + 1)),
                                                        labels[:-1], targets if labelled else labels]))

    def write(path):
        if kind == "text":
            path.write_text("X = 1, 2, 3\n")
        elif kind == "npy":
            with open(path, "wb") as file:
                np.save(file, X)
        else:
            np.savez(path, X=X, **({} if kind == "no y" else {"y": y}))
    return write


ARGUMENTS = {
    "show": st.just([]),
    "derive": mostly([[], ["--max-size", "4"], ["-o", "{dir}/out.tex"]], [["--max-size", "2"], ["-o", "{dir}"]]),
    "gradcheck": st.tuples(mostly(["1", "2"], ["0", "-1", "x", "2000"]), mostly(["0", "7"], ["-1", "1.5"])).map(
        lambda t: ["--batch", t[0], "--seed", t[1]]),
    "train": st.tuples(mostly(["npz:{dir}/data.npz"], ["digits", "npz:{dir}/none.npz", "npz:"]),
                       mostly(["1", "2"], ["0", "-1", "two"]), mostly(["1", "3"], ["0", "-2"]),
                       mostly(["0.05", "1"], ["1e300", "0", "-1", "nan"]),
                       mostly([[], ["--dtype", "float32"]], [["--resume", "{dir}/data.npz"], ["--momentum", "1"],
                                                            ["--resume", "{dir}"]])).map(
        lambda t: ["--data", t[0], "--epochs", t[1], "--batch", t[2], "--lr", t[3], "--out", "{dir}/run", *t[4]]),
}


@st.composite
def command_lines(draw):
    command = draw(st.sampled_from(sorted(ARGUMENTS)))
    text = draw(mostly([None], ["input = [5\n", "\xff\xfe"])) or toml(draw(spec_dicts()))
    return command, text, draw(ARGUMENTS[command]), draw(data_files(text))


def check_command_line(case, folder):
    command, text, arguments, write_data = case
    spec = folder / "spec.toml"
    spec.write_bytes(text.encode("utf-8") if text != "\xff\xfe" else b"\xff\xfe")
    write_data(folder / "data.npz")
    argv = [command, spec, *(a.replace("{dir}", str(folder)) for a in arguments)]
    code, out, err = run(*argv)
    assert "Traceback" not in out + err, argv
    assert code in (0, 2), (argv, text, out, err)
    if code == 2:
        lines = err.splitlines()
        assert len(lines) == 1 and lines[0].startswith("symcnn: error: "), (argv, err)
        named = [str(folder), "argument", "--", "digits"]
        assert any(word in lines[0] for word in named), (argv, err)


SETTINGS = dict(deadline=None, derandomize=True, suppress_health_check=[HealthCheck.too_slow])


@settings(max_examples=12, **SETTINGS)
@given(command_lines())
def test_random_command_lines_give_exit_0_or_one_line(tmp_path_factory, case):
    check_command_line(case, tmp_path_factory.mktemp("case"))


@pytest.mark.slow
@settings(max_examples=150, **{**SETTINGS, "derandomize": False})
@given(command_lines())
def test_random_command_lines_at_length(tmp_path_factory, case):
    check_command_line(case, tmp_path_factory.mktemp("case"))


def test_ctrl_c_while_sympy_and_numba_load_is_one_line(monkeypatch, capsys):
    class Loading(types.ModuleType):  # Ctrl-C arrives while symcnn.commands is being imported
        def __getattr__(self, name):
            raise KeyboardInterrupt
    monkeypatch.setitem(sys.modules, "symcnn.commands", Loading("symcnn.commands"))
    assert cli.main(["show", str(DERIVATIONS / "seed_1d.toml")]) == 130
    assert capsys.readouterr().err == "symcnn: interrupted\n"


def test_ctrl_c_right_after_start_is_one_line():
    started = start_symcnn("show", DERIVATIONS / "lenet5.toml", stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    time.sleep(0.3)
    started.send_signal(signal.SIGINT)
    err = started.communicate(timeout=60)[1]
    assert started.returncode == 130 and err == "symcnn: interrupted\n"


def test_import_symcnn_loads_no_sympy():
    code = "import sys, symcnn; print('sympy' in sys.modules, symcnn.load.__module__, 'sympy' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.split() == ["False", "symcnn.network", "True"]


def test_every_public_name_is_what_it_says_after_every_module_is_loaded():
    """The package loads lazily; a submodule named like a public function would shadow it."""
    import importlib
    import pkgutil
    for module in pkgutil.walk_packages(symcnn.__path__, "symcnn."):
        if module.name not in ("symcnn.__main__",):
            importlib.import_module(module.name)
    for name in symcnn.__all__:
        assert not isinstance(getattr(symcnn, name), types.ModuleType), name
    assert symcnn.train.__module__ == "symcnn.training" and callable(symcnn.load)
