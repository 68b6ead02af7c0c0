"""Exact all-order correlators of two deep architectures (docs/physics.md sec. 10).

Given layer l, the pre-activations of layer l+1 are Gaussian with the empirical kernel
Kh(l+1) = C_b + (C_W/n_l) sum_i s(z_i) s(z_i)^T, the z_i i.i.d. N(0, Kh(l)). Two cases close:

* **deep ReLU, C_b = 0, inputs on a ray** (x_a = t_a u, t_a >= 0): relu is positively
  homogeneous, so Kh(l)_ab = s_a s_b S_l with s_a^2 = C_W |x_a|^2 / d_in, and
  S_(l+1) = S_l R_l with R_l = (C_W/n_l) sum_i relu(g_i)^2 independent of everything before.
  sum_i relu(g_i)^2 is chi^2 with B ~ Binomial(n_l, 1/2) degrees of freedom, so
  E[R^k] = (C_W/n)^k E[B(B+2)...(B+2k-2)], and f(x_a) = s_a F with
  E[F^2k] = (2k-1)!! prod_l E[R_l^k]: every moment, any depth and widths.
* **deep linear networks** (s = identity, any C_b): with W = (1/n) sum_i z_i z_i^T,
  E[W_p1 ... W_pm | K] = sum over perfect matchings mu of the 2m slots of n^(c(mu) - m) times the
  product of K over mu's pairs, c(mu) the number of connected components mu makes of the m
  factors (factors joined by a pair must share their neuron). So the moments
  M_m(l) = E[Kh(l)^(x)m] obey exact linear recursions; G4 is E[Kh Kh] over the 3 pairings, G6
  E[Kh Kh Kh] over the 15 matchings.

Both are polynomials in the inverse widths. Functions take ``inverse_widths`` u_l = 1/n_l as
numbers, or ``formal=True``: every u_l is one formal variable u, and arrays carry a leading axis
of polynomial coefficients in u (ascending), so the 1/n coefficient is read off exactly.
"""

from __future__ import annotations

import itertools
import math
from fractions import Fraction
from functools import lru_cache

import numpy as np

from nnqft import correlators

_TOL = 1e-10


# ---------------------------------------------------------------- polynomials in u


def _poly_factor(u, power: int, formal: bool, degree: int):
    """u^power as a coefficient vector of length degree+1 (formal) or a number."""
    if not formal:
        return u**power
    out = np.zeros(degree + 1)
    if power <= degree:
        out[power] = 1.0
    return out


def _times(coefs: np.ndarray, factor, formal: bool) -> np.ndarray:
    """coefs (D, ...) times a polynomial factor (D,), truncated to D (formal), or times a number."""
    if not formal:
        return coefs * factor
    d = len(coefs)
    out = np.zeros_like(coefs)
    for j in np.flatnonzero(factor):
        out[j:] += factor[j] * coefs[: d - j]
    return out


# ---------------------------------------------------------------- deep ReLU on a ray


def ray_scales(x, c_w: float) -> np.ndarray:
    """s_a = sqrt(C_W |x_a|^2 / d_in) for inputs on one ray from the origin; raises otherwise."""
    x = np.atleast_2d(np.asarray(x, dtype=np.float64))
    norms = np.linalg.norm(x, axis=1)
    ref = x[np.argmax(norms)] / norms.max()
    if norms.max() == 0 or not np.allclose(x, np.outer(norms, ref), rtol=0, atol=_TOL * norms.max()):
        raise ValueError("deep ReLU exact moments need inputs on one ray from the origin (x_a = t_a u, t_a >= 0)")
    return np.sqrt(c_w / x.shape[1]) * norms


@lru_cache(maxsize=None)
def _stirling2(j: int, m: int) -> int:
    if j == m:
        return 1
    if m == 0 or m > j:
        return 0
    return m * _stirling2(j - 1, m) + _stirling2(j - 1, m - 1)


def _polymul(a, b):
    out = [Fraction(0)] * (len(a) + len(b) - 1)
    for i, x in enumerate(a):
        for j, y in enumerate(b):
            out[i + j] += x * y
    return out


