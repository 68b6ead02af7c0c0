"""Training experiment: IDX loader, digits, encodings, Adam + StepLR against numpy, the vmapped grid."""

import gzip

import jax
import jax.numpy as jnp
import numpy as np
import pandas as pd
import pytest

from nnqft.symmetry import imagedata, training


def test_idx_roundtrip_and_fashion_mnist_loader(tmp_path):
    rng = np.random.default_rng(0)
    images = rng.integers(0, 256, size=(5, 4, 3), dtype=np.uint8)
    labels = np.array([3, 0, 9, 1, 2], dtype=np.uint8)
    imagedata.write_idx(tmp_path / "train-images-idx3-ubyte.gz", images)
    imagedata.write_idx(tmp_path / "train-labels-idx1-ubyte", labels)
    imagedata.write_idx(tmp_path / "t10k-images-idx3-ubyte", images[:2])
    imagedata.write_idx(tmp_path / "t10k-labels-idx1-ubyte.gz", labels[:2])
    # the header by hand: magic 0x00000803, then big-endian sizes
    with gzip.open(tmp_path / "train-images-idx3-ubyte.gz", "rb") as fh:
        head = fh.read(16)
    assert head == bytes([0, 0, 8, 3, 0, 0, 0, 5, 0, 0, 0, 4, 0, 0, 0, 3])
    np.testing.assert_array_equal(imagedata.read_idx(tmp_path / "train-images-idx3-ubyte.gz"), images)
    data = imagedata.fashion_mnist(tmp_path)
    assert data.x_train.shape == (5, 12) and data.x_test.shape == (2, 12) and data.d_in == 12
    np.testing.assert_allclose(data.x_train, images.reshape(5, 12) / 255.0, rtol=1e-6)
    np.testing.assert_array_equal(data.y_test, [3, 0])
    wide = np.arange(6, dtype=">i4").reshape(2, 3)
    imagedata.write_idx(tmp_path / "ints", wide)
    np.testing.assert_array_equal(imagedata.read_idx(tmp_path / "ints"), wide)


def test_idx_errors_name_the_problem(tmp_path):
    (tmp_path / "bad").write_bytes(b"\x01\x02\x08\x01\x00\x00\x00\x01\x00")
    with pytest.raises(ValueError, match="not an IDX file"):
        imagedata.read_idx(tmp_path / "bad")
    (tmp_path / "short").write_bytes(bytes([0, 0, 8, 1, 0, 0, 0, 5, 1, 2]))
    with pytest.raises(ValueError, match="header promises"):
        imagedata.read_idx(tmp_path / "short")
    with pytest.raises(FileNotFoundError, match="train-images"):
        imagedata.fashion_mnist(tmp_path)


@pytest.mark.slow
def test_digits_split_is_keyed_and_disjoint():
    a = imagedata.digits(0.25, key=jax.random.key(0))
    b = imagedata.digits(0.25, key=jax.random.key(0))
    assert a.x_train.shape == (1348, 64) and a.x_test.shape == (449, 64) and a.n_classes == 10
    assert 0.0 <= a.x_train.min() and a.x_train.max() <= 1.0
    np.testing.assert_array_equal(a.x_test, b.x_test)
    rows = {r.tobytes() for r in a.x_train} & {r.tobytes() for r in a.x_test}
    assert len(rows) < 5  # only exact duplicate images of the data set itself


@pytest.mark.slow
def test_encodings_predictions_and_broken_rows():
    hot = np.asarray(training.encode(jnp.array([2, 0]), 4, False))
    cold = np.asarray(training.encode(jnp.array([2, 0]), 4, True))
    np.testing.assert_array_equal(hot, [[0, 0, 1, 0], [1, 0, 0, 0]])
    np.testing.assert_array_equal(cold, 1 - hot)
    out = jnp.array([[0.1, 0.9, 0.5], [0.7, 0.2, 0.3]])
    np.testing.assert_array_equal(training.predict(out, False), [1, 0])
    np.testing.assert_array_equal(training.predict(out, True), [0, 1])
    key = jax.random.key(1)
    w0a, w1a = training.init_params(key, 8, 5, 10, 1.0, 0, 0.3)
    w0b, w1b = training.init_params(key, 8, 5, 10, 1.0, 4, 0.3)
    np.testing.assert_array_equal(w0a, w0b)
    np.testing.assert_allclose(w1b - w1a, np.where(np.arange(10)[:, None] < 4, 0.3, 0.0) * np.ones((10, 5)), atol=1e-6)


def test_step_lr_schedule():
    lr = training.schedule(training.Setup(learning_rate=1e-3, lr_decay=0.7), 10)
    np.testing.assert_allclose([lr(0), lr(9), lr(10), lr(25)], [1e-3, 1e-3, 7e-4, 4.9e-4], rtol=1e-6)


