"""Compiled NumPy gradients: array kernels vs scalar lambdify vs substitution vs PyTorch."""

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings

import symcnn
import torch_oracle
from strategies import networks
from symcnn.gradcheck import check_gradient
from conftest import DERIVATIONS


def data_for(spec, rng, batch):
    X = rng.normal(size=(batch, *spec.input_shape))
    classes = int(np.prod(spec.output_shape))
    y = rng.integers(classes, size=batch) if spec.loss == "cross_entropy" else rng.normal(size=(batch, classes))
    return X, y


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(networks())
def test_array_kernels_equal_scalar_expansion_and_pytorch(case):
    spec, seed = case
    net = symcnn.Network(spec)
    array, scalar, jitted = net.compile("array"), net.compile("scalar"), net.compile("numba")
    rng = np.random.default_rng(seed)
    params = array.init_params(seed)
    X, y = data_for(spec, rng, batch=3)
    loss_a, grads_a = array.loss_and_grad(params, X, y)
    loss_s, grads_s = scalar.loss_and_grad(params, X, y)
    loss_n, grads_n = jitted.loss_and_grad(params, X, y)
    loss_t, grads_t = torch_oracle.loss_and_grads(spec, params, X, y)
    assert loss_a == pytest.approx(loss_s, rel=1e-12, abs=1e-12)
    assert loss_a == pytest.approx(loss_t / 3, rel=1e-10, abs=1e-12)
    assert loss_n == pytest.approx(loss_t / 3, rel=1e-10, abs=1e-12)
    np.testing.assert_allclose(array.forward(params, X), scalar.forward(params, X), rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(jitted.forward(params, X), scalar.forward(params, X), rtol=1e-12, atol=1e-12)
    for name in params:
        np.testing.assert_allclose(grads_a[name], grads_s[name], rtol=1e-10, atol=1e-12, err_msg=name)
        np.testing.assert_allclose(grads_a[name], grads_t[name] / 3, rtol=1e-10, atol=1e-12, err_msg=name)
        np.testing.assert_allclose(grads_n[name], grads_t[name] / 3, rtol=1e-10, atol=1e-12, err_msg=name)


@settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(networks())
def test_float32_gradients_equal_pytorch_to_1e_4(case):
    """float32 end to end (no silent upcast) and within 1e-4 of PyTorch's float64 gradients,
    relative to each gradient's largest entry; batch 5 so that tiles and runs are uneven."""
    spec, seed = case
    model = symcnn.Network(spec).compile("numba", dtype="float32")
    rng = np.random.default_rng(seed)
    params = model.init_params(seed)
    X, y = data_for(spec, rng, batch=5)
    loss, grads = model.loss_and_grad(params, X.astype(np.float32), y)
    loss_t, grads_t = torch_oracle.loss_and_grads(spec, params, X.astype(np.float32), y)
    assert loss == pytest.approx(loss_t / 5, rel=1e-4, abs=1e-5)
    assert model.forward(params, X).dtype == np.float32
    for name in params:
        assert grads[name].dtype == np.float32, name
        scale = max(np.abs(grads_t[name]).max() / 5, 1e-6)
        np.testing.assert_allclose(grads[name], grads_t[name] / 5, rtol=0, atol=1e-4 * scale, err_msg=name)


def test_compiled_gradient_equals_substitution_into_the_derivation():
    net = symcnn.load(DERIVATIONS / "seed_1d.toml")
    model = net.compile()
    rng = np.random.default_rng(3)
    params = {"W1": rng.normal(size=(1, 1, 3)), "W2": rng.normal(size=(5, 1))}
    X, y = rng.normal(size=(1, 5)), rng.normal(size=(1, 1))
    _, grads = model.loss_and_grad(params, X, y)
    point = {**params, "X": X[0], "y": y[0]}
    for name in params:
        exact = np.array([float(v) for v in net.substitute(net.gradient(name), point)])
        np.testing.assert_allclose(grads[name].ravel(), exact, rtol=1e-12)


def test_conv_gather_is_evaluated_from_the_general_formula():
    net = symcnn.load(DERIVATIONS / "seed_1d.toml")
    from symcnn.compile.indexmaps import conv_gather
    gather = conv_gather(net.general, 1)
    # dZ_i/dW_k = X_{i+k-2}: Z_i meets (X_{i-1}, X_i, X_{i+1}); X_0 and X_6 are the padding zero, index 5
    assert gather.tolist() == [[5, 0, 1], [0, 1, 2], [1, 2, 3], [2, 3, 4], [3, 4, 5]]


def test_float32_and_predictions():
    net = symcnn.load(DERIVATIONS / "digits_cnn.toml")
    m64, m32 = net.compile(), net.compile(dtype="float32")
    params = m64.init_params(0)
    again = m64.init_params(0)
    assert params["W1"].shape == (8, 1, 3, 3) and all((params[k] == again[k]).all() for k in params)
    assert np.abs(params["W1"]).max() <= 1 / 3 and np.abs(params["W3"]).max() <= 1 / np.sqrt(128)
    X, y = data_for(net.spec, np.random.default_rng(0), batch=16)
    loss64, grads64 = m64.loss_and_grad(params, X[:, 0], y)
    loss32, grads32 = m32.loss_and_grad(params, X[:, 0], y)
    assert grads32["W1"].dtype == np.float32 and m32.forward(params, X).dtype == np.float32
    assert loss32 == pytest.approx(loss64, rel=1e-5)
    for name in params:
        np.testing.assert_allclose(grads32[name], grads64[name], rtol=1e-3, atol=1e-5)
    predictions = m64.predict(params, X)
    assert predictions.shape == (16,) and (predictions == m64.forward(params, X).argmax(axis=1)).all()


@pytest.mark.parametrize("spec", [s for s in sorted(DERIVATIONS.glob("*.toml")) if "loss" in s.read_text()],
                         ids=lambda s: s.stem)
def test_gradcheck_passes_on_every_spec(spec):
    net = symcnn.load(spec)
    model = net.compile()
    X, y = data_for(net.spec, np.random.default_rng(1), batch=4)
    result = check_gradient(model, model.init_params(1), X, y, entries=300)
    assert result.passed, str(result)
    assert all(p.error < p.allowed / 4 for p in result.parameters), str(result)  # well inside the error model


class PlantedBug:
    """A model whose gradient is wrong in exactly one entry."""

    def __init__(self, model, name, index, offset=1e-3):
        self.model, self.name, self.index, self.offset = model, name, index, offset
        self.dtype = model.dtype

    def loss(self, *args):
        return self.model.loss(*args)

    def kink_distance(self, *args):
        return self.model.kink_distance(*args)

    def loss_and_grad(self, *args):
        loss, grads = self.model.loss_and_grad(*args)
        grads[self.name][self.index] += self.offset
        return loss, grads


def test_gradcheck_names_a_planted_wrong_entry():
    net = symcnn.load(DERIVATIONS / "digits_cnn.toml")
    model = net.compile()
    X, y = data_for(net.spec, np.random.default_rng(2), batch=3)
    result = check_gradient(PlantedBug(model, "W1", (5, 0, 2, 1)), model.init_params(2), X[:, 0], y)
    assert not result.passed
    assert result.worst.name == "W1" and result.worst.index == (5, 0, 2, 1)
    assert "failed: W1[5, 0, 2, 1] is off" in str(result)


def test_gradcheck_leaves_out_samples_on_a_kink():
    net = symcnn.load(DERIVATIONS / "seed_1d.toml")
    model = net.compile()
    params = {"W1": np.array([[[1.0, -1.0, 0.5]]]), "W2": np.ones((5, 1))}
    on_kink = [1.0, 1.0, 0.0, 2.0, 3.0]  # Z1_2 = 1 - 1 + 0 = 0
    X = np.array([on_kink, [0.3, -1.2, 0.7, 2.0, -0.4]])
    assert model.kink_distance(params, X)[0] == 0
    result = check_gradient(model, params, X, np.ones((2, 1)))
    # W1_1 and W1_2 move Z1_2 off its kink: judged again on the second sample alone
    assert result.passed and result.parameters[0].rechecked == 2 and result.parameters[0].unjudged == 0
    alone = check_gradient(model, params, X[:1], np.ones((1, 1)))
    # W1_3 meets X_3 = 0, so Z1_2 stays on its kink and W1_3 can still be judged
    assert alone.passed and alone.parameters[0].unjudged == 2 and alone.parameters[0].index == (0, 0, 2)


@pytest.mark.parametrize("change, message", [
    (lambda p, X, y: ({k: v for k, v in p.items() if k != "b3"}, X, y),
     "params: missing b3 (this network has W1, b1, W3, b3)"),
    (lambda p, X, y: ({**p, "W1": p["W1"][:, :, :2]}, X, y), "params['W1']: shape (8, 1, 2, 3), expected (8, 1, 3, 3)"),
    (lambda p, X, y: ({**p, "W9": p["W1"]}, X, y), "params: 'W9' is not a parameter of this network"),
    (lambda p, X, y: (p, X[:, :7], y), "X: shape (2, 7, 8), expected (batch, 8, 8)"),
    (lambda p, X, y: (p, X, np.array([3, 10])), "y: labels must be in 0..9, got 10 (entry 1)"),
    (lambda p, X, y: (p, X, y.astype(float)), "y: integer class labels of shape (2,) expected, got float64 (2,)"),
])
def test_bad_inputs_name_the_key_and_shapes(change, message):
    model = symcnn.load(DERIVATIONS / "digits_cnn.toml").compile()
    X, y = data_for(model.spec, np.random.default_rng(0), batch=2)
    params, X, y = change(model.init_params(0), X[:, 0], y)
    with pytest.raises(symcnn.ShapeError) as error:
        model.loss_and_grad(params, X, y)
    assert str(error.value).startswith(message)


def test_unknown_backend_and_float32_gradcheck():
    net = symcnn.load(DERIVATIONS / "seed_1d.toml")
    with pytest.raises(symcnn.ShapeError, match="unknown backend 'jax'"):
        net.compile("jax")
    model = net.compile(dtype="float32")
    with pytest.raises(symcnn.ShapeError, match="finite differences need a float64 model"):
        check_gradient(model, model.init_params(0), np.ones((1, 5)), np.ones((1, 1)))


@pytest.mark.parametrize("spec", sorted(DERIVATIONS.glob("*.toml")), ids=lambda s: s.stem)
def test_gradcheck_command_passes_on_every_spec(spec):
    import subprocess
    import sys
    run = subprocess.run([sys.executable, "-m", "symcnn", "gradcheck", str(spec)], capture_output=True, text=True)
    assert run.returncode == 0, run.stdout + run.stderr
    assert run.stdout.strip().splitlines()[-1].startswith("passed: ")


def entry_gather(net, l):
    """The gather read independently out of the entry-by-entry Jacobian dZ^l/dW^l: for output
    position i and weight offset q (of filter 1), the input entry it multiplies (n: padding)."""
    previous = net.flow[net.flow.index(f"Z{l}") - 1]
    inputs = {s: k for k, s in enumerate(net.symbol_array(previous).flat)}
    zero = len(inputs)
    jacobian = net.jacobian(f"Z{l}", f"W{l}")
    per_filter = int(np.prod(net.shape(f"W{l}")[1:]))
    positions = int(np.prod(net.shape(f"Z{l}")[1:]))
    return np.array([[inputs.get(jacobian[q, i], zero) for q in range(per_filter)] for i in range(positions)])


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(networks())
def test_index_maps_from_general_formulas_equal_the_entry_by_entry_jacobians(case):
    from symcnn.compile.indexmaps import conv_gather, pool_windows
    spec, _ = case
    net = symcnn.Network(spec)
    for l, layer in enumerate(spec.layers, start=1):
        if layer.type == "conv":
            np.testing.assert_array_equal(conv_gather(net.general, l), entry_gather(net, l))
        elif layer.type == "maxpool":
            previous = net.flow[net.flow.index(f"A{l}") - 1]
            inputs = {s: k for k, s in enumerate(net.symbol_array(previous).flat)}
            windows = [[inputs[a] for a in e.args] for e in net.expr_array(f"A{l}").flat]
            np.testing.assert_array_equal(pool_windows(net.general, l), windows)


def test_a_forward_pass_over_many_chunks_keeps_every_chunk():
    """The numba backend predicts in chunks of CHUNK samples through reused buffers; each chunk's
    output must be copied out before the next one overwrites it (it was not: 0.60 of 1347 agreed)."""
    from symcnn.compile.numba_backend import CHUNK
    net = symcnn.load(DERIVATIONS / "digits_cnn.toml")
    fast, reference = net.compile(), net.compile(backend="array")
    params = fast.init_params(0)
    X = np.random.default_rng(0).normal(size=(2 * CHUNK + 37, 8, 8))
    assert np.allclose(fast.forward(params, X), reference.forward(params, X), rtol=0, atol=1e-12)
    assert (fast.predict(params, X) == reference.predict(params, X)).all()
