"""Actions from connected correlators: the leading quartic vertex (docs/physics.md sec. 7).

On a finite set of sites y_g the Edgeworth-type vertex is the connected 4-pt with an inverse
propagator on every leg,

    Gamma(g1..g4) = - sum_{x1..x4} G4_c(x1..x4) prod_i [G^-1]_{x_i g_i},

so that the action reads S = (1/2) phi G^-1 phi + (1/4!) sum Gamma phi phi phi phi + ...
For the lattice phi^4 deformation (lambda/4!) h^d sum_g phi_g^4 on the same sites,
Gamma = lambda h^d delta(g1 = g2 = g3 = g4) at first order: concentrated on coincident sites.

Conditioning: a field band-limited by Lambda is determined by its samples on a grid of spacing
h = pi / Lambda (Nyquist); on finer grids the propagator matrix has near-null directions
(spectral gap between Lambda and pi/h) and G^-1 amplifies noise without bound. Hence the
sites have spacing h >= pi / Lambda, and the deformation is the lattice sum on those sites.
"""

from __future__ import annotations

import itertools
from math import factorial

import numpy as np

from nnqft import correlators
from nnqft.fieldtheory import cosnet


def lattice_sites(d: int, spacing: float, n_sites: int) -> np.ndarray:
    """Sites (k - (n-1)/2) h per dimension, all n^d of them in C order: (P, d)."""
    axis = (np.arange(n_sites) - (n_sites - 1) / 2) * spacing
    grids = np.meshgrid(*([axis] * d), indexing="ij")
    return np.stack([g.ravel() for g in grids], axis=-1)


def propagator_matrix(sites, mass: float, cutoff: float) -> np.ndarray:
    sites = np.asarray(sites, dtype=np.float64)
    return cosnet.propagator_points(sites[:, None], sites[None], sites.shape[1], mass, cutoff)


def condition_number(sites, mass: float, cutoff: float) -> float:
    ev = np.linalg.eigvalsh(propagator_matrix(sites, mass, cutoff))
    return float(ev[-1] / ev[0]) if ev[0] > 0 else float("inf")


def full_tensor(values, n_points: int):
    """A symmetric 4-tensor (..., P, P, P, P) from its values on ``multisets(P, 4)`` (..., T)."""
    tuples = np.array(list(itertools.product(range(n_points), repeat=4)))
    pos = correlators.multiset_position(n_points, tuples).reshape((n_points,) * 4)
    return np.asarray(values)[..., pos]


def vertex(g4c, ginv):
    """Gamma on ``multisets(P, 4)`` from G4_c on the same multisets (leading axes broadcast)."""
    p = ginv.shape[0]
    t = np.asarray(full_tensor(g4c, p))
    for _ in range(4):  # contract the last index and move the result to the front of the four
        t = np.moveaxis(np.tensordot(t, ginv, axes=([-1], [0])), -1, -4)
    m = correlators.multisets(p, 4)
    return -t[..., m[:, 0], m[:, 1], m[:, 2], m[:, 3]]


def diameters(sites, spacing: float) -> np.ndarray:
    """Largest distance between the sites of each multiset of ``multisets(P, 4)``, in units of h."""
    sites = np.asarray(sites, dtype=np.float64)
    m = correlators.multisets(len(sites), 4)
    pts = sites[m]  # (T, 4, d)
    dist = np.linalg.norm(pts[:, :, None] - pts[:, None, :], axis=-1).max(axis=(1, 2))
    return np.round(dist / spacing, 6)


def multiplicities(n_points: int) -> np.ndarray:
    """Number of ordered 4-tuples behind each multiset (4! / prod of repeat factorials)."""
    m = correlators.multisets(n_points, 4)
    out = []
    for row in m:
        _, counts = np.unique(row, return_counts=True)
        out.append(factorial(4) // np.prod([factorial(c) for c in counts]))
    return np.array(out, dtype=np.int64)


def diagonal_fraction(gamma, n_points: int):
    """Share of sum Gamma^2 (over ordered 4-tuples) on coincident sites: 1 for a local vertex."""
    m = correlators.multisets(n_points, 4)
    diag = np.all(m == m[:, :1], axis=1)
    w = multiplicities(n_points)
    g2 = np.asarray(gamma) ** 2 * w
    return g2[..., diag].sum(axis=-1) / g2.sum(axis=-1)
