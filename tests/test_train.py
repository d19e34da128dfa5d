"""Training on the digits with the compiled gradients: accuracy, saved files, bad input."""

import subprocess
import sys

import numpy as np
import pytest

import symcnn
from conftest import DERIVATIONS

SPEC = DERIVATIONS / "digits_cnn.toml"


@pytest.fixture(scope="module")
def net():
    return symcnn.load(SPEC)


@pytest.fixture(scope="module")
def trained(net, tmp_path_factory):
    out = tmp_path_factory.mktemp("run")
    data = symcnn.load_data("digits", net.spec, seed=0)
    result = symcnn.train(net.compile(), data, epochs=5, batch=32, lr=0.05, seed=0, out=out, progress=False)
    return result, data, out


def test_a_short_seeded_run_learns_the_digits(trained):
    result, data, _ = trained
    assert len(result.history.step_loss) == 5 * -(-len(data.X_train) // 32) == 215
    assert result.test_score >= 0.90
    assert result.history.epoch_loss[-1] < result.history.epoch_loss[0] / 5
    assert result.check.passed


def test_split_is_seeded_and_stratified(net):
    a, b = symcnn.load_data("digits", net.spec, seed=0), symcnn.load_data("digits", net.spec, seed=0)
    assert (a.X_test == b.X_test).all() and len(a.X_test) == 450
    from sklearn.datasets import load_digits
    share = 0.25 * np.bincount(load_digits().target, minlength=10)
    assert np.abs(np.bincount(a.y_test, minlength=10) - share).max() <= 1


def test_saved_parameters_predict_the_same(trained, net):
    result, data, out = trained
    model = net.compile()
    loaded = symcnn.load_params(out / "params.npz")
    assert set(loaded) == set(result.params)
    assert (model.predict(loaded, data.X_test) == model.predict(result.params, data.X_test)).all()


def test_plots_are_valid_pngs(trained):
    import matplotlib.image
    _, _, out = trained
    for name in ("curve.png", "filters.png"):
        path = out / name
        assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
        image = matplotlib.image.imread(path)
        assert image.ndim == 3 and image.shape[0] > 100 and image.std() > 0


def test_user_arrays_from_npz(tmp_path, net):
    rng = np.random.default_rng(0)
    X = rng.random((60, 8, 8))
    y = (X[:, :4].mean(axis=(1, 2)) > X[:, 4:].mean(axis=(1, 2))).astype(int)
    np.savez(tmp_path / "mine.npz", X=X, y=y)
    data = symcnn.load_data(f"npz:{tmp_path / 'mine.npz'}", net.spec)
    assert data.X_train.shape == (45, 8, 8) and data.X_test.shape == (15, 8, 8)


@pytest.mark.parametrize("arrays, message", [
    (dict(X=np.zeros((10, 5, 5)), y=np.zeros(10, int)), "samples of shape (5, 5), but the spec's input is (8, 8)"),
    (dict(X=np.full((10, 8, 8), np.nan), y=np.zeros(10, int)), "X must hold finite numbers (first at X[0, 0, 0])"),
    (dict(X=np.zeros((10, 8, 8)), y=np.full(10, 12)), "y must be class labels 0..9 for the spec's 10 outputs"),
    (dict(X=np.zeros((10, 8, 8))), "no array 'y' (it has X)"),
])
def test_bad_user_data(tmp_path, net, arrays, message):
    np.savez(tmp_path / "bad.npz", **arrays)
    with pytest.raises(symcnn.SymcnnError) as error:
        symcnn.load_data(f"npz:{tmp_path / 'bad.npz'}", net.spec)
    assert message in str(error.value)


def test_digits_need_an_8x8_input():
    seed = symcnn.load(DERIVATIONS / "seed_1d.toml")
    with pytest.raises(symcnn.ShapeError, match=r"digits: samples of shape \(8, 8\), but the spec's input is \(5,\)"):
        symcnn.load_data("digits", seed.spec)
    with pytest.raises(symcnn.SymcnnError, match="unknown data set 'mnist'; expected digits or npz:PATH"):
        symcnn.load_data("mnist", seed.spec)


def test_a_diverging_loss_stops_at_its_step_and_keeps_good_parameters(tmp_path, net):
    data = symcnn.load_data("digits", net.spec)
    with pytest.raises(symcnn.TrainingError, match=r"the loss became (nan|inf) at step \d+ \(epoch 1\); the last "
                                                  r"parameters with a finite loss are in .*params.npz"):
        symcnn.train(net.compile(), data, epochs=1, lr=1e300, momentum=0.0, out=tmp_path, progress=False)
    saved = symcnn.load_params(tmp_path / "params.npz")
    assert all(np.isfinite(v).all() for v in saved.values())


def test_unwritable_output_folder(tmp_path, net):
    blocker = tmp_path / "a-file"
    blocker.write_text("")
    data = symcnn.load_data("digits", net.spec)
    with pytest.raises(symcnn.SymcnnError, match="--out .*a-file/run: cannot write there"):
        symcnn.train(net.compile(), data, epochs=1, out=blocker / "run", progress=False)


def test_training_refuses_a_wrong_gradient(net):
    model = net.compile()
    right = model.loss_and_grad

    def planted(params, X, y, gradient=True):
        loss, grads = right(params, X, y, gradient)
        if grads is not None:
            grads["b3"] = grads["b3"] + 0.01
        return loss, grads

    model.loss_and_grad = planted
    with pytest.raises(symcnn.TrainingError, match=r"fail the finite-difference check, not training: failed: b3\["):
        symcnn.train(model, symcnn.load_data("digits", net.spec), epochs=1, progress=False)


def test_cli_prints_test_accuracy_last(tmp_path):
    run = subprocess.run([sys.executable, "-m", "symcnn", "train", str(SPEC), "--data", "digits", "--epochs", "2",
                          "--out", str(tmp_path)], capture_output=True, text=True)
    assert run.returncode == 0, run.stderr
    last = run.stdout.strip().splitlines()[-1]
    assert last.startswith("test accuracy: ") and 0.8 < float(last.split(": ")[1]) <= 1
    bad = subprocess.run([sys.executable, "-m", "symcnn", "train", str(SPEC), "--data", "npz:/nonexistent.npz"],
                         capture_output=True, text=True)
    assert bad.returncode == 2 and bad.stderr.startswith("symcnn: error: /nonexistent.npz: cannot read")
