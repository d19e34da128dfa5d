"""Exercise variants: reproducible from their seed, varied across seeds, within the settings; the
right numbers against independent computations and the seed's slides; keys; questions and
solutions as LaTeX that pdflatex compiles and as HTML."""

import itertools
import json
import subprocess
import sys
import tomllib

import numpy as np
import pytest

from symcnn.errors import SymcnnError
from symcnn.exercises import KINDS, key_data, key_from_data, make_key, make_variant, read_key, write_exercise
from symcnn.exercises import read_settings
from symcnn.exercises.sheet import html, math as display, text
from symcnn.exercises.variant import Variant
from conftest import ROOT


@pytest.mark.parametrize("kind", KINDS)
def test_the_same_seed_gives_the_same_exercise_and_other_seeds_vary(kind):
    first, again = make_key(make_variant(kind, 11)), make_key(make_variant(kind, 11))
    assert key_data(first) == key_data(again)
    specs = {json.dumps(make_variant(kind, seed).spec, sort_keys=True) for seed in range(6)}
    assert len(specs) >= 4, specs


def test_kinds_drawn_with_the_same_seed_are_independent():
    a, b = make_variant("jacobian", 3), make_variant("delta", 3)
    assert a.spec["input"] != b.spec["input"] or a.spec["layers"][0] != b.spec["layers"][0]


@pytest.mark.parametrize("kind, settings, check", [
    ("conv-output", {"dims": "1", "size": "6", "padding": "1", "filters": "2", "bias": "true"},
     lambda v: v.spec["input"] == [6] and v.spec["layers"][0]["padding"] == 1 and v.spec["layers"][0]["filters"] == 2),
    ("conv-output", {"values": "0..1", "dims": "2"},
     lambda v: set(np.ravel(v.spec["values"]["X"])) <= {0, 1} and len(v.spec["input"]) == 2),
    ("pool-output", {"dims": "2", "side": "6", "window": "3", "stride": "3"},
     lambda v: v.spec["input"] == [6, 6] and v.spec["layers"][0] == {"type": "maxpool", "size": 3, "stride": 3}),
    ("weight-count", {"layers": "1"}, lambda v: len(v.spec["layers"]) == 1),
    ("gradient", {"form": "index", "activation": "sigmoid"},
     lambda v: v.form == "index" and v.spec["layers"][0]["activation"] == "sigmoid"),
    ("jacobian", {"padding": "2", "filter": "3"}, lambda v: v.spec["layers"][0]["padding"] == 2),
])
def test_settings_bound_every_draw(kind, settings, check):
    for seed in range(5):
        variant = make_variant(kind, seed, settings)
        assert check(variant), variant.spec
        assert variant.settings == {**variant.settings, **{k: v for k, v in settings.items()}}


BAD_SETTINGS = [
    ("conv-output", {"size": "4..x"}, "size = '4..x': expected an integer or LOW..HIGH"),
    ("conv-output", {"size": "7..4"}, "the range is empty (7 > 4)"),
    ("conv-output", {"padding": "0..9"}, "must lie within 0..3"),
    ("conv-output", {"form": "index"}, "conv-output has no setting 'form'"),
    ("conv-output", {"activation": "gelu"}, "'gelu' is not one of none, relu, sigmoid, tanh"),
    ("conv-output", {"activation": "tanh"}, "activation tanh: the outputs of a conv-output exercise are exact"),
    ("gradient", {"form": "matrix"}, "form: gradient is asked as product or index, not matrix"),
    ("pool-output", {"window": "5", "size": "3", "dims": "1"}, "no exercise within the settings"),
    ("jacobian", {"colour": "red"}, "jacobian has no setting 'colour'"),
]


@pytest.mark.parametrize("kind, settings, message", BAD_SETTINGS)
def test_bad_settings_are_one_clear_error(kind, settings, message):
    with pytest.raises(SymcnnError) as error:
        make_variant(kind, 0, settings)
    assert message in str(error.value), str(error.value)
    assert "\n" not in str(error.value)


def test_a_settings_file_gives_its_top_level_to_every_kind_that_uses_it_and_its_tables_to_one(tmp_path):
    path = tmp_path / "course.toml"
    path.write_text('values = "-1..1"\nform = "index"\n[conv-output]\ndims = [2]\npadding = "1"\n')
    assert read_settings(path, "conv-output") == {"values": "-1..1", "dims": [2], "padding": "1"}
    assert read_settings(path, "gradient") == {"form": "index"}
    variant = make_variant("conv-output", 0, read_settings(path, "conv-output"))
    assert len(variant.spec["input"]) == 2 and variant.spec["layers"][0]["padding"] == 1
    path.write_text("[conv]\nsize = 3\n")
    with pytest.raises(SymcnnError, match="conv] is not an exercise kind"):
        read_settings(path, "conv-output")


