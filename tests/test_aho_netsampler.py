"""HMC on the cos-net's parameters (docs/physics.md sec. 12): the whitened map reproduces the
cos-net parameter law, the field and action agree with the cos-net module, reweighting's Kish ESS
against its definition, and the chains at lambda = 0 reproduce the cutoff propagator."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from scipy import stats

from nnqft.fieldtheory import aho_experiments, cosnet, hmc, netsampler, phi4


def _data(net, coupling=0.0, times=(0.0,)):
    quad = phi4.gauss_box(1, 2.0, 30)
    return quad, jax.tree_util.tree_map(jnp.asarray, netsampler.model_data(net, quad, coupling, times))


@pytest.mark.parametrize("parametrisation", cosnet.PARAMETRISATIONS)
def test_whitened_map_gives_the_parameter_law(parametrisation):
    net = cosnet.CosNet(1, 1.3, 6.0, 50, parametrisation, sa=0.7)
    _, data = _data(net)
    z = jax.random.normal(jax.random.key(3), (40, 150), dtype=jnp.float64)
    a, b, c, _ = (np.asarray(x).ravel() for x in jax.vmap(lambda zz: netsampler.parameters(zz, data))(z))
    assert stats.kstest(a / (0.7 / np.sqrt(50)), "norm").pvalue > 1e-3
    assert stats.kstest(c, stats.uniform(-np.pi, 2 * np.pi).cdf).pvalue > 1e-3
    if parametrisation == "uniform":
        cdf = stats.uniform(-6.0, 12.0).cdf
    else:  # density ~ 1/(b^2 + m^2) on [-Lambda, Lambda]
        m, lam = 1.3, 6.0
        cdf = lambda x: 0.5 + np.arctan(np.clip(x, -lam, lam) / m) / (2 * np.arctan(lam / m))  # noqa: E731
    assert stats.kstest(b, cdf).pvalue > 1e-3


@pytest.mark.slow
@pytest.mark.parametrize("parametrisation", cosnet.PARAMETRISATIONS)
def test_field_and_action_match_the_cosnet(parametrisation):
    net = cosnet.CosNet(1, 1.0, 5.0, 8, parametrisation)
    times = np.array([-1.0, 0.3, 1.7])
    quad, data = _data(net, times=times)
    z = jax.random.normal(jax.random.key(4), (24,), dtype=jnp.float64)
    a, b, c, _ = netsampler.parameters(z, data)
    params = cosnet.CosNetParams(a[None], b[None, :, None], c[None])
    phi, s = netsampler.measure(z, data)
    np.testing.assert_allclose(phi, cosnet.field(net, params, times[:, None])[0], rtol=1e-12, atol=1e-14)
    assert float(s) == pytest.approx(float(phi4.phi4_integral(net, params, quad)[0]), rel=1e-12)


@pytest.mark.slow
def test_reweighting_ess_against_its_definition():
    net = cosnet.CosNet(1, 1.0, 4.0, 10)
    quad = phi4.gauss_box(1, 2.0, 24)
    key = jax.random.key(5)
    ess = netsampler.reweighting_ess(net, quad, [0.0, 3.0], 500, key=key)
    s = np.asarray(phi4.phi4_integral(net, cosnet.sample(net, 500, key=key), quad))
    w = np.exp(-3.0 * s / 24)
    assert ess[0] == pytest.approx(1.0) and ess[1] == pytest.approx(w.mean() ** 2 / (w**2).mean(), rel=1e-12)
    assert ess[1] < 0.999


@pytest.mark.slow
def test_chains_at_zero_coupling_give_the_cutoff_propagator():
    net = cosnet.CosNet(1, 1.0, 4.0, 10, "alpha0")
    obs = aho_experiments.Observables((0.0, 1.0), ((0.0, 0.0, 0.0, 0.0), (0.5, 0.5, -0.5, -0.5)), (0.0, 1.0))
    _, data = _data(net, times=obs.times)
    settings = hmc.ChainSettings(n_chains=4, n_warmup=20, n_samples=1000, n_steps=8, step_size=0.2)
    chains = hmc.run(netsampler.logdensity, netsampler.measure, data, 3 * net.width, settings, key=jax.random.key(6))
    shifts = np.stack([np.zeros(2), aho_experiments.free_cutoff_error(obs.separations, 1.0, 4.0)])
    values, stderr, diag = aho_experiments.chain_estimates(chains, obs, settings.blocks_per_chain, shifts)
    g2 = cosnet.propagator(np.array([0.0, 1.0]), 1, 1.0, 4.0)
    c4 = cosnet.connected_4pt(np.array([[0.0, 0.0, 0.0, 0.0], [0.5, 0.5, -0.5, -0.5]])[..., None], net)
    z = (values[0] - obs.combine(g2, c4)) / stderr[0]
    assert np.max(np.abs(z)) < 4
    # less the free cutoff error, G2 is the continuum e^{-m s}/(2m), and gap_eff(0, 1) is m
    continuum = np.concatenate([[0.5, np.exp(-1.0) / 2], c4, [1.0]])
    assert np.max(np.abs((values[1] - continuum) / stderr[1])) < 4
    np.testing.assert_allclose(values[0, :4] - values[1, :4], [*shifts[1], 0, 0], atol=1e-15)
    assert np.all(diag.rhat < 1.02)