@lru_cache(maxsize=None)
def relu_layer_moment(k: int) -> tuple[Fraction, ...]:
    """E[R^k] / C_W^k for R = (C_W/n) sum_{i<=n} relu(g_i)^2, as exact coefficients of u = 1/n
    (ascending, degree k-1): u^k E[prod_{i<k} (B + 2i)] with B ~ Bin(n, 1/2), through
    B^j = sum_m S(j, m) B^(m), E[B^(m)] = n^(m) / 2^m and n^(m) u^k = u^(k-m) prod_{i<m} (1 - i u)."""
    poly_b = [Fraction(1)]
    for i in range(k):
        poly_b = _polymul(poly_b, [Fraction(2 * i), Fraction(1)])  # in B, ascending
    out = [Fraction(0)] * (k + 1)
    for j, c in enumerate(poly_b):
        for m in range(j + 1):
            falling = [Fraction(1)]
            for i in range(m):
                falling = _polymul(falling, [Fraction(1), Fraction(-i)])
            for power, f in enumerate(falling):
                out[k - m + power] += c * _stirling2(j, m) / 2**m * f
    if out[k] != 0:  # E[R^k] is O(1): the u^k term must cancel
        raise ArithmeticError(f"relu layer moment of order {k}: u^{k} coefficient {out[k]} != 0")
    return tuple(out[:k])


def relu_ray_norm_moments(c_w: float, inverse_widths, k_max: int, *, formal: bool = False):
    """E[S^k] / K1^k = prod_l E[R_l^k] for k = 1..k_max: {k: number, or coefficients in u (formal)}."""
    u = np.asarray(inverse_widths, dtype=np.float64)
    depth = len(u)
    out = {}
    for k in range(1, k_max + 1):
        layer = np.array([float(c) for c in relu_layer_moment(k)]) * c_w**k
        if formal:
            total = np.zeros((k - 1) * depth + 1)
            total[0] = 1.0
            for _ in range(depth):
                total = np.convolve(total, layer)[: len(total)]
            out[k] = total
        else:
            out[k] = math.prod(np.polynomial.polynomial.polyval(ul, layer) for ul in u)
    return out