# -- the right numbers, independently -----------------------------------------------------------

def correlate(X, W, b, stride, padding):
    """Cross-correlation written out with NumPy: X (C, *n), W (F, C, *k), b (F,) or None."""
    X, W = np.asarray(X, dtype=object), np.asarray(W, dtype=object)
    padded = np.pad(X, [(0, 0)] + [(padding, padding)] * (X.ndim - 1)).astype(object)
    sizes = [(n - k) // stride + 1 for n, k in zip(padded.shape[1:], W.shape[2:])]
    out = np.zeros((W.shape[0], *sizes), dtype=object)
    for f in range(W.shape[0]):
        for position in itertools.product(*map(range, sizes)):
            window = padded[(slice(None), *[slice(p * stride, p * stride + k) for p, k in zip(position, W.shape[2:])])]
            out[(f, *position)] = (window * W[f]).sum() + (b[f] if b is not None else 0)
    return out


def test_conv_outputs_equal_a_cross_correlation_written_out():
    for seed in range(12):
        variant = make_variant("conv-output", seed)
        layer, values = variant.spec["layers"][0], variant.spec["values"]
        X = np.asarray(values["X"]).reshape(variant.network.spec.input_shape)
        Z = correlate(X, values["W1"], values.get("b1"), layer["stride"], layer["padding"])
        expected = np.maximum(Z, 0) if variant.of == "A1" else Z
        assert (KINDS["conv-output"].expected(variant) == expected).all(), variant.spec


def test_pool_outputs_equal_the_windows_maxima():
    for seed in range(12):
        variant = make_variant("pool-output", seed)
        layer, X = variant.spec["layers"][0], np.asarray(variant.spec["values"]["X"])
        k, s = layer["size"], layer["stride"]
        sizes = [(n - k) // s + 1 for n in X.shape]
        maxima = np.array([X[tuple(slice(p * s, p * s + k) for p in position)].max()
                           for position in itertools.product(*map(range, sizes))]).reshape(1, *sizes)
        assert (KINDS["pool-output"].expected(variant) == maxima).all(), variant.spec


def test_weight_counts_equal_symcnns_own():
    for seed in range(12):
        variant = make_variant("weight-count", seed)
        counts = variant.network.spec.parameter_counts()
        assert list(KINDS["weight-count"].expected(variant).flat) == [counts[l] for l in sorted(counts)]


SEED_IMAGE = [[1, 0, 1, 0, 0], [1, 0, 1, 0, 1], [1, 1, 1, 0, 0], [1, 0, 1, 0, 1], [1, 0, 1, 0, 1]]
SEED_FILTER = [[-1, -1, -1], [-1, 1, -1], [-1, -1, -1]]
SEED_CONV = [[0, -4, 0, -3, -1], [-2, -7, -2, -4, 1], [-2, -5, -2, -5, -2], [-2, -7, -2, -5, 0], [0, -4, 0, -4, 0]]
SEED_RELU_MAP = [[0] * 6, [0, 0, 0, 0, 1, 0], [0] * 6, [0, 1, 0, 0, 0, 0], [0] * 6, [0] * 6]


def seed_variant(kind, layer, X, of, **values):
    spec = {"input": list(np.shape(X)), "dims": 2, "layers": [layer], "values": {"X": X, **values}}
    return Variant(kind, 0, spec, of)


def test_the_seeds_slides_convolution_and_pooling():
    conv = {"type": "conv", "size": 3, "padding": 1, "bias": False}
    Z = seed_variant("conv-output", {**conv, "activation": "none"}, SEED_IMAGE, "Z1", W1=[[SEED_FILTER]])
    assert KINDS["conv-output"].expected(Z).tolist() == [SEED_CONV]
    A = seed_variant("conv-output", {**conv, "activation": "relu"}, SEED_IMAGE, "A1", W1=[[SEED_FILTER]])
    assert np.argwhere(KINDS["conv-output"].expected(A)[0] != 0).tolist() == [[1, 4]]  # the slide's lone 1
    stride_1 = seed_variant("pool-output", {"type": "maxpool", "size": 3, "stride": 1}, SEED_RELU_MAP, "A1")
    assert KINDS["pool-output"].expected(stride_1).tolist() == [[[0, 0, 1, 1], [1, 1, 1, 1], [1, 1, 0, 0], [1, 1, 0, 0]]]
    stride_3 = seed_variant("pool-output", {"type": "maxpool", "size": 3, "stride": 3}, SEED_RELU_MAP, "A1")
    assert KINDS["pool-output"].expected(stride_3).tolist() == [[[0, 1], [1, 0]]]


def test_the_seeds_weight_counts():
    one_filter = Variant("weight-count", 0, {"input": [5], "layers": [{"type": "conv", "size": 3}]}, "weights")
    dense = Variant("weight-count", 0, {"input": [10], "layers": [{"type": "dense", "units": 10}]}, "weights")
    assert KINDS["weight-count"].expected(one_filter).tolist() == [[4]]
    assert KINDS["weight-count"].expected(dense).tolist() == [[110]]


# -- keys ------------------------------------------------------------------------------------

@pytest.mark.parametrize("kind", KINDS)
def test_keys_round_trip(kind, tmp_path):
    key = make_key(make_variant(kind, 2), points=3, partial_credit=True)
    again = key_from_data(json.loads(json.dumps(key_data(key))))
    assert key_data(again) == key_data(key)
    assert again.grading.points == 3 and again.grading.partial_credit


BAD_KEYS = [
    (lambda d: d.pop("spec"), "missing 'spec'"),
    (lambda d: d.update(format="symcnn-key/9"), "format: expected 'symcnn-key/1'"),
    (lambda d: d.update(kind="convolution"), "kind: 'convolution' is not an exercise kind"),
    (lambda d: d["spec"]["layers"][0].update(size=40), "key.json: spec: layer 1 (conv): size"),
    (lambda d: d.update(quantity={"of": "Z7", "wrt": None}), "key.json: quantity:"),
    (lambda d: d["grading"].update(points=-1), "grading.points: expected a positive number"),
    (lambda d: d["grading"].update(bonus=1), "grading: unknown option 'bonus'"),
]


@pytest.mark.parametrize("change, message", BAD_KEYS)
def test_bad_keys_are_one_clear_error(change, message, tmp_path):
    data = key_data(make_key(make_variant("conv-output", 1)))
    change(data)
    path = tmp_path / "key.json"
    path.write_text(json.dumps(data))
    with pytest.raises(SymcnnError) as error:
        read_key(path)
    assert message in str(error.value) and "\n" not in str(error.value), str(error.value)
    path.write_text("{not json")
    with pytest.raises(SymcnnError, match="not a JSON key file"):
        read_key(path)


# -- questions and solutions -----------------------------------------------------------------

@pytest.mark.parametrize("kind", KINDS)
def test_questions_and_solutions_compile_with_pdflatex(kind, tmp_path):
    key = make_key(make_variant(kind, 4))
    files = write_exercise(key, tmp_path / kind)
    assert [f.name for f in files] == ["question.tex", "question.pdf", "solution.tex", "solution.pdf", "key.json"]
    for pdf in (f for f in files if f.suffix == ".pdf"):
        assert pdf.read_bytes().startswith(b"%PDF")
    question = (tmp_path / kind / "question.tex").read_text()
    assert key.answer not in question  # the question does not give the answer away


def test_html_escapes_text_and_keeps_math_for_mathjax():
    page = html([text("if a < b & c"), display(r"\begin{bmatrix} 1 & 2 \end{bmatrix}")])
    assert "a &lt; b &amp; c" in page and r"$$\begin{bmatrix} 1 &amp; 2 \end{bmatrix}$$" in page


def test_the_exercise_command_writes_the_files_and_names_bad_settings(tmp_path):
    run = subprocess.run([sys.executable, "-m", "symcnn", "exercise", "pool-output", "--seed", "5", "--count", "2",
                          "-o", str(tmp_path / "pool"), "--set", "dims=1", "--no-pdf"], capture_output=True, text=True)
    assert run.returncode == 0, run.stderr
    for seed in (5, 6):
        assert (tmp_path / "pool" / f"pool-output-{seed}" / "key.json").exists()
        assert (tmp_path / "pool" / f"pool-output-{seed}" / "question.tex").exists()
    bad = subprocess.run([sys.executable, "-m", "symcnn", "exercise", "pool-output", "--seed", "5", "--set", "size",
                          "-o", str(tmp_path / "bad")], capture_output=True, text=True)
    assert bad.returncode == 2 and bad.stderr.strip() == ("symcnn: error: --set size: write NAME=VALUE, "
                                                          "e.g. --set size=4..7"), bad.stderr
    assert not (tmp_path / "bad").exists()


def test_every_stage_goes_into_the_wheel():
    """Courses install symcnn from a wheel (Gradescope, PrairieLearn): every subpackage must be in it."""
    setuptools = pytest.importorskip("setuptools")
    config = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]["packages"]["find"]
    packaged = set(setuptools.find_packages(ROOT, include=config["include"]))
    on_disk = {".".join(p.parent.relative_to(ROOT).parts) for p in (ROOT / "symcnn").rglob("__init__.py")}
    assert {"symcnn.exercises", "symcnn.grade", "symcnn.verify"} <= on_disk <= packaged
