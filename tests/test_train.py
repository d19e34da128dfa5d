"""Training on the digits with the compiled gradients: accuracy, saved files, bad input."""

import json
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
def model(net):
    return net.compile()


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
    assert result.history.train_score[-1] >= 0.90  # scored over 1347 samples: six forward chunks
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
    (dict(X=np.zeros((10, 8, 8)), y=np.arange(10.0)),
     "y must be class labels 0..9 for the spec's 10 outputs, stored as integers; got dtype float64 (convert with "
     "y.astype(int))"),
    (dict(X=np.zeros((10, 8, 8)), y=np.eye(10, dtype=int)), "one per sample, got shape (10, 10) (one-hot rows? use "
                                                             "y.argmax(axis=1))"),
    (dict(X=np.zeros((10, 8, 8), complex), y=np.zeros(10, int)), "X must hold real numbers, got dtype complex128"),
    (dict(X=np.zeros((1, 8, 8)), y=np.zeros(1, int)), "1 sample(s); a train and a test part need at least 2"),
    (dict(X=np.array([{"a": 1}] * 10, dtype=object), y=np.zeros(10, int)), "array 'X' holds Python objects (pickled "
                                                                           "data), which symcnn does not load"),
])
def test_bad_user_data(tmp_path, net, arrays, message):
    np.savez(tmp_path / "bad.npz", **arrays)
    with pytest.raises(symcnn.SymcnnError) as error:
        symcnn.load_data(f"npz:{tmp_path / 'bad.npz'}", net.spec)
    assert message in str(error.value)


@pytest.mark.parametrize("name, write, message", [
    ("x.npy", lambda path: np.save(path, np.zeros((10, 8, 8))),
     "a single .npy array, not an .npz archive of the arrays"),
    ("text.npz", lambda path: path.write_text("1, 2, 3\n"), "not an .npz archive of the arrays (not a zip file)"),
])
def test_data_files_that_are_not_npz_archives(tmp_path, net, name, write, message):
    write(tmp_path / name)
    with pytest.raises(symcnn.SymcnnError) as error:
        symcnn.load_data(f"npz:{tmp_path / name}", net.spec)
    assert str(error.value).startswith(f"{tmp_path / name}: {message}")


def test_few_samples_split_without_stratification(tmp_path, net):
    np.savez(tmp_path / "few.npz", X=np.zeros((5, 8, 8)), y=np.arange(5))  # five classes, one sample each
    data = symcnn.load_data(f"npz:{tmp_path / 'few.npz'}", net.spec)
    assert len(data.X_train) == 3 and len(data.X_test) == 2


def test_digits_need_an_8x8_input():
    seed = symcnn.load(DERIVATIONS / "seed_1d.toml")
    with pytest.raises(symcnn.ShapeError, match=r"digits: samples of shape \(8, 8\), but the spec's input is \(5,\)"):
        symcnn.load_data("digits", seed.spec)
    with pytest.raises(symcnn.SymcnnError, match="unknown data set 'mnist'; expected digits or npz:PATH"):
        symcnn.load_data("mnist", seed.spec)


def test_a_diverging_loss_stops_at_its_step_and_keeps_good_parameters(tmp_path, net, model):
    data = symcnn.load_data("digits", net.spec)
    with pytest.raises(symcnn.TrainingError, match=r"^training diverged: the loss became (nan|inf) at step \d+ "
                                                  r"\(epoch 1\); the starting parameters are in .*params.npz; try a "
                                                  r"smaller --lr \(now 1e\+300\)$"):
        symcnn.train(model, data, epochs=1, lr=1e300, momentum=0.0, out=tmp_path, progress=False)
    saved = symcnn.load_params(tmp_path / "params.npz")
    start = model.init_params(0)
    assert all((saved[k] == start[k]).all() for k in start)
    assert json.loads((tmp_path / "history.json").read_text())["status"] == "diverged"


def test_a_rising_epoch_loss_is_divergence_too(tmp_path, net, model):
    """lr 100 keeps the loss finite but far above where it started: reported, not trained on."""
    data = symcnn.load_data("digits", net.spec)
    first = symcnn.train(model, data, epochs=1, lr=0.05, progress=False)
    with pytest.raises(symcnn.TrainingError, match=r"^training diverged: the mean loss of epoch 2 was [\d.e+]+, more "
                                                  r"than 2 x the starting loss [\d.]+; the parameters of epoch 1 are "
                                                  r"in .*params.npz; try a smaller --lr \(now 100\)$"):
        symcnn.train(model, data, epochs=3, lr=100, params=first.params, history=first.history, out=tmp_path,
                     progress=False)
    saved = symcnn.load_params(tmp_path / "params.npz")
    assert all((saved[k] == first.params[k]).all() for k in saved)
    history = json.loads((tmp_path / "history.json").read_text())
    assert history["status"] == "diverged" and len(history["test_score"]) == 1


