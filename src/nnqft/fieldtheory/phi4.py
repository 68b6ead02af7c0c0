"""phi^4 theory by deforming the parameter density of a cos-net (docs/physics.md sec. 7).

    P(theta) -> P(theta) exp(-(lambda/4!) S[phi_theta]) / Z,   S = int_V phi^4 d^dx,

realised by **reweighting** the free ensemble: E_lambda[O] = E_0[w O] / E_0[w] with
w = exp(-lambda S / 24). Why reweighting rather than MCMC in parameter space: S is computed
exactly per network (up to the quadrature below), the estimator has no autocorrelation or
tuning, every lambda comes from the same networks, and the lambda = 0 values on those networks
can be subtracted, which cancels most of the noise and the free theory's own 1/N connected
4-pt. It is valid while the Kish effective sample size (sum w)^2 / sum w^2 stays a sizeable
fraction of the ensemble; that is reported for every lambda.

``S`` is a quadrature sum_q W_q phi(y_q)^4 over a tensor rule on the box V:
* ``gauss_box``: Gauss-Legendre, accurate for the band-limited phi^4 (bandwidth 4 Lambda);
* ``lattice_box``: the lattice sum h^d sum_g phi_g^4 on sites of spacing h, i.e. the lattice
  regularisation of the interaction that matches a vertex reconstruction on the same sites.
First-order predictions use the same rule, so the check is of the sampler, not of the rule:

    Delta G4_c(x1..x4) = -lambda sum_q W_q prod_i G(x_i - y_q)
    Delta G2(x1, x2)   = -(lambda/2) G(0) sum_q W_q G(x1 - y_q) G(y_q - x2).
"""

from __future__ import annotations

from typing import NamedTuple

import jax.numpy as jnp
import numpy as np

from nnqft import correlators
from nnqft.fieldtheory import cosnet


class Quadrature(NamedTuple):
    """A tensor-product rule: per dimension, 1D nodes and weights."""

    axes: tuple
    weights: tuple

    @property
    def d(self) -> int:
        return len(self.axes)

    @property
    def nodes(self) -> np.ndarray:
        """All nodes (Q, d), in C order of the grid."""
        grids = np.meshgrid(*self.axes, indexing="ij")
        return np.stack([g.ravel() for g in grids], axis=-1)

    @property
    def flat_weights(self) -> np.ndarray:
        w = self.weights[0]
        for wk in self.weights[1:]:
            w = np.multiply.outer(w, wk)
        return np.asarray(w).ravel()

    @property
    def grid_weights(self) -> np.ndarray:
        return self.flat_weights.reshape([len(a) for a in self.axes])


def gauss_box(d: int, half_width: float, n_nodes: int, center=None) -> Quadrature:
    """Tensor Gauss-Legendre rule with ``n_nodes`` per dimension on center + [-a, a]^d."""
    if half_width <= 0 or n_nodes < 1:
        raise ValueError(f"need half_width > 0 and n_nodes >= 1; got {half_width}, {n_nodes}")
    x, w = np.polynomial.legendre.leggauss(n_nodes)
    center = np.zeros(d) if center is None else np.broadcast_to(np.asarray(center, float), (d,))
    return Quadrature(tuple(c + half_width * x for c in center), tuple(half_width * w for _ in range(d)))


def lattice_box(d: int, spacing: float, n_sites: int) -> Quadrature:
    """Sites (k - (n-1)/2) h, k = 0..n-1, per dimension, weight h: the lattice sum on the
    box V of n^d cells of side h centred on the origin."""
    if spacing <= 0 or n_sites < 1:
        raise ValueError(f"need spacing > 0 and n_sites >= 1; got {spacing}, {n_sites}")
    sites = (np.arange(n_sites) - (n_sites - 1) / 2) * spacing
    return Quadrature(tuple(sites for _ in range(d)), tuple(np.full(n_sites, spacing) for _ in range(d)))


def phi4_integral(net: cosnet.CosNet, params: cosnet.CosNetParams, quad: Quadrature):
    """S = sum_q W_q phi(y_q)^4 for each network: (n,)."""
    phi = cosnet.field_on_grid(net, params, quad.axes)
    w = jnp.asarray(quad.grid_weights)
    return jnp.sum(w * phi**4, axis=tuple(range(1, net.d + 1)))


