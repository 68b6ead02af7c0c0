import numpy as np
import pytest

from nnqft import estimators


def test_mean_and_stderr_is_batch_means():
    rng = np.random.default_rng(0)
    bm = rng.normal(size=(50, 3))
    mean, se = estimators.mean_and_stderr(bm)
    np.testing.assert_allclose(mean, bm.mean(0))
    np.testing.assert_allclose(se, bm.std(0, ddof=1) / np.sqrt(50))


def test_chunk_background_groups_consecutive_blocks():
    bm = np.arange(20.0)[:, None]
    bg = estimators.chunk_background(bm, 10)
    chunk_means = np.arange(20.0).reshape(10, 2).mean(1)
    np.testing.assert_allclose(bg, [chunk_means.std(ddof=1)])
    with pytest.raises(ValueError, match="equal chunks"):
        estimators.chunk_background(np.zeros((15, 1)), 10)


def test_jackknife_of_a_mean_equals_batch_means_error():
    rng = np.random.default_rng(1)
    bm = rng.normal(size=(40, 4))
    est, se = estimators.jackknife(lambda m: m, bm)
    np.testing.assert_allclose(est, bm.mean(0))
    np.testing.assert_allclose(se, estimators.mean_and_stderr(bm)[1], rtol=1e-12)


def test_jackknife_of_a_square_matches_delta_method():
    rng = np.random.default_rng(2)
    bm = 3.0 + rng.normal(size=(400,))
    est, se = estimators.jackknife(lambda m: m**2, bm)
    delta = 2 * bm.mean() * bm.std(ddof=1) / np.sqrt(400)
    assert est == pytest.approx(bm.mean() ** 2)
    assert se == pytest.approx(delta, rel=0.02)
