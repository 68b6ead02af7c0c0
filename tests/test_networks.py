import jax
import numpy as np
import pytest

from nnqft import inputs, kernels, networks


def mc_hidden_covariance(spec, x, n=400_000, seed=0):
    """Numpy reference: E[h(x_a) h(x_b)] over one neuron, with its standard error."""
    rng = np.random.default_rng(seed)
    w0 = rng.normal(0, spec.sw / np.sqrt(spec.d_in), size=(n, spec.d_in))
    b0 = rng.normal(0, spec.sb, size=(n, 1))
    z = w0 @ x.T + b0
    q = networks.preactivation_variance(spec, x)
    h = np.asarray(networks.activation(spec.activation).h(z, q))
    prod = h[:, :, None] * h[:, None, :]
    return prod.mean(0), prod.std(0) / np.sqrt(n)


@pytest.mark.slow
@pytest.mark.parametrize("name", sorted(networks.ACTIVATIONS))
@pytest.mark.parametrize("d_in", [1, 2, 3])
def test_closed_form_kernels_match_monte_carlo(name, d_in):
    spec = networks.NetworkSpec(name, d_in, sw=1.2, sb=0.0 if name == "relu" else 0.8)
    x = inputs.paper_inputs(name, d_in)
    mean, se = mc_hidden_covariance(spec, x)
    z = (mean - kernels.hidden_covariance(spec, x)) / se
    assert np.abs(z).max() < 5


@pytest.mark.parametrize("name", sorted(n for n, a in networks.ACTIVATIONS.items() if a.kernel))
def test_quadrature_fallback_matches_closed_forms(name):
    spec = networks.NetworkSpec(name, 2, sw=1.0, sb=1.0)
    x = inputs.paper_inputs(name, 2)
    q = kernels.preactivation_covariance(spec, x)
    d = np.diag(q)
    got = kernels._quadrature_pair(name, q, d[:, None], d[None, :], order=120)
    # Gauss-Hermite converges spectrally for smooth h, only algebraically across ReLU's kink.
    rtol = 1e-3 if name == "relu" else 1e-10
    np.testing.assert_allclose(got, kernels.hidden_covariance(spec, x), rtol=rtol, atol=1e-14)


def test_gauss_net_kernel_is_translation_invariant_for_any_d_in_sw_sb():
    spec = networks.NetworkSpec("gauss", 3, sw=1.7, sb=0.6)
    rng = np.random.default_rng(0)
    x, y, shift = rng.normal(size=(4, 3)), rng.normal(size=(5, 3)), rng.normal(size=3)
    k = kernels.gp_kernel(spec, x, y)
    np.testing.assert_allclose(kernels.gp_kernel(spec, x + shift, y + shift), k, rtol=1e-12)
    dist2 = ((x[:, None] - y[None]) ** 2).sum(-1)
    np.testing.assert_allclose(k, 0.6**2 + 1.7**2 * np.exp(-(1.7**2) * dist2 / (2 * 3)), rtol=1e-12)


def test_relu_kernel_on_a_ray_is_half_the_product():
    spec = networks.NetworkSpec("relu", 1, sb=0.0)
    x = inputs.paper_inputs("relu", 1)
    np.testing.assert_allclose(kernels.gp_kernel(spec, x), 0.5 * x @ x.T, rtol=1e-14)


@pytest.mark.slow
def test_sampled_parameters_have_the_configured_law():
    spec = networks.NetworkSpec("erf", 2, d_out=3, sw=1.5, sb=0.5, mean_w1=(0.0, 0.2, 0.0))
    w0, b0, w1, b1 = networks.sample_params(spec, 40, 5000, key=jax.random.key(0))
    assert w0.shape == (5000, 40, 2) and b0.shape == (5000, 40)
    assert w1.shape == (5000, 3, 40) and b1.shape == (5000, 3)
    np.testing.assert_allclose(np.var(np.asarray(w0)), 1.5**2 / 2, rtol=0.02)
    np.testing.assert_allclose(np.var(np.asarray(b1)), 0.25, rtol=0.05)
    np.testing.assert_allclose(np.asarray(w1).mean(axis=(0, 2)), [0, 0.2, 0], atol=0.005)
    np.testing.assert_allclose(np.asarray(w1)[:, 0].var(), 1.5**2 / 40, rtol=0.02)


def test_bad_specs_name_the_problem():
    with pytest.raises(ValueError, match="unknown activation 'softplus'.*registered"):
        networks.NetworkSpec("softplus", 1)
    with pytest.raises(ValueError, match="mean_w1 has 2 entries"):
        networks.NetworkSpec("erf", 1, d_out=3, mean_w1=(0.0, 1.0))
    with pytest.raises(ValueError, match="P1 has no input set for d_in = 4"):
        inputs.paper_inputs("erf", 4)