def deformation_weights(s, lambdas):
    """w = exp(-lambda S / 4!) for each network and coupling: (n, n_lambda)."""
    return jnp.exp(-jnp.asarray(lambdas)[None, :] * s[:, None] / 24.0)


def kish_ess(mean_w, mean_w2, n: int):
    """Kish effective sample size n (E w)^2 / E w^2 from the ensemble means of w and w^2."""
    return n * np.asarray(mean_w) ** 2 / np.asarray(mean_w2)


def reweighted_statistics(net: cosnet.CosNet, quad: Quadrature, x, lambdas, tuples: dict):
    """Per-network statistics for the block engine at points x (P, d) and couplings lambdas.

    ``x = None`` uses the quadrature nodes themselves (``quad.nodes`` order), e.g. lattice sites.

    Returns ``(key, batch) -> {"w", "w2": (batch, L), "s": (batch,), name: (batch, L, ...)}``
    with w the deformation weight and, for each named index array (..., n) in ``tuples``,
    w prod_k phi(x_{t_k}). Include lambda = 0 to get the free moments on the same networks.
    """
    x = None if x is None else np.asarray(x, dtype=np.float64)
    lambdas = np.asarray(lambdas, dtype=np.float64)
    grid_weights = jnp.asarray(quad.grid_weights)

    def per_network(key, batch):
        params = cosnet.sample(net, batch, key=key)
        on_grid = cosnet.field_on_grid(net, params, quad.axes)
        s = jnp.sum(grid_weights * on_grid**4, axis=tuple(range(1, net.d + 1)))
        w = deformation_weights(s, lambdas)
        phi = on_grid.reshape(batch, -1) if x is None else cosnet.field(net, params, x)
        out = {"w": w, "w2": w**2, "s": s}
        for name, t in tuples.items():
            prod = cosnet.products(phi, t)
            out[name] = w.reshape(w.shape + (1,) * (prod.ndim - 1)) * prod[:, None]
        return out

    return per_network


def quadrature_error(net: cosnet.CosNet, quad: Quadrature, fine: Quadrature, n: int, *, key):
    """Largest relative difference of S between two rules over n sample networks."""
    params = cosnet.sample(net, n, key=key)
    s, s_fine = phi4_integral(net, params, quad), phi4_integral(net, params, fine)
    return float(jnp.max(jnp.abs(s - s_fine) / jnp.abs(s_fine)))


def deformed_shifts(w, m2, m4, n_points: int):
    """Delta G2 and Delta G4_c of every coupling against the first (lambda = 0) one.

    ``w`` (..., L), ``m2`` (..., L, T2), ``m4`` (..., L, T4): ensemble means of w, w phi phi,
    w phi phi phi phi. Returns (Delta G2 (..., L, T2), Delta G4_c (..., L, T4)); broadcasts over
    leading axes, so it serves as a jackknife statistic.
    """
    g2 = m2 / w[..., None]
    g4 = m4 / w[..., None]
    c4 = correlators.cumulants_from_moments({2: g2, 4: g4}, n_points, 4)
    return g2 - g2[..., :1, :], c4 - c4[..., :1, :]


def first_order_4pt(points, lam: float, quad: Quadrature, mass: float, cutoff: float):
    """-lambda sum_q W_q prod_i G(x_i - y_q) for 4-tuples of points (T, 4, d): (T,)."""
    points = np.asarray(points, dtype=np.float64)
    g = cosnet.propagator_points(points[:, :, None, :], quad.nodes[None, None], quad.d, mass, cutoff)
    return -lam * np.einsum("q,tq->t", quad.flat_weights, g.prod(axis=1))


def first_order_2pt_shift(points, lam: float, quad: Quadrature, mass: float, cutoff: float):
    """-(lambda/2) G(0) sum_q W_q G(x1 - y_q) G(x2 - y_q) for pairs of points (T, 2, d): (T,)."""
    points = np.asarray(points, dtype=np.float64)
    g = cosnet.propagator_points(points[:, :, None, :], quad.nodes[None, None], quad.d, mass, cutoff)
    g0 = cosnet.propagator(np.zeros(1), quad.d, mass, cutoff)[0]
    return -0.5 * lam * g0 * np.einsum("q,tq->t", quad.flat_weights, g.prod(axis=1))
