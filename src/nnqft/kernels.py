"""Gaussian-process kernels K(x, x') = sb^2 + sw^2 E[h(z) h(z')] of the infinite-width limit.

(z, z') is the zero-mean Gaussian pre-activation pair with covariance q(x, x') =
sb^2 + sw^2 x.x'/d_in. Each activation's registry entry carries its closed form (docs/physics.md
sec. 1) or None, for which Gauss-Hermite quadrature of the same expectation is used.
"""

from __future__ import annotations

import numpy as np

from nnqft.networks import NetworkSpec, activation, preactivation_variance


def preactivation_covariance(spec: NetworkSpec, x, y=None) -> np.ndarray:
    """q(x_a, y_b) = sb^2 + sw^2 x_a.y_b / d_in, shape (P, Q)."""
    x = np.atleast_2d(np.asarray(x, dtype=np.float64))
    y = x if y is None else np.atleast_2d(np.asarray(y, dtype=np.float64))
    return spec.sb**2 + spec.sw**2 * (x @ y.T) / spec.d_in


def _quadrature_pair(name, qxy, qxx, qyy, order=None):
    """E[h(z; qxx) h(z'; qyy)] by tensor Gauss-Hermite quadrature on the Cholesky factor, with
    ``order`` nodes per axis (None: the activation's ``kernel_order``)."""
    entry = activation(name)
    h, order = entry.h, order or entry.kernel_order
    t, w = np.polynomial.hermite_e.hermegauss(order)
    w = w / np.sqrt(2 * np.pi)
    u, v = np.meshgrid(t, t, indexing="ij")
    ww = np.outer(w, w)
    qxy, qxx, qyy = np.broadcast_arrays(qxy, qxx, qyy)
    out = np.empty(qxy.shape)
    for i in np.ndindex(qxy.shape):
        a = np.sqrt(qxx[i])
        c = qxy[i] / a if a > 0 else 0.0
        d = np.sqrt(max(qyy[i] - c * c, 0.0))
        z1, z2 = a * u, c * u + d * v
        out[i] = np.sum(ww * np.asarray(h(z1, qxx[i])) * np.asarray(h(z2, qyy[i])))
    return out


def hidden_covariance(spec: NetworkSpec, x, y=None) -> np.ndarray:
    """E[h(x_a) h(y_b)] over one hidden neuron, shape (P, Q)."""
    if not spec.zero_mean:
        raise ValueError("the GP kernel is defined here for zero-mean parameters only")
    x = np.atleast_2d(np.asarray(x, dtype=np.float64))
    y = x if y is None else np.atleast_2d(np.asarray(y, dtype=np.float64))
    qxy = preactivation_covariance(spec, x, y)
    # Diagonals directly, never via a (Q, Q) matrix: y can be 10^5 quadrature nodes (nnqft.feynman).
    qxx = preactivation_variance(spec, x)[:, None]
    qyy = preactivation_variance(spec, y)[None, :]
    return _pair(spec)(qxy, qxx, qyy)


def hidden_variance(spec: NetworkSpec, x) -> np.ndarray:
    """E[h(x_a)^2] over one hidden neuron, shape (P,): the diagonal of ``hidden_covariance``."""
    if not spec.zero_mean:
        raise ValueError("the GP kernel is defined here for zero-mean parameters only")
    q = preactivation_variance(spec, np.atleast_2d(np.asarray(x, dtype=np.float64)))
    return _pair(spec)(q, q, q)


def _pair(spec: NetworkSpec):
    pair = activation(spec.activation).kernel
    if pair is None:
        return lambda qxy, qxx, qyy: _quadrature_pair(spec.activation, qxy, qxx, qyy)
    return pair


def gp_kernel(spec: NetworkSpec, x, y=None) -> np.ndarray:
    """K(x_a, y_b) = sb^2 + sw^2 E[h(x_a) h(y_b)], shape (P, Q)."""
    return spec.sb**2 + spec.sw**2 * hidden_covariance(spec, x, y)
