"""Deep networks in the engine (nnqft.networks.sample_forward, nnqft.ensemble) against a numpy
forward pass of the same normals and the exact deep results (nnqft.deep_exact)."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from nnqft import blocks, deep_exact, ensemble, estimators, networks

X = np.array([[0.3, -0.2], [1.0, 0.4], [-0.7, 0.8]])


@pytest.mark.slow  # JAX compilation: ~2 s quiet, more under load
def test_depth_one_forward_is_the_single_layer_pass_bit_for_bit():
    spec = networks.NetworkSpec("erf", 2, d_out=2, shared_scale_eps=0.5, mean_w0=0.1, mean_w1=(0.2, -0.1))
    key = jax.random.key(4)

    def single_layer(key):  # the engine's forward pass before deep networks existed
        w0, b0, w1, b1 = networks.sample_params(spec, 7, 11, key=key)
        h = networks.hidden(spec, w0, b0, X)
        return h, networks.outputs(w1, b1, h)

    # jitted as in the engine (eager mode would compile every primitive: seconds)
    h, f = jax.jit(lambda k: networks.sample_forward(spec, 7, X, 11, key=k))(key)
    h1, f1 = jax.jit(single_layer)(key)
    assert np.array_equal(h, h1) and np.array_equal(f, f1)


@pytest.mark.slow  # JAX compilation
def test_deep_forward_matches_numpy_on_the_same_normals():
    spec = networks.NetworkSpec("tanh", 2, d_out=2, sw=1.3, sb=0.4, depth=3, width_multipliers=(2, 3))
    width, n, key = 4, 5, jax.random.key(9)
    assert networks.hidden_widths(spec, width) == (8, 12, 4)
    sizes = [2, 8, 12, 4, 2]
    assert networks.n_normals(spec, width) == sum(a * b + b for a, b in zip(sizes[:-1], sizes[1:]))
    z = np.asarray(jax.random.normal(key, (n * networks.n_normals(spec, width),), jnp.float32), np.float64).reshape(n, -1)
    h, f = jax.jit(lambda k: networks.sample_forward(spec, width, X, n, key=k))(key)
    act, start = X.T[None], 0  # (1, d_in, P)
    for fan_in, fan_out in zip(sizes[:-1], sizes[1:]):
        w = z[:, start : start + fan_in * fan_out].reshape(n, fan_out, fan_in) * 1.3 / np.sqrt(fan_in)
        b = z[:, start + fan_in * fan_out : start + fan_in * fan_out + fan_out] * 0.4
        start += fan_in * fan_out + fan_out
        pre = w @ act + b[..., None]
        last, act = act, np.tanh(pre)
    np.testing.assert_allclose(f, pre, rtol=2e-5, atol=2e-6)
    np.testing.assert_allclose(h, last, rtol=2e-5, atol=2e-6)


def test_bad_deep_specs_are_named():
    with pytest.raises(ValueError, match="depth"):
        networks.NetworkSpec("erf", 1, depth=0)
    with pytest.raises(ValueError, match="width_multipliers"):
        networks.NetworkSpec("erf", 1, depth=3, width_multipliers=(2,))
    with pytest.raises(ValueError, match="gauss"):
        networks.NetworkSpec("gauss", 1, depth=2)
    with pytest.raises(ValueError, match="sample_forward"):
        networks.sample_params(networks.NetworkSpec("erf", 1, depth=2), 3, 2, key=jax.random.key(0))


def _z(block_means, exact):
    mean, err = estimators.mean_and_stderr(block_means)
    return (mean - exact) / err


@pytest.mark.slow
@pytest.mark.parametrize("name, x, sb", [("linear", X, 0.6), ("relu", np.array([[0.2, 0.1], [0.6, 0.3]]), 0.0)])
def test_deep_ensembles_agree_with_exact_values(name, x, sb):
    spec = networks.NetworkSpec(name, 2, sw=np.sqrt(2.0) if name == "relu" else 1.1, sb=sb, depth=3)
    sampling = blocks.Sampling(seed=2, n_networks=100_000, n_blocks=20, dtype="float64")
    out = ensemble.run_shard(spec, x, [3], sampling, ensemble="deep-test", blocks=range(20), orders=(2, 4, 6))
    u = [1 / 3] * 3
    ex = (deep_exact.linear_correlators(x, 1.21, sb**2, u) if name == "linear"
          else deep_exact.relu_ray_correlators(x, 2.0, u))
    for n in (2, 4, 6):
        for estimator in out[n]:  # plain and Rao-Blackwell
            z = _z(estimator[0, :, 0], ex[n])
            assert np.all(np.abs(z) < 4.5), (n, z)
