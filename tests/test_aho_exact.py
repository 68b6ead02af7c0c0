"""The exact anharmonic oscillator (docs/physics.md sec. 12): the free limit, first- and second-order
perturbation theory, an independent matrix-exponential reference for the box, the box -> line limit,
and the truncation study behind the 1e-12 convergence."""

import numpy as np
import pytest
from scipy import integrate, linalg

from nnqft.fieldtheory import aho

SEPARATIONS = [0.0, 0.5, 1.0, 2.0, 3.0]
FOUR_POINT = [[0.0, 0.0, 0.0, 0.0], [0.5, 0.5, -0.5, -0.5], [1.0, 0.2, -0.3, -1.0]]


@pytest.mark.parametrize("mass", [1.0, 0.7])
def test_free_limit_is_the_oscillator(mass):
    spec = aho.spectrum(40, mass, 0.0)
    np.testing.assert_allclose(spec.energies[:10], mass * (np.arange(10) + 0.5), rtol=1e-14)
    assert aho.basis_frequency(mass, 0.0) == pytest.approx(mass, rel=1e-14)
    for t1, t2 in [(0.3, 0.3), (1.0, -0.5), (1.4, -1.4)]:
        free = np.exp(-mass * abs(t1 - t2)) / (2 * mass)
        assert aho.box_moment(spec, [t1, t2], 3.0) == pytest.approx(free, rel=1e-13)
        assert aho.line_propagator(spec, t1 - t2) == pytest.approx(free, rel=1e-13)
    for times in FOUR_POINT:
        assert abs(aho.connected_4pt(lambda t: aho.box_moment(spec, t, 3.0), times)) < 1e-14


def test_box_moment_against_matrix_exponentials():
    """An independent reference: expm of H in the plain oscillator basis of frequency m (no
    eigen-decomposition, no basis change), with the free vacuum as the basis vector e_0."""
    mass, lam, box, k = 1.0, 5.0, 3.0, 120
    x = aho.position_matrix(k + 4, mass)
    h = np.diag(mass * (np.arange(k) + 0.5)) + lam / 24 * np.linalg.matrix_power(x, 4)[:k, :k]
    x = x[:k, :k]
    e0 = np.zeros(k)
    e0[0] = 1.0
    evolve = lambda tau: linalg.expm(-h * tau)  # noqa: E731
    times = [1.2, 0.4, -0.1, -0.9]  # already time-ordered
    edges = [box / 2] + times + [-box / 2]
    state = evolve(edges[-2] - edges[-1]) @ e0
    for i in range(len(times) - 1, -1, -1):
        state = evolve(edges[i] - edges[i + 1]) @ (x @ state)
    reference = e0 @ state / (e0 @ evolve(box) @ e0)
    spec, _, _ = aho.converged_spectrum(mass, lam, box, [0.0], [times])
    assert aho.box_moment(spec, times[::-1], box) == pytest.approx(reference, rel=1e-10)


def test_second_order_ground_energy():
    """E_0 = m/2 + 3g/4 - 21 g^2/8 + 333 g^3/16 - ... (m = 1, g = lambda/24): the first-order term
    is lambda/32, and the remainder after second order is O(g^3)."""
    for lam in (0.1, 0.05):
        g = lam / 24
        e0 = aho.spectrum(64, 1.0, lam).ground_energy
        assert abs(e0 - aho.first_order_ground_energy(lam, 1.0)) == pytest.approx(21 * g**2 / 8, rel=0.05)
        assert abs(e0 - (0.5 + 3 * g / 4 - 21 * g**2 / 8)) < 25 * g**3


@pytest.mark.parametrize("mass", [1.0, 1.5])
def test_first_order_shifts_in_the_box(mass):
    """(exact - free)/lambda -> the first-order formulas of sec. 7 with G = e^{-m|t|}/(2m), O(lambda)."""
    box, lam = 4.0, 1e-3
    spec = aho.spectrum(64, mass, lam)
    for t1, t2 in [(0.0, 0.0), (1.0, -0.5), (1.9, -1.9)]:
        shift = aho.box_moment(spec, [t1, t2], box) - aho.free_propagator(t1 - t2, mass)
        first = aho.first_order_2pt_shift(t1, t2, lam, mass, box)
        assert shift == pytest.approx(first, rel=5 * lam)
    for times in FOUR_POINT:
        c4 = aho.connected_4pt(lambda t: aho.box_moment(spec, t, box), times)
        assert c4 == pytest.approx(aho.first_order_4pt(times, lam, mass, box), rel=5 * lam)


def test_first_order_integrals_against_scipy():
    mass, box, times = 1.3, 4.0, np.array([1.0, 0.2, -0.3, -1.0])
    g = lambda t: np.exp(-mass * abs(t)) / (2 * mass)  # noqa: E731
    ref4 = integrate.quad(lambda y: np.prod([g(t - y) for t in times]), -2, 2, points=times, epsabs=1e-14)[0]
    assert aho.first_order_4pt(times, 2.0, mass, box) == pytest.approx(-2.0 * ref4, rel=1e-12)
    ref2 = integrate.quad(lambda y: g(0.7 - y) * g(y + 1.1), -2, 2, points=[0.7, -1.1], epsabs=1e-14)[0]
    assert aho.first_order_2pt_shift(0.7, -1.1, 2.0, mass, box) == pytest.approx(-g(0) * ref2, rel=1e-12)


def test_large_box_middle_is_the_infinite_line():
    spec = aho.spectrum(128, 1.0, 10.0)
    for s in SEPARATIONS:
        assert aho.box_moment(spec, [s / 2, -s / 2], 40.0) == pytest.approx(aho.line_propagator(spec, s), rel=1e-12)
        assert aho.line_moment(spec, [s / 2, -s / 2]) == pytest.approx(aho.line_propagator(spec, s), rel=1e-12)
    # a small box differs: the edges carry the free vacuum
    assert abs(aho.box_moment(spec, [0.0, 0.0], 2.0) / aho.line_propagator(spec, 0.0) - 1) > 1e-3
    with pytest.raises(ValueError, match="outside the box"):
        aho.box_moment(spec, [1.5, 0.0], 2.0)


@pytest.mark.parametrize("lam", [0.1, 1.0, 10.0, 100.0])
def test_truncation_study(lam):
    """The converged K: every observable moves by < 1e-12 on doubling to it; at half of it the
    truncation still shows (so the study is not vacuous) for the couplings that need it."""
    box = 4.0
    spec, k, change = aho.converged_spectrum(1.0, lam, box, SEPARATIONS[:4], FOUR_POINT)
    assert change < 1e-12 and k <= 256
    at = lambda n: aho.observables(aho.spectrum(n, 1.0, lam), box, SEPARATIONS[:4], FOUR_POINT).values  # noqa: E731
    final = aho.observables(spec, box, SEPARATIONS[:4], FOUR_POINT).values
    np.testing.assert_allclose(at(k // 2), final, rtol=1e-12, atol=1e-12)
    if lam >= 10:
        assert np.max(np.abs(at(k // 4) - final)) > 1e-12
