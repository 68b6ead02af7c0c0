"""Lattice phi^4 in d = 1 on the box V with free-vacuum edges (docs/physics.md sec. 12).

Sites t_j = -T/2 + j a, j = 0..n, n = T/a. The field is free on the whole line and interacts only
inside V, like the network theory: integrating out the free sites outside V leaves the free
lattice marginal of the sites in V, a Gaussian with the infinite-lattice propagator

    G_a(t) = a e^{-w |t|} / (2 sinh(w a)),   cosh(w a) = 1 + a^2 m^2 / 2,

restricted to the sites, times exp(-(lambda/4!) sum_j W_j phi_j^4) with trapezoid weights W_j (a,
a/2 at the two edges). Its precision is tridiagonal: the lattice action's (2 + a^2 m^2)/a and -1/a
inside, and e^{w a}/a on the edge sites, the free half-lines' boundary term. Discretisation errors
are O(a^2) (kinetic term, trapezoid rule, G_a), so a -> 0 is a linear fit in a^2.

Sampling is in whitened coordinates phi = L z with L L^T = G_a on the sites (``nnqft.fieldtheory.hmc``).
"""

from __future__ import annotations

import math
from typing import NamedTuple

import jax.numpy as jnp
import numpy as np


class Lattice(NamedTuple):
    mass: float
    spacing: float
    box: float

    @property
    def n_sites(self) -> int:
        n = self.box / self.spacing
        if self.spacing <= 0 or self.mass <= 0 or abs(n - round(n)) > 1e-9 * n or round(n) < 1:
            raise ValueError(f"box T = {self.box} must be a positive multiple of the spacing a = {self.spacing} "
                             f"(mass {self.mass} > 0)")
        return int(round(n)) + 1

    @property
    def sites(self) -> np.ndarray:
        return -self.box / 2 + self.spacing * np.arange(self.n_sites)


def lattice_frequency(mass: float, spacing: float) -> float:
    """w with cosh(w a) = 1 + a^2 m^2 / 2: the decay rate of the free lattice propagator."""
    return math.acosh(1 + 0.5 * (spacing * mass) ** 2) / spacing


def free_propagator(t, mass: float, spacing: float):
    """G_a(t) = a e^{-w|t|} / (2 sinh(w a)) on the infinite lattice (t a multiple of a)."""
    w = lattice_frequency(mass, spacing)
    return spacing * np.exp(-w * np.abs(np.asarray(t, dtype=np.float64))) / (2 * math.sinh(w * spacing))


def free_covariance(lat: Lattice) -> np.ndarray:
    t = lat.sites
    return free_propagator(t[:, None] - t[None, :], lat.mass, lat.spacing)


def free_precision(lat: Lattice) -> np.ndarray:
    """The tridiagonal inverse of ``free_covariance`` in closed form (module docstring)."""
    a, n = lat.spacing, lat.n_sites
    diag = np.full(n, (2 + (a * lat.mass) ** 2) / a)
    diag[[0, -1]] = math.exp(lattice_frequency(lat.mass, a) * a) / a
    return np.diag(diag) - (np.eye(n, k=1) + np.eye(n, k=-1)) / a


def interaction_weights(lat: Lattice) -> np.ndarray:
    w = np.full(lat.n_sites, lat.spacing)
    w[[0, -1]] = lat.spacing / 2
    return w


def site_index(lat: Lattice, times) -> np.ndarray:
    """Indices of the sites at the given times; each time must be a site."""
    times = np.asarray(times, dtype=np.float64)
    j = (times + lat.box / 2) / lat.spacing
    idx = np.round(j).astype(int)
    if np.any(np.abs(j - idx) > 1e-9) or np.any(idx < 0) or np.any(idx >= lat.n_sites):
        raise ValueError(f"times {times.tolist()} are not all sites of the lattice a = {lat.spacing}, T = {lat.box}")
    return idx


def model_data(lat: Lattice, coupling: float, times) -> dict:
    """The arrays of ``logdensity`` and ``measure``: Cholesky root of G_a on the sites, weights,
    measurement sites, coupling."""
    return {"root": np.linalg.cholesky(free_covariance(lat)), "weights": interaction_weights(lat),
            "index": site_index(lat, times), "coupling": np.float64(coupling)}


def action(phi, data):
    """S = sum_j W_j phi_j^4 (trapezoid rule on the sites)."""
    return jnp.sum(data["weights"] * phi**4)


def logdensity(z, data):
    """-|z|^2/2 - (lambda/4!) S(L z): the free marginal on the sites, whitened, times the interaction."""
    return -0.5 * jnp.sum(z**2) - data["coupling"] / 24.0 * action(data["root"] @ z, data)


def measure(z, data):
    phi = data["root"] @ z
    return phi[data["index"]], action(phi, data)