def numpy_adam_mse(w0, w1, x, y, lrs, b1=0.9, b2=0.999, eps=1e-8):
    """Reference: full-batch MSE gradients by hand through relu, Adam with bias correction."""
    params = [w0.astype(np.float64), w1.astype(np.float64)]
    m = [np.zeros_like(p) for p in params]
    v = [np.zeros_like(p) for p in params]
    for t, lr in enumerate(lrs, start=1):
        pre = x @ params[0].T
        h = np.maximum(pre, 0)
        out = h @ params[1].T
        g_out = 2 * (out - y) / y.size
        g1 = g_out.T @ h
        g0 = ((g_out @ params[1]) * (pre > 0)).T @ x
        for i, g in enumerate((g0, g1)):
            m[i] = b1 * m[i] + (1 - b1) * g
            v[i] = b2 * v[i] + (1 - b2) * g * g
            params[i] = params[i] - lr * (m[i] / (1 - b1**t)) / (np.sqrt(v[i] / (1 - b2**t)) + eps)
    return params


@pytest.mark.slow
def test_fit_matches_numpy_adam_with_step_lr():
    rng = np.random.default_rng(2)
    x = rng.uniform(size=(8, 5)).astype(np.float32)
    labels = np.array([0, 1, 2, 0, 1, 2, 0, 1], dtype=np.int32)
    setup = training.Setup(hidden=6, epochs=3, batch_size=8, learning_rate=0.05, lr_decay=0.5)
    w0, w1 = training.init_params(jax.random.key(3), 5, 6, 3, 1.0, 1, 0.2)
    params = jax.tree_util.tree_map(lambda p: p[None], (w0, w1))
    idx = np.arange(8, dtype=np.int32)[None, None].repeat(3, axis=1)  # one full batch per epoch
    mask = np.ones((1, 8), dtype=np.float32)
    out = training.fit(params, x, labels, 3, setup, idx, mask, np.array([0]), np.array([True]))
    y = 1.0 - np.eye(3)[labels]
    ref = numpy_adam_mse(np.asarray(w0), np.asarray(w1), x.astype(np.float64), y, [0.05, 0.025, 0.0125])
    np.testing.assert_allclose(np.asarray(out[0][0]), ref[0], rtol=2e-4, atol=2e-6)
    np.testing.assert_allclose(np.asarray(out[1][0]), ref[1], rtol=2e-4, atol=2e-6)


def test_batch_plan_covers_every_sample_once_per_epoch():
    idx, mask = training.batch_plan(10, 4, 2, 2, key=jax.random.key(0))
    assert idx.shape == (2, 6, 4) and mask.shape == (3, 4) and mask.sum() == 10
    for s in range(2):
        for e in range(2):
            epoch = idx[s, 3 * e: 3 * e + 3].ravel()[mask.ravel() > 0]
            assert sorted(epoch) == list(range(10))
    assert not np.array_equal(idx[0], idx[1])


@pytest.mark.slow
def test_grid_trains_each_run_as_if_alone_and_summaries():
    data = imagedata.digits(0.25, key=jax.random.key(0))
    setup = training.Setup(hidden=16, epochs=2)
    grid = training.Grid(k=(0, 10), mu=(0.0, 0.2), n_seeds=2)
    runs = training.train(data, setup, grid, key=jax.random.key(4))
    assert len(runs) == 2 * 2 * 2 * 2 and runs["test_accuracy"].between(0, 1).all()
    alone = training.train(data, setup, training.Grid(k=(0, 10), mu=(0.2,), n_seeds=2, targets=("one_cold",)),
                           key=jax.random.key(4))
    merged = runs.merge(alone, on=["target", "k", "mu", "seed"], suffixes=("", "_alone"))
    np.testing.assert_allclose(merged["test_accuracy"], merged["test_accuracy_alone"], atol=1e-6)
    k0 = runs[runs["k"] == 0].pivot_table(index=["target", "seed"], columns="mu", values="test_accuracy")
    np.testing.assert_array_equal(k0[0.0], k0[0.2])  # k = 0: mu changes nothing
    summary = training.summarize(runs)
    assert len(summary) == 8 and (summary.loc[summary["k"] == 0, "delta_mean"] == 0).all()


def test_summaries_on_a_known_table():
    rows = []
    for seed, base in enumerate([0.50, 0.60, 0.70]):
        for target, shift in (("one_hot", -0.1), ("one_cold", 0.05)):
            rows.append((target, 0, 0.0, seed, base))
            rows.append((target, 2, 0.1, seed, base + shift + 0.001 * seed))
    runs = pd.DataFrame(rows, columns=["target", "k", "mu", "seed", "test_accuracy"]).assign(test_loss=0.0)
    s = training.summarize(runs).set_index(["target", "k"])
    assert s.loc[("one_hot", 2), "delta_mean"] == pytest.approx(-0.099)
    assert s.loc[("one_cold", 0), "acc_std"] == pytest.approx(0.1)
    e = training.effects(runs).set_index(["target", "region"])
    assert e.loc[("one_hot", "all broken (k > 0, mu > 0)"), "effect"] == "hurts"
    assert e.loc[("one_cold", "all broken (k > 0, mu > 0)"), "effect"] == "helps"
    assert e.loc[("one_cold", "k = 2, mu = 0.1"), "delta_mean"] == pytest.approx(0.051)
    assert e.loc[("one_cold", "k = 2, mu = 0.1"), "baseline_acc"] == pytest.approx(0.6)
