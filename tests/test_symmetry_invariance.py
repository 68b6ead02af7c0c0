"""Invariance tests: block engine against numpy, exact translation breaking, calibration and controls."""

import jax
import numpy as np
import pytest

from nnqft import blocks, correlators, ensemble, exact, networks
from nnqft.blocks import Sampling
from nnqft.networks import NetworkSpec
from nnqft.symmetry import components, groups, invariance

X1 = np.array([[-0.5], [0.0], [0.5]])


def sampled(spec, width, sampling, name):
    """The networks of each block, regenerated with the engine's keys (one batch per block)."""
    size = blocks.block_size(sampling.n_networks, sampling.n_blocks)
    out = []
    for b in range(sampling.n_blocks):
        key = jax.random.fold_in(sampling.block_keys(name, width, [b])[0], 0)
        out.append([np.asarray(p, dtype=np.float64) for p in networks.sample_params(spec, width, size, key=key)])
    return out


@pytest.mark.slow
def test_mixed_blocks_and_rotated_differences_match_numpy():
    spec = NetworkSpec("gauss", 1, 2)
    sampling = Sampling(seed=3, n_networks=24, n_blocks=2)  # one batch per block
    g = invariance.mixed_blocks(spec, X1, 4, sampling, "test/mixed")
    rot = groups.haar_rotations(2, 2, key=jax.random.key(0))
    for b, (w0, b0, w1, b1) in enumerate(sampled(spec, 4, sampling, "test/mixed")):
        z = np.einsum("bnd,pd->bnp", w0, X1) + b0[..., None]
        h = np.exp(z - (1.0 + X1[:, 0] ** 2))  # Gauss-net: exp(z - q(x, x)), sw = sb = 1, d_in = 1
        f = np.einsum("bon,bnp->bop", w1, h) + b1[..., None]
        for n in (2, 4):
            t = components.super_multisets(2, 3, n)
            ref = np.array([np.prod([f[:, s // 3, s % 3] for s in row], axis=0).mean() for row in t])
            np.testing.assert_allclose(g[n][b], ref, rtol=2e-5)
            diff = invariance.output_rotation_differences(g[n], rot, 2, 3, n)[b]
            for k, r in enumerate(rot):
                fr = np.einsum("ij,bjp->bip", r, f)
                ref_r = np.array([np.prod([fr[:, s // 3, s % 3] for s in row], axis=0).mean() for row in t])
                np.testing.assert_allclose(diff[k], ref_r - ref, atol=2e-5 * np.abs(ref).max())


@pytest.mark.slow
def test_transform_blocks_match_numpy_and_vanish_for_the_identity():
    spec = NetworkSpec("erf", 2)
    x = np.array([[0.6, 0.0], [0.0, 0.5], [-0.3, -0.4]])
    images = np.stack([x, x @ groups.haar_rotations(2, 1, key=jax.random.key(1))[0].T])
    sampling = Sampling(seed=2, n_networks=20, n_blocks=2)
    d = invariance.transform_blocks(spec, x, images, 3, sampling, "test/transform", w0_scale=[1.5, 1.0])
    assert d[2].shape == (2, 2, 6) and d[4].shape == (2, 2, 15)
    np.testing.assert_array_equal(d[4][:, 0], 0.0)
    from scipy.special import erf
    for b, (w0, b0, w1, b1) in enumerate(sampled(spec, 3, sampling, "test/transform")):
        w0 = w0 * np.array([1.5, 1.0])
        f = [(np.einsum("bn,bnp->bp", w1[:, 0], erf(np.einsum("bnd,pd->bnp", w0, pts) + b0[..., None])) + b1) for pts in images]
        t = correlators.multisets(3, 4)
        ref = (f[1][:, t].prod(-1) - np.einsum("bp->bp", np.asarray(f[0][:, t].prod(-1)))).mean(axis=0)
        base = f[0][:, t].prod(-1).mean(axis=0)
        np.testing.assert_allclose(d[4][b, 1], ref, atol=1e-5 * np.abs(base).max())


def test_exact_translation_breaking_has_the_closed_form():
    """Gauss-net: G2 is translation invariant at every width; the single-neuron 4th moment that
    makes the connected 4-pt carries exp(sw^2 (2 a . sum_s x_s + 4 |a|^2) / d_in) (docs/physics.md sec. 3)."""
    spec = NetworkSpec("gauss", 2, sw=1.3, sb=0.7)
    x = np.array([[0.0, 0.0], [0.3, -0.2], [-0.4, 0.1]])
    a = np.array([0.2, -0.1])
    d = invariance.exact_transform_differences(spec, x, (x + a)[None], 10)
    np.testing.assert_allclose(d[2], 0.0, atol=1e-12)
    t = correlators.multisets(3, 4)
    m0 = exact.neuron_moments(spec, x, (2, 4))
    m1 = exact.neuron_moments(spec, x + a, (2, 4))
    factor = np.exp(spec.sw**2 * (2 * (x[t].sum(axis=1) @ a) + 4 * a @ a) / 2)
    np.testing.assert_allclose(m1[4], m0[4] * factor, rtol=1e-10)
    np.testing.assert_allclose(m1[2], m0[2], rtol=1e-12)
    assert np.abs(d[4][0]).max() > 1.0  # the finite-width 4-pt is not translation invariant


WHITEN = invariance.Whitening(n_random=1)


@pytest.mark.slow
def test_output_rotation_invariant_passes_and_mean_control_is_detected():
    spec = NetworkSpec("gauss", 1, 3)
    sampling = Sampling(seed=5, n_networks=30000, n_blocks=60)
    rows, z = invariance.output_rotation(spec, X1, 20, sampling, WHITEN, n_transforms=4, case="invariant")
    joint = rows[-1]
    assert joint["n_pt"] == "2+4" and not joint["detected"] and joint["ks_p"] > 1e-3
    assert abs(joint["z_mean"]) < 4 / np.sqrt(joint["n_z"]) and 0.6 < joint["z_std"] < 1.5
    rows, _ = invariance.output_rotation(spec, X1, 20, sampling, WHITEN, n_transforms=4, case="mean_w1", mu=0.1, k=1)
    assert rows[-1]["detected"] and rows[-1]["sigma"] > 5
    assert invariance.verdict(rows[-1], WHITEN) is True
    assert [r["expected"] for r in rows] == ["per-order power", "per-order power", "detected"]
    assert np.isnan(invariance.verdict(rows[0], WHITEN))


@pytest.mark.slow
def test_input_rotation_invariant_passes_and_anisotropy_is_detected():
    spec = NetworkSpec("erf", 2)
    x = np.array([[0.6, 0.0], [0.0, 0.5], [-0.3, -0.4]])
    sampling = Sampling(seed=6, n_networks=20000, n_blocks=40)
    rows, _ = invariance.input_rotation(spec, x, 10, sampling, WHITEN, n_transforms=4, case="invariant")
    assert not rows[-1]["detected"] and rows[-1]["ks_p"] > 1e-3
    rows, _ = invariance.input_rotation(spec, x, 10, sampling, WHITEN, n_transforms=4, case="anisotropic_w0", mu=0.3)
    assert rows[-1]["detected"]


def test_control_arguments_are_checked():
    sampling = Sampling(seed=0, n_networks=20, n_blocks=2)
    with pytest.raises(ValueError, match="1 <= k <= d_out"):
        invariance.output_rotation(NetworkSpec("gauss", 1, 3), X1, 5, sampling, WHITEN, n_transforms=2,
                                   case="mean_w1", mu=0.1, k=4)
    with pytest.raises(ValueError, match="one-output"):
        invariance.transform_blocks(NetworkSpec("gauss", 1, 2), X1, X1[None], 5, sampling, "x")
    with pytest.raises(ValueError, match="multiple"):
        Sampling(seed=0, n_networks=21, n_blocks=2)
