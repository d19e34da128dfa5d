"""The finite-difference check: its error model (round-off on large nets), its kink handling,
and that it still names a planted wrong entry."""

import numpy as np
import pytest

import symcnn
from conftest import DERIVATIONS
from test_compile import PlantedBug
from symcnn.gradcheck import NOISE_MULTIPLE, check_gradient, loss_noise

INPUTS = 64


@pytest.fixture(scope="module")
def wide():
    """A dense layer with many inputs, some of them tiny: their weights' gradients are so small
    that the finite differences' round-off is a large part of them, as on a 32x32 CNN's dense layer."""
    net = symcnn.Network({"input": [INPUTS], "loss": "cross_entropy", "layers": [{"type": "dense", "units": 3}]})
    model = net.compile()
    rng = np.random.default_rng(0)
    X = rng.normal(size=(4, INPUTS)) * 10.0 ** rng.uniform(-7, 0, size=INPUTS)
    return model, model.init_params(0), X, rng.integers(3, size=4)


@pytest.fixture(scope="module")
def seed_1d():
    return symcnn.load(DERIVATIONS / "seed_1d.toml").compile()


def central(model, params, X, y, name, index, h=1e-6):
    plus = {k: v.copy() for k, v in params.items()}
    plus[name][index] += h
    minus = {k: v.copy() for k, v in params.items()}
    minus[name][index] -= h
    return (model.loss(plus, X, y) - model.loss(minus, X, y)) / (2 * h)


def test_round_off_of_small_gradients_is_no_failure(wide):
    model, params, X, y = wide
    _, grads = model.loss_and_grad(params, X, y)
    tiny = int(np.argmin(np.abs(X).max(axis=0)))  # the input whose weights have the smallest gradients
    numeric = central(model, params, X, y, "W1", (tiny, 0))
    exact = grads["W1"][tiny, 0]
    # a purely relative tolerance of 1e-5 would call this right entry wrong
    assert abs(numeric - exact) / max(abs(numeric), abs(exact)) > 1e-5
    result = check_gradient(model, params, X, y)
    assert result.passed, str(result)
    assert result.parameters[0].rechecked == 0


def test_a_small_planted_error_is_still_caught(wide):
    model, params, X, y = wide
    _, grads = model.loss_and_grad(params, X, y)
    tiny = int(np.argmin(np.abs(X).max(axis=0)))
    large = np.unravel_index(int(np.argmax(np.abs(grads["W1"]))), grads["W1"].shape)
    # a relative error of 1e-3 on the largest entry; ten times the gradient of a tiny one
    for index, offset in ((large, 1e-3 * grads["W1"][large]), ((tiny, 1), 10 * abs(grads["W1"][tiny, 1]) + 1e-7)):
        result = check_gradient(PlantedBug(model, "W1", index, offset), params, X, y)
        assert not result.passed and result.worst.index == tuple(int(i) for i in index), str(result)
        assert f"failed: W1{list(result.worst.index)} is off by a relative" in str(result)


def test_measured_round_off_matches_the_scatter_of_differences(wide):
    model, params, X, y = wide
    delta = loss_noise(model, params, X, y)
    # each difference (L+ - L-) / 2h carries sqrt(2) delta / 2h of round-off: its scatter over
    # steps too close together for truncation (h^2 L'''/6, below 1e-12 here) to change
    steps = 1e-6 * (1 + np.arange(40) / 400)
    numeric = [central(model, params, X, y, "W1", (3, 1), h) for h in steps]
    scatter = np.std(numeric) * np.sqrt(2) * 1e-6
    assert scatter / 4 < delta < 4 * scatter


def test_samples_near_kinks_no_longer_stop_the_check(seed_1d):
    """Every sample has a ReLU pre-activation within 3e-5 of 0, as large inputs have: far enough
    for steps of 1e-6, so every entry is judged, and a wrong one still fails."""
    rng = np.random.default_rng(1)
    params = {"W1": np.array([[[0.7, -1.1, 0.4]]]), "W2": rng.normal(size=(5, 1))}
    X = rng.normal(size=(6, 5))
    X[:, 1] = (3e-5 - 0.7 * X[:, 0] - 0.4 * X[:, 2]) / -1.1  # Z1_2 = 3e-5
    y = rng.normal(size=(6, 1))
    assert (seed_1d.kink_distance(params, X) < 1e-4).all()
    result = check_gradient(seed_1d, params, X, y)
    assert result.passed and all(p.unjudged == 0 for p in result.parameters), str(result)
    planted = check_gradient(PlantedBug(seed_1d, "W1", (0, 0, 1), 1e-4), params, X, y)
    assert not planted.passed and planted.worst.index == (0, 0, 1)


def test_a_step_across_a_kink_is_taken_again_smaller(seed_1d):
    rng = np.random.default_rng(2)
    params = {"W1": np.array([[[0.7, -1.1, 0.4]]]), "W2": rng.normal(size=(5, 1))}
    X = rng.normal(size=(3, 5))
    X[:, 1] = (2e-7 - 0.7 * X[:, 0] - 0.4 * X[:, 2]) / -1.1  # a step of 1e-6 in W1 crosses Z1_2 = 0
    result = check_gradient(seed_1d, params, X, rng.normal(size=(3, 1)))
    assert result.passed, str(result)
    assert result.parameters[0].rechecked > 0 and result.parameters[0].unjudged == 0
    assert "rechecked with smaller steps" in str(result)


def test_readme_snippet_on_raw_digits():
    """Raw digits put exact ties into pooling windows (flat background), yet tied entries that
    move together are no kink for any single weight."""
    net = symcnn.load(DERIVATIONS / "digits_cnn.toml")
    model = net.compile()
    data = symcnn.load_data("digits", net.spec)
    params = model.init_params(0)
    X, y = data.X_train[:16], data.y_train[:16]
    assert (model.kink_distance(params, X) == 0).sum() >= 8
    result = check_gradient(model, params, X, y)
    assert result.passed and result.samples == 16, str(result)


def test_an_entry_on_a_kink_for_every_sample_is_not_judged(seed_1d):
    params = {"W1": np.array([[[1.0, -2.0, 1.0]]]), "W2": np.ones((5, 1))}
    X = np.array([[1.0, 2.0, 3.0, 4.0, 5.0]])  # Z1_2 = Z1_3 = Z1_4 = 0, moved by every weight of W1
    with pytest.raises(symcnn.SymcnnError, match="every entry of W1 sits on a ReLU kink or a pooling tie"):
        check_gradient(seed_1d, params, X, np.ones((1, 1)))


def test_at_most_some_entries(wide):
    model, params, X, y = wide
    result = check_gradient(model, params, X, y, entries=7)
    assert [(p.checked, p.entries) for p in result.parameters] == [(7, 3 * INPUTS), (3, 3)]
    assert f"W1   7 of {3 * INPUTS} entries  worst W1[" in str(result)
    assert check_gradient(model, params, X, y, entries=7).parameters == result.parameters  # seeded


def test_allowance_is_the_error_model(wide):
    model, params, X, y = wide
    result = check_gradient(model, params, X, y)
    w = result.parameters[0]
    scale = max(abs(w.analytic), abs(w.numeric))
    step = result.eps  # every weight is below 1 in size
    assert w.allowed == pytest.approx(result.tolerance + NOISE_MULTIPLE * result.noise / step / scale, rel=1e-6)
    assert result.noise >= np.finfo(float).eps * abs(model.loss(params, X, y))