def relu_ray_correlators(x, c_w: float, inverse_widths, orders=(2, 4, 6), *, formal: bool = False) -> dict:
    """Exact E[f_a1 ... f_an] of a deep ReLU net with C_b = 0 on a ray, on ``multisets(P, n)``:
    prod_s s_as (n-1)!! E[S^(n/2)]; {n: (T_n,)} or (degree+1, T_n) coefficients in u (formal)."""
    s = ray_scales(x, c_w)
    norm = relu_ray_norm_moments(c_w, inverse_widths, max(orders) // 2, formal=formal)
    out = {}
    for n in orders:
        t = correlators.multisets(len(s), n)
        geometry = np.prod(s[t], axis=1) * math.prod(range(n - 1, 0, -2))
        out[n] = np.multiply.outer(norm[n // 2], geometry) if formal else norm[n // 2] * geometry
    return out


# The Rao-Blackwell estimator on a ray: per network, E[f_a1..f_a2j | last hidden layer] =
# prod_s s_as (2j-1)!! S^j, so the cumulant estimator of order n on every multiset is prod_s s_as
# times one polynomial kappa_n in the ensemble means mbar_j of S^j (Gaussian scale mixture):
# kappa_2 = mbar_1, kappa_4 = 3 (mbar_2 - mbar_1^2), kappa_6 = 15 mbar_3 - 45 mbar_2 mbar_1 + 30 mbar_1^3.
# Rows: the gradient of kappa_n in (mbar_1, mbar_2, mbar_3) at the exact moments m_1..m_3.
def _ray_cumulant_gradient(n: int, m: dict) -> np.ndarray:
    if n == 2:
        return np.array([1.0, 0.0, 0.0])
    if n == 4:
        return np.array([-6 * m[1], 3.0, 0.0])
    if n == 6:
        return np.array([90 * m[1] ** 2 - 45 * m[2], -45 * m[1], 15.0])
    raise ValueError(f"ray cumulant estimator of order {n}: only 2, 4 and 6 are implemented")


def relu_ray_estimator_stderr(x, c_w: float, inverse_widths, n_networks: int, orders=(2, 4, 6)) -> dict:
    """Exact standard deviation of the Rao-Blackwell estimator of the order-n cumulant (the 2-pt for
    n = 2) from ``n_networks`` independent deep ReLU nets with C_b = 0 on a ray, on ``multisets(P, n)``:
    {n: (T_n,)}. Delta method, exact at leading order in 1/N: Var = a^T Cov a / N with a the gradient
    of kappa_n and Cov_jk = E[S^(j+k)] - E[S^j] E[S^k] from the exact moments of S (up to S^6).
    Every element is prod_s s_as times the same kappa_n, so the elements are perfectly correlated and
    the standard deviation of an average of elements is the average of theirs.

    Why it is needed: S is a product of L independent layer factors, so S^j is heavy-tailed (at
    L = 8, n = 8 the kurtosis E[S^4]/E[S^2]^2 is ~3.5e4); a sample of thousands of networks rarely
    holds the tail that carries the variance, and block-mean (jackknife) errors come out far too small.
    """
    s = ray_scales(x, c_w)
    j_max = max(orders) // 2
    m = relu_ray_norm_moments(c_w, inverse_widths, 2 * j_max)
    c = np.array([[m[j + k] - m[j] * m[k] for k in range(1, j_max + 1)] for j in range(1, j_max + 1)])
    out = {}
    for n in orders:
        a = _ray_cumulant_gradient(n, m)[:j_max]
        sd = np.sqrt(max(a @ c @ a, 0.0) / n_networks)
        t = correlators.multisets(len(s), n)
        out[n] = np.prod(s[t], axis=1) * sd
    return out


# ---------------------------------------------------------------- deep linear networks


@lru_cache(maxsize=None)
def _matchings_with_components(m: int):
    """Perfect matchings of the 2m slots of m factors (slot 2i, 2i+1 belong to factor i), each with
    the number of connected components it makes of the factors."""
    out = []
    for matching in correlators.perfect_matchings(2 * m):
        parent = list(range(m))

        def find(i):
            while parent[i] != i:
                i = parent[i]
            return i

        for a, b in matching:
            parent[find(a // 2)] = find(b // 2)
        out.append((tuple(map(tuple, matching)), len({find(i) for i in range(m)})))
    return tuple(out)


_LETTERS = "abcdefghijklmnopqrstuvwxyz"


def _arranged(moment: np.ndarray, matching, formal: bool) -> np.ndarray:
    """The tensor T[slots] = E[prod over mu's pairs (p, q) of K_{slot_p slot_q}] from M_m (pairs in order)."""
    lead = "z" if formal else ""
    src = lead + "".join(_LETTERS[p] + _LETTERS[q] for p, q in matching)
    dst = lead + _LETTERS[: 2 * len(matching)]
    return np.einsum(f"{src}->{dst}", moment)


def _wishart_step(moments: dict, c_w: float, c_b: float, u, formal: bool, degree: int) -> dict:
    """M_m(l+1) for every m in ``moments`` from M_j(l), j <= m (Kh' = C_b + C_W W)."""
    p = moments[1].shape[-1]
    lead = 1 if formal else 0
    out = {}
    for m in moments:
        shape = ((degree + 1,) if formal else ()) + (p,) * (2 * m)
        total = np.zeros(shape)
        for size in range(m + 1):
            if size == 0:  # every factor is the constant C_b
                w = np.zeros(shape)
                w[0 if formal else ...] = 1.0
            else:  # E[W^(x)size]: the same for every choice of the factors that carry W
                w = 0.0
                for matching, comps in _matchings_with_components(size):
                    part = _arranged(moments[size], matching, formal)
                    w = w + _times(part, _poly_factor(u, size - comps, formal, degree), formal)
                w = np.expand_dims(w, tuple(range(w.ndim, w.ndim + 2 * (m - size))))
            for chosen in itertools.combinations(range(m), size):
                # put the chosen factors' slots in place; the others are the constant C_b
                order = [2 * i + e for i in chosen for e in (0, 1)]
                order += [2 * i + e for i in range(m) if i not in chosen for e in (0, 1)]
                placed = np.moveaxis(w, list(range(lead, lead + 2 * m)), [lead + o for o in order])
                total += c_b ** (m - size) * c_w**size * placed
        out[m] = total
    return out


def linear_kernel_moment_layers(x, c_w: float, c_b: float, inverse_widths, m_max: int = 3, *, formal: bool = False):
    """Yields, for l = 1 .. len(inverse_widths), M_m = E[Kh^(x)m] of the output layer's empirical kernel
    of the deep linear network with hidden widths 1/inverse_widths[:l], m <= m_max: {m: (P,)*2m}, or
    with a leading axis of coefficients in u (formal). One recursion gives every shallower depth."""
    x = np.atleast_2d(np.asarray(x, dtype=np.float64))
    u = np.asarray(inverse_widths, dtype=np.float64)
    if u.ndim != 1 or len(u) < 1 or np.any(u <= 0):
        raise ValueError(f"inverse_widths must be a non-empty list of positive 1/n_l, got {inverse_widths}")
    if c_w <= 0 or c_b < 0:
        raise ValueError(f"need C_W > 0 and C_b >= 0, got C_W={c_w}, C_b={c_b}")
    degree = len(u) * (m_max - 1)
    k1 = c_b + c_w * (x @ x.T) / x.shape[1]
    moments = {}
    for m in range(1, m_max + 1):
        tensor = k1
        for _ in range(m - 1):
            tensor = np.multiply.outer(tensor, k1)
        if formal:
            tensor = np.concatenate([tensor[None], np.zeros((degree,) + tensor.shape)])
        moments[m] = tensor
    for ul in u:
        moments = _wishart_step(moments, c_w, c_b, ul, formal, degree)
        yield moments


def linear_kernel_moments(x, c_w: float, c_b: float, inverse_widths, m_max: int = 3, *, formal: bool = False):
    """M_m = E[Kh^(x)m] of the output layer's empirical kernel of a deep linear network, m <= m_max:
    {m: (P,)*2m}, or with a leading axis of coefficients in u (formal)."""
    *_, last = linear_kernel_moment_layers(x, c_w, c_b, inverse_widths, m_max, formal=formal)
    return last


def _multiset_tensors(weights: np.ndarray, p: int, n: int) -> np.ndarray:
    """(k,) + (P,)*n: row i holds weights[i, t] at the sorted index tuple of multiset t, 0 elsewhere."""
    out = np.zeros((len(weights),) + (p,) * n)
    out[(slice(None),) + tuple(correlators.multisets(p, n).T)] = weights
    return out


def linear_estimator_stderr(moments: dict, n_networks: int, weights: dict) -> dict:
    """Exact standard deviation of sum_t w_t kappa_n(t) estimated by the Rao-Blackwell estimator from
    ``n_networks`` independent deep linear nets, for n = 2 (the 2-pt) and n = 4 (the connected 4-pt):
    ``weights`` {n: (k, T_n)} on ``multisets(P, n)`` -> {n: (k,)}; ``moments`` from
    ``linear_kernel_moments(..., m_max=4)`` (numeric).

    Per network the estimator averages E[f_a f_b | Kh] = Kh_ab and E[f_a f_b f_c f_d | Kh] = the three
    pairings of Kh, and kappa_4 = m_4 - (m_2 m_2 over the pairings). Delta method, exact at leading
    order in 1/N: Var = Var(psi(Kh)) / N with psi the estimator's influence function at the exact
    means mu = M_1, psi = q(Kh) - L:Kh, q(K) = sum_abcd B_abcd K_ab K_cd, B the weights spread over
    the pairings, L_cd = sum_ab (B_abcd + B_cdab) mu_ab. Var(psi) needs M_2 .. M_4.

    Why: a jackknife from B blocks is itself uncertain (Student t with B - 1 degrees of freedom, about
    1/sqrt(2 (B - 1)) relative), so at a fixed seed some cells' errors come out well below the truth.
    """
    if 4 in weights and 4 not in moments:
        raise ValueError("the 4-pt estimator's variance needs the kernel moments up to M_4 (m_max=4)")
    p = moments[1].shape[-1]
    mu = moments[1]
    out = {}
    for n, w in weights.items():
        w = np.atleast_2d(np.asarray(w, dtype=np.float64))
        if n == 2:
            s2 = _multiset_tensors(w, p, 2)
            mean = np.einsum("kab,ab->k", s2, mu)
            second = np.einsum("kab,kcd,abcd->k", s2, s2, moments[2], optimize=True)
        elif n == 4:
            s4 = _multiset_tensors(w, p, 4)
            b = s4 + s4.transpose(0, 1, 3, 2, 4) + s4.transpose(0, 1, 4, 2, 3)
            lin = np.einsum("kabcd,ab->kcd", b, mu) + np.einsum("kabcd,cd->kab", b, mu)
            mean = np.einsum("kabcd,abcd->k", b, moments[2]) - np.einsum("kab,ab->k", lin, mu)
            second = (np.einsum("kabcd,kefgh,abcdefgh->k", b, b, moments[4], optimize=True)
                      - 2 * np.einsum("kabcd,kef,abcdef->k", b, lin, moments[3], optimize=True)
                      + np.einsum("kab,kcd,abcd->k", lin, lin, moments[2], optimize=True))
        else:
            raise ValueError(f"deep-linear estimator variance of order {n}: only 2 and 4 are implemented")
        out[n] = np.sqrt(np.maximum(second - mean**2, 0.0) / n_networks)
    return out


def linear_correlators(x, c_w: float, c_b: float, inverse_widths, orders=(2, 4, 6), *, formal: bool = False):
    """Exact E[f_a1 ... f_an] of a deep linear network on ``multisets(P, n)``: the Wick sum of the
    output's kernel moments (f is Gaussian given the last hidden layer)."""
    moments = linear_kernel_moments(x, c_w, c_b, inverse_widths, max(orders) // 2, formal=formal)
    p = len(np.atleast_2d(x))
    out = {}
    for n in orders:
        t = correlators.multisets(p, n)
        total = 0.0
        for matching in correlators.perfect_matchings(n):
            index = tuple(t[:, s] for pair in matching for s in pair)
            total = total + (moments[n // 2][(slice(None),) + index] if formal else moments[n // 2][index])
        out[n] = total
    return out
