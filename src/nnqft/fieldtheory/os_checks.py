"""Osterwalder-Schrader-type checks: Euclidean invariance and reflection positivity.

* Euclidean invariance: G_n(R x_1 + a, ..., R x_n + a) = G_n(x_1, ..., x_n) for R in O(d) and
  translations a. The cos-net's parameter law is invariant under b -> R b (isotropic) and
  c -> c - b.a (uniform phase), so every correlator is. Measured on the same networks, the
  difference has a jackknife error and a z-score.
* Reflection positivity: for points x_i in the half-space x^0 > 0 and Theta the reflection
  x^0 -> -x^0, the matrix M_ij = G2(Theta x_i, x_j) must be positive semi-definite. A sharp
  momentum cutoff violates it (the spectral density in p^0 at fixed spatial momentum is a
  truncated Lorentzian, whose Fourier transform is not a positive sum of decaying exponentials):
  the smallest eigenvalue is negative and tends to zero as Lambda grows. It is measured without
the noise bias of a smallest eigenvalue as the Rayleigh quotient along the exact lowest
eigenvector (``rayleigh_quotient``).
"""

from __future__ import annotations

import jax
import numpy as np

from nnqft import correlators


def euclidean_transforms(d: int, n: int, *, key, translation_scale: float = 1.0):
    """n Haar-random orthogonal matrices (n, d, d) (O(d): rotations and reflections) and
    Gaussian translations (n, d) with standard deviation ``translation_scale`` per axis."""
    kr, ka = jax.random.split(key)
    rot = np.stack([np.asarray(jax.random.orthogonal(k, d)) for k in jax.random.split(kr, n)])
    shift = translation_scale * np.asarray(jax.random.normal(ka, (n, d)))
    return rot, shift


def uniform_points(n: int, d: int, *, key) -> np.ndarray:
    """n points uniform in the cube [-1, 1]^d (float64), shape (n, d)."""
    return np.asarray(jax.random.uniform(key, (n, d), minval=-1.0, maxval=1.0))


def transformed_sets(x, rotations, shifts):
    """The original points and each transformed copy, stacked: ((n + 1) P, d)."""
    x = np.asarray(x, dtype=np.float64)
    copies = [x] + [x @ r.T + a for r, a in zip(rotations, shifts)]
    return np.concatenate(copies, axis=0)


def set_tuples(n_points: int, n_sets: int, n: int):
    """``multisets(P, n)`` of every copy, offset into the stacked points: (n_sets, T, n)."""
    t = correlators.multisets(n_points, n)
    return np.stack([t + k * n_points for k in range(n_sets)])


def differences(moments):
    """G(transformed copy k) - G(original) for moments (..., n_sets, T): (..., n_sets - 1, T)."""
    return moments[..., 1:, :] - moments[..., :1, :]


def reflect(x):
    """Theta: flip the first coordinate."""
    x = np.array(x, dtype=np.float64, copy=True)
    x[..., 0] *= -1
    return x


def reflection_points(x):
    """Stack [Theta x_1..Theta x_K, x_1..x_K] and the pair tuples (K, K, 2) of M_ij."""
    x = np.asarray(x, dtype=np.float64)
    if np.any(x[:, 0] <= 0):
        raise ValueError("reflection positivity needs points with x^0 > 0")
    k = len(x)
    i, j = np.meshgrid(np.arange(k), np.arange(k), indexing="ij")
    return np.concatenate([reflect(x), x]), np.stack([i, k + j], axis=-1)


def smallest_eigenvalue(m):
    """Smallest eigenvalue of the symmetrised matrices m (..., K, K).

    On a noisy estimate it is biased low (eigenvalue repulsion), by more than its jackknife
    error when the spectrum is nearly degenerate; prefer ``rayleigh_quotient``.
    """
    sym = 0.5 * (m + np.swapaxes(m, -1, -2))
    return np.linalg.eigvalsh(sym)[..., 0]


def rayleigh_quotient(m, v):
    """v^T m v for matrices m (..., K, K) and a unit vector v (K,).

    With v the exact lowest eigenvector this is an unbiased (linear) estimate of the exact
    smallest eigenvalue, and an upper bound on the estimated matrix's smallest eigenvalue: a
    significantly negative value proves the estimated matrix is not positive semi-definite.
    """
    return np.einsum("...ij,i,j->...", m, v, v)
