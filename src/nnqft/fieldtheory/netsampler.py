"""Markov-chain sampling of the phi^4-deformed cos-net parameter density in d = 1 (docs/physics.md sec. 12).

    P_lambda(theta) = P_0(theta) exp(-(lambda/4!) int_V phi_theta^4) / Z

with the cos-net of ``nnqft.fieldtheory.cosnet`` (both parametrisations) and int_V by the Gauss rule
of ``nnqft.fieldtheory.phi4.gauss_box``. HMC runs in whitened coordinates z = (alpha, zeta, xi) in
R^{3N}, each standard normal under P_0:

    a = (sa / sqrt(N)) alpha,   b = F^{-1}(Phi(zeta)),   c = pi (2 Phi(xi) - 1),

with Phi the normal CDF and F the CDF of the parametrisation's momentum law on [-Lambda, Lambda]
(uniform: b = Lambda (2u - 1); alpha0, density ~ 1/(b^2 + m^2): b = m tan((2u - 1) atan(Lambda/m))).
So log P_lambda(z) = -|z|^2/2 - (lambda/4!) S(theta(z)) + const, and the free theory is sampled
exactly by the same runner as the lattice (``nnqft.fieldtheory.hmc``).

Beside it, the reweighting of free draws that the first-order stage uses: its Kish effective
sample size fraction (E w)^2 / E w^2, w = exp(-lambda S/24), shows how fast it degrades.
"""

from __future__ import annotations

import jax.numpy as jnp
import numpy as np
from jax.scipy.special import ndtr

from nnqft.fieldtheory import cosnet, phi4


def model_data(net: cosnet.CosNet, quad: phi4.Quadrature, coupling: float, times) -> dict:
    """The arrays of ``logdensity`` and ``measure`` for a d = 1 cos-net, box rule and coupling."""
    if net.d != 1 or quad.d != 1:
        raise ValueError(f"the network sampler is for d = 1; got net.d = {net.d}, quadrature d = {quad.d}")
    scale2 = cosnet.amplitude_scale(net) / net.sa**2  # s(b)^2 (b^2 + m^2)^power
    return {"mass": np.float64(net.mass), "cutoff": np.float64(net.cutoff),
            "a_scale": np.float64(net.sa / np.sqrt(net.width)), "scale2": np.float64(scale2),
            "alpha0": np.float64(net.parametrisation == "alpha0"),
            "nodes": np.asarray(quad.axes[0], np.float64), "weights": np.asarray(quad.weights[0], np.float64),
            "times": np.asarray(times, np.float64), "coupling": np.float64(coupling)}


def parameters(z, data):
    """(a, b, c, s(b)) of the N neurons from whitened z (3N,)."""
    alpha, zeta, xi = jnp.split(z, 3)
    m, lam = data["mass"], data["cutoff"]
    u = 2.0 * ndtr(zeta) - 1.0  # uniform on (-1, 1)
    b = jnp.where(data["alpha0"] > 0, m * jnp.tan(u * jnp.arctan(lam / m)), lam * u)
    s2 = jnp.where(data["alpha0"] > 0, data["scale2"], data["scale2"] / (b**2 + m**2))
    c = jnp.pi * (2.0 * ndtr(xi) - 1.0)
    return data["a_scale"] * alpha, b, c, jnp.sqrt(s2)


def field(z, data, t):
    """phi_theta at times t (P,)."""
    a, b, c, s = parameters(z, data)
    return (a * s) @ jnp.cos(b[:, None] * t[None, :] + c[:, None])


def action(z, data):
    """S = sum_q W_q phi(y_q)^4 on the box rule."""
    return jnp.sum(data["weights"] * field(z, data, data["nodes"]) ** 4)


def logdensity(z, data):
    return -0.5 * jnp.sum(z**2) - data["coupling"] / 24.0 * action(z, data)


def measure(z, data):
    return field(z, data, data["times"]), action(z, data)


def reweighting_ess(net: cosnet.CosNet, quad: phi4.Quadrature, couplings, n: int, *, key) -> np.ndarray:
    """Kish ESS fraction (E w)^2 / E w^2 of reweighting n free draws to each coupling: (L,)."""
    s = np.asarray(phi4.phi4_integral(net, cosnet.sample(net, n, key=key), quad), np.float64)
    log_w = -np.multiply.outer(np.asarray(couplings, np.float64), s) / 24.0
    log_w -= log_w.max(axis=1, keepdims=True)  # w rescaled per coupling: the ratio is unchanged
    w = np.exp(log_w)
    return w.mean(axis=1) ** 2 / (w**2).mean(axis=1)

