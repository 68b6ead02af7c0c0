"""Lattice phi^4 in d = 1 with free-vacuum edges (docs/physics.md sec. 12): the free lattice
propagator and its tridiagonal precision against direct linear algebra, and HMC through blackjax
against the exact free lattice propagator (lambda = 0) and the exact oscillator (small lambda)."""

import jax
import numpy as np
import pytest

from nnqft.fieldtheory import aho, aho_experiments, hmc, lattice

OBS = aho_experiments.Observables((0.0, 0.5, 1.0, 2.0), ((0.0, 0.0, 0.0, 0.0), (0.25, 0.25, -0.25, -0.25),
                                                        (0.5, 0.5, -0.5, -0.5)), (1.0, 2.0))
SETTINGS = hmc.ChainSettings(n_chains=4, n_warmup=50, n_samples=4000, n_steps=8, step_size=0.2)


def test_free_propagator_solves_the_lattice_equation():
    """(2 + a^2 m^2) G(n) - G(n+1) - G(n-1) = a delta_n0, solved on a long periodic-free chain."""
    m, a, n = 1.3, 0.2, 400
    k = np.diag(np.full(n, (2 + (a * m) ** 2) / a)) - (np.eye(n, k=1) + np.eye(n, k=-1)) / a
    column = np.linalg.solve(k, np.eye(n)[:, n // 2])
    np.testing.assert_allclose(column[n // 2 - 10:n // 2 + 11], lattice.free_propagator(np.arange(-10, 11) * a, m, a),
                               rtol=1e-12)
    # a -> 0: the continuum propagator e^{-m|t|}/(2m)
    assert lattice.free_propagator(0.7, m, 1e-3) == pytest.approx(aho.free_propagator(0.7, m), rel=1e-6)


def test_precision_is_the_inverse_covariance():
    lat = lattice.Lattice(mass=0.8, spacing=0.25, box=3.0)
    assert lat.n_sites == 13 and lat.sites[0] == -1.5 and lat.sites[-1] == 1.5
    np.testing.assert_allclose(lattice.free_precision(lat) @ lattice.free_covariance(lat), np.eye(13), atol=1e-12)
    assert lattice.interaction_weights(lat).sum() == pytest.approx(3.0)
    np.testing.assert_array_equal(lattice.site_index(lat, [-1.5, 0.0, 1.5]), [0, 6, 12])
    with pytest.raises(ValueError, match="not all sites"):
        lattice.site_index(lat, [0.1])
    with pytest.raises(ValueError, match="multiple of the spacing"):
        lattice.Lattice(1.0, 0.3, 1.0).n_sites


def _estimate(coupling, key):
    lat = lattice.Lattice(1.0, 0.25, 4.0)
    chains = hmc.run(lattice.logdensity, lattice.measure, lattice.model_data(lat, coupling, OBS.times), lat.n_sites,
                     SETTINGS, key=key)
    (values,), (stderr,), diag = aho_experiments.chain_estimates(chains, OBS, SETTINGS.blocks_per_chain)
    return chains, values, stderr, diag


@pytest.mark.slow
def test_hmc_free_lattice_and_small_coupling():
    """lambda = 0: the exact free lattice propagator (and G4_c = 0); lambda = 1: the exact
    continuum oscillator, whose O(a^2) distance is far below the errors at a = 0.25."""
    chains, values, stderr, diag = _estimate(0.0, jax.random.key(7))
    g2 = lattice.free_propagator(np.asarray(OBS.separations), 1.0, 0.25)
    exact = OBS.combine(g2, np.zeros(len(OBS.four_point)))
    assert exact[-1] == pytest.approx(lattice.lattice_frequency(1.0, 0.25))  # gap_eff of the free lattice
    z = (values - exact) / stderr
    assert np.max(np.abs(z)) < 4 and np.mean(z**2) < 3
    assert np.all(chains.acceptance > 0.7)  # the warmup adapts the step towards 0.8
    assert np.all(diag.rhat < 1.02) and np.all(diag.tau < 3)  # whitened free law: nearly independent

    _, values, stderr, _ = _estimate(1.0, jax.random.key(8))
    exact = aho_experiments.exact_values(aho.spectrum(64, 1.0, 1.0), 4.0, OBS)
    z = (values - exact) / stderr
    assert np.max(np.abs(z)) < 4
    # the coupling is visible: <phi^2> moved by many errors from the free lattice value
    assert (lattice.free_propagator(0.0, 1.0, 0.25) - values[0]) / stderr[0] > 3