def test_interrupted_training_saves_its_work(tmp_path, net, model, monkeypatch):
    right, calls = model.loss_and_grad, []

    def interrupted_at_step_10(params, X, y, gradient=True):
        if len(X) == 32:
            calls.append(1)
            if len(calls) == 10:
                raise KeyboardInterrupt
        return right(params, X, y, gradient)

    monkeypatch.setattr(model, "loss_and_grad", interrupted_at_step_10)
    data = symcnn.load_data("digits", net.spec)
    with pytest.raises(symcnn.TrainingInterrupted, match=r"^training interrupted at step 9 \(epoch 1\); the "
                                                         r"parameters and history so far are in "):
        symcnn.train(model, data, epochs=3, out=tmp_path, progress=False)
    history = symcnn.runs.load_history(tmp_path / "history.json")
    assert history.status == "interrupted" and len(history.step_loss) == 9 and history.epoch_loss == []
    saved = symcnn.load_params(tmp_path / "params.npz")
    assert not np.allclose(saved["W1"], model.init_params(0)["W1"])
    with pytest.raises(KeyboardInterrupt, match="nothing saved"):  # still a KeyboardInterrupt for callers
        calls.clear()
        symcnn.train(model, data, epochs=1, progress=False)


def test_resumed_training_takes_the_steps_of_an_uninterrupted_run(tmp_path, net, model):
    """One epoch, saved, read back and one more epoch: the parameters, momentum and losses of two
    epochs in one run, bit for bit (the shuffle of epoch e depends on (seed, e) only)."""
    data = symcnn.load_data("digits", net.spec)
    first = symcnn.train(model, data, epochs=1, out=tmp_path, progress=False).history.start_loss
    run = symcnn.runs.load_run(tmp_path)
    assert run.path == tmp_path / "params.npz" and run.history.status == "completed"
    assert set(run.velocity) == set(run.params) and any(np.abs(v).max() > 0 for v in run.velocity.values())
    again = symcnn.train(model, data, epochs=1, params=run.params, history=run.history, velocity=run.velocity,
                         progress=False)
    assert again.history.epoch_steps == [43, 86] and len(again.history.step_loss) == 86
    assert again.history.start_loss < first / 2  # started from the trained parameters
    straight = symcnn.train(model, data, epochs=2, progress=False)
    assert straight.history.step_loss == again.history.step_loss
    assert all(np.array_equal(straight.params[name], again.params[name]) for name in straight.params)
    restarted = symcnn.train(model, data, epochs=1, params=run.params, progress=False)  # momentum from zero
    assert not np.array_equal(restarted.params["W1"], straight.params["W1"])


@pytest.mark.parametrize("params, message", [
    (lambda p: {k: v for k, v in p.items() if k != "b3"},
     "saved.npz: no b3; this network's parameters are W1, b1, W3, b3"),
    (lambda p: {**p, "W9": p["W1"]}, "saved.npz: unknown W9"),
    (lambda p: {**p, "W1": p["W1"][:, :, :2]}, "saved.npz: W1 is float64 (8, 1, 2, 3), expected float (8, 1, 3, 3)"),
    (lambda p: {**p, "b1": np.full(8, np.nan)}, "saved.npz: b1 holds nan"),
])
def test_saved_parameters_that_do_not_fit(tmp_path, net, model, params, message):
    np.savez(tmp_path / "saved.npz", **params(model.init_params(0)))
    loaded, _, velocity, path = symcnn.runs.load_run(tmp_path / "saved.npz")
    assert velocity is None  # none beside a hand-saved file
    with pytest.raises(symcnn.ShapeError) as error:
        symcnn.runs.check_params(loaded, net.spec.parameter_shapes(), str(path.name))
    assert str(error.value).startswith(message)


@pytest.mark.parametrize("write, message", [
    (lambda path: np.save(path, np.zeros(3)), "a single .npy array, not an .npz archive of saved parameters"),
    (lambda path: path.write_text("W1 = 1, 2, 3"), "not an .npz archive of saved parameters (not a zip file)"),
    (lambda path: path.write_bytes(b""), "not an .npz archive of saved parameters (an empty file)"),
    (lambda path: path.write_bytes(b"PK\x03\x04 cut short"), "a broken .npz archive of saved parameters"),
    (lambda path: np.savez(path, W1=np.array([{"a": 1}], dtype=object)), "array 'W1' holds Python objects"),
])
def test_load_params_of_a_file_that_is_not_an_npz_archive(tmp_path, write, message):
    path = tmp_path / "x.npy"
    write(path)
    if not path.exists():  # numpy.savez appended .npz
        path = tmp_path / "x.npy.npz"
    with pytest.raises(symcnn.SymcnnError) as error:
        symcnn.load_params(path)
    assert str(error.value).startswith(f"{path}: {message}") and "\n" not in str(error.value)


def test_predict_refuses_nan_input(net, model):
    params = model.init_params(0)
    X = np.zeros((3, 8, 8))
    X[1, 2, 3] = np.nan
    with pytest.raises(symcnn.ShapeError, match=r"^X: sample 1 holds nan; the network needs finite numbers$"):
        model.predict(params, X)
    W3 = params["W3"].copy()
    W3[5, 2] = np.inf
    with pytest.raises(symcnn.ShapeError, match=r"^params\['W3'\]: entry \[5, 2\] holds inf"):
        model.forward({**params, "W3": W3}, X[:1])


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
