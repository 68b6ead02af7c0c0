"""phi^4 in d = 1 as the quantum anharmonic oscillator, solved exactly (docs/physics.md sec. 12).

    S = int dt [phi'^2/2 + m^2 phi^2/2 + (lambda/4!) phi^4]   <->   H = p^2/2 + m^2 x^2/2 + (lambda/24) x^4.

H is diagonalised in an oscillator basis truncated at K levels, x = (a + a^dag)/sqrt(2w). The basis
frequency w is m at lambda = 0 and the variational Gaussian's frequency otherwise (``basis_frequency``
says why); K is doubled until every reported number moves by less than 1e-12.

Correlators are time-ordered vacuum expectations. P3's network theory carries the interaction only
in the box V = [-T/2, T/2] and is free outside, so its exact comparator has the free vacuum |0_f>
(the ground state of the free oscillator of frequency m) at both edges of V:

    <phi(t_1) ... phi(t_n)>_V = <0_f| e^{-H(T/2 - t_(1))} x e^{-H(t_(1) - t_(2))} x ... x e^{-H(t_(n) + T/2)} |0_f>
                                / <0_f| e^{-H T} |0_f>,     t_(1) >= ... >= t_(n),

and the infinite line has the interacting vacuum |0> at both ends instead. All evolution happens in
the eigenbasis with energies measured from E_0, so nothing overflows for any T.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np


class Spectrum(NamedTuple):
    """Eigen-decomposition of the truncated H: energies (K,), the free vacuum's components in the
    eigenbasis (K,), and x in the eigenbasis (K, K)."""

    energies: np.ndarray
    vacuum_f: np.ndarray
    x: np.ndarray

    @property
    def ground_energy(self) -> float:
        return float(self.energies[0])

    @property
    def gap(self) -> float:
        return float(self.energies[1] - self.energies[0])


def basis_frequency(mass: float, coupling: float) -> float:
    """The variational Gaussian's frequency, the root of w^3 - m^2 w - lambda/4 = 0 (w = m at lambda = 0).

    Why not the basis of frequency m: at strong coupling the ground state is much narrower than the
    free one, so the m-basis needs thousands of levels, and the round-off of diagonalising a matrix of
    norm ~ lambda K^2 then exceeds 1e-12 before the truncation error falls below it (lambda = 100: the
    observables move by 1e-11 between K = 256 and 512, 1e-10 between 512 and 1024). In the matched
    basis a few hundred levels converge every coupling to 1e-12."""
    roots = np.roots([1.0, 0.0, -mass**2, -coupling / 4.0])
    return float(max(r.real for r in roots if abs(r.imag) < 1e-9 * abs(r)))


def position_matrix(n_levels: int, omega: float) -> np.ndarray:
    """x = (a + a^dag)/sqrt(2 w) on the first n_levels oscillator states of frequency w."""
    off = np.sqrt(np.arange(1, n_levels) / (2.0 * omega))
    return np.diag(off, 1) + np.diag(off, -1)


def hamiltonian(n_levels: int, mass: float, coupling: float, omega: float) -> np.ndarray:
    """H = w (n + 1/2) + (m^2 - w^2) x^2/2 + (lambda/24) x^4 on n_levels states of frequency w.

    x^2 and x^4 are blocks of powers of the (n_levels + 4)-level x, so every matrix element inside
    the truncated space is exact; only the truncation of the space errs."""
    if n_levels < 2 or mass <= 0 or coupling < 0 or omega <= 0:
        raise ValueError(f"need n_levels >= 2, mass > 0, coupling >= 0, omega > 0; "
                         f"got {n_levels}, {mass}, {coupling}, {omega}")
    x = position_matrix(n_levels + 4, omega)
    x2 = x @ x
    x4 = (x2 @ x2)[:n_levels, :n_levels]
    kinetic = np.diag(omega * (np.arange(n_levels) + 0.5)) + 0.5 * (mass**2 - omega**2) * x2[:n_levels, :n_levels]
    return kinetic + coupling / 24.0 * x4


def spectrum(n_levels: int, mass: float, coupling: float, omega: float | None = None) -> Spectrum:
    """Diagonalise the truncated H in the basis of frequency ``omega`` (default ``basis_frequency``).

    The free vacuum |0_f> is the ground state of the lambda = 0 Hamiltonian in the same basis (a
    squeezed state unless w = m, where it is the basis vector e_0 exactly)."""
    omega = basis_frequency(mass, coupling) if omega is None else float(omega)
    energies, vec = np.linalg.eigh(hamiltonian(n_levels, mass, coupling, omega))
    free = np.linalg.eigh(hamiltonian(n_levels, mass, 0.0, omega))[1][:, 0]
    free = free * np.sign(free[0])
    x = vec.T @ position_matrix(n_levels, omega) @ vec
    return Spectrum(energies, vec.T @ free, x)


def _ordered(times):
    """Times sorted latest first (time ordering)."""
    return np.sort(np.asarray(times, dtype=np.float64))[::-1]


def box_moment(spec: Spectrum, times, box: float) -> float:
    """<phi(t_1) ... phi(t_n)> in the box [-T/2, T/2] with free-vacuum edges (module docstring)."""
    t = _ordered(times)
    if t.size and (t[0] > box / 2 or t[-1] < -box / 2):
        raise ValueError(f"times {times} outside the box [-{box / 2}, {box / 2}]")
    decay = spec.energies - spec.energies[0]
    edges = np.concatenate([[box / 2], t, [-box / 2]])
    state = np.exp(-decay * (edges[-2] - edges[-1])) * spec.vacuum_f
    for k in range(len(t) - 1, -1, -1):  # apply x at t_(k), then evolve up to the next later time
        state = np.exp(-decay * (edges[k] - edges[k + 1])) * (spec.x @ state)
    norm = np.sum(spec.vacuum_f**2 * np.exp(-decay * box))
    return float(spec.vacuum_f @ state / norm)


def line_moment(spec: Spectrum, times) -> float:
    """<0| T phi(t_1) ... phi(t_n) |0> on the infinite line (interacting vacuum at both ends)."""
    t = _ordered(times)
    decay = spec.energies - spec.energies[0]
    state = np.zeros_like(decay)
    state[0] = 1.0
    for k in range(len(t) - 1, -1, -1):
        state = spec.x @ state
        if k > 0:
            state = np.exp(-decay * (t[k - 1] - t[k])) * state
    return float(state[0])


def line_propagator(spec: Spectrum, t) -> np.ndarray:
    """G2(t) = sum_k |<0|x|k>|^2 e^{-(E_k - E_0)|t|} on the infinite line, for an array of t."""
    t = np.abs(np.asarray(t, dtype=np.float64))
    return np.exp(-np.multiply.outer(t, spec.energies - spec.energies[0])) @ spec.x[0] ** 2


def connected_4pt(moment, times) -> float:
    """G4 minus the three pairings of G2, for a parity-even theory (odd moments vanish);
    ``moment(times)`` gives the full moment at any tuple of times."""
    t = list(times)
    g4 = moment(t)
    pairs = [((0, 1), (2, 3)), ((0, 2), (1, 3)), ((0, 3), (1, 2))]
    return g4 - sum(moment([t[i], t[j]]) * moment([t[k], t[l]]) for (i, j), (k, l) in pairs)


class Observables(NamedTuple):
    """The reported exact numbers at one coupling: a flat vector and its labels."""

    labels: tuple
    values: np.ndarray


def observables(spec: Spectrum, box: float, separations, four_point_times) -> Observables:
    """E_0, the gap, the box G2(s/2, -s/2) and line G2(s) at each separation s, the box and line
    connected 4-pt at each tuple of times (rows of ``four_point_times``)."""
    labels, values = ["E0", "gap"], [spec.ground_energy, spec.gap]
    line = line_propagator(spec, separations)
    for s, g in zip(separations, line):
        labels += [f"G2_box({s:g})", f"G2_line({s:g})"]
        values += [box_moment(spec, [s / 2, -s / 2], box), g]
    for times in np.atleast_2d(four_point_times):
        name = ",".join(f"{t:g}" for t in times)
        labels += [f"G4c_box({name})", f"G4c_line({name})"]
        values += [connected_4pt(lambda tt: box_moment(spec, tt, box), times),
                   connected_4pt(lambda tt: line_moment(spec, tt), times)]
    return Observables(tuple(labels), np.asarray(values))


def converged_spectrum(mass: float, coupling: float, box: float, separations, four_point_times, *,
                       tol: float = 1e-12, start: int = 32, max_levels: int = 2048):
    """The spectrum at the smallest K (doubling from ``start``) for which every observable moved by
    less than ``tol`` (absolute, or relative where larger than one) since the previous K.

    Returns (spectrum, K, largest change at the final doubling). Raises if ``max_levels`` is reached."""
    previous, k = None, start
    while k <= max_levels:
        spec = spectrum(k, mass, coupling)
        obs = observables(spec, box, separations, four_point_times).values
        if previous is not None:
            change = float(np.max(np.abs(obs - previous) / np.maximum(1.0, np.abs(obs))))
            if change < tol:
                return spec, k, change
        previous, k = obs, 2 * k
    raise RuntimeError(f"anharmonic oscillator (m = {mass}, lambda = {coupling}) not converged to {tol} "
                       f"with {max_levels} levels")


# ---------------------------------------------------------------------------------------------
# First-order perturbation theory in the box (docs/physics.md sec. 7 with G(t) = e^{-m|t|}/(2m))


def free_propagator(t, mass: float):
    return np.exp(-mass * np.abs(np.asarray(t, dtype=np.float64))) / (2.0 * mass)


def _box_integral(f, kinks, box: float, order: int = 40) -> float:
    """int_{-T/2}^{T/2} f(y) dy, by Gauss-Legendre on the panels between the kinks of f."""
    edges = np.unique(np.clip(np.concatenate([[-box / 2, box / 2], np.asarray(kinks, float)]), -box / 2, box / 2))
    x, w = np.polynomial.legendre.leggauss(order)
    total = 0.0
    for lo, hi in zip(edges[:-1], edges[1:]):
        # split each panel so every piece spans at most 1/2 decay length: exponentials integrate to 1e-15
        n = max(1, int(np.ceil((hi - lo) * 4)))
        for a, b in zip(np.linspace(lo, hi, n + 1)[:-1], np.linspace(lo, hi, n + 1)[1:]):
            y = 0.5 * (a + b) + 0.5 * (b - a) * x
            total += 0.5 * (b - a) * float(w @ f(y))
    return total


def first_order_2pt_shift(t1: float, t2: float, coupling: float, mass: float, box: float) -> float:
    """Delta G2 = -(lambda/2) G(0) int_V dy G(t1 - y) G(y - t2)."""
    f = lambda y: free_propagator(t1 - y, mass) * free_propagator(y - t2, mass)  # noqa: E731
    return -0.5 * coupling * float(free_propagator(0.0, mass)) * _box_integral(f, [t1, t2], box)


def first_order_4pt(times, coupling: float, mass: float, box: float) -> float:
    """Delta G4_c = -lambda int_V dy prod_i G(t_i - y)."""
    times = np.asarray(times, dtype=np.float64)
    f = lambda y: np.prod(free_propagator(times[:, None] - y[None, :], mass), axis=0)  # noqa: E731
    return -coupling * _box_integral(f, times, box)


def first_order_ground_energy(coupling: float, mass: float) -> float:
    """E_0 = m/2 + (lambda/24) <0_f|x^4|0_f> = m/2 + lambda/(32 m^2)."""
    return mass / 2 + coupling / (32.0 * mass**2)

