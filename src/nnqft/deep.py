"""Leading-order 1/n theory of deep networks (docs/physics.md sec. 10; PDLT chapter 4).

For depth L (hidden layers) with widths n_1..n_L, the pre-activations of layer l+1 are, given
layer l, Gaussian with the empirical kernel Kh(l+1) = C_b + (C_W/n_l) sum_i s(z_i) s(z_i)^T.
So the connected 4-pt of layer l+1 is the sum over the three pairings of
V^(l+1)_(ab)(cd) = Cov(Kh_ab, Kh_cd), and its 2-pt is E[Kh]. Expanding Kh(l) = K(l) + delta to
first order in every 1/n_l (``nnqft.deep`` works with these "hatted" quantities, which carry the
1/n factors: V = n Vhat and K^{1} = n K1hat for equal widths):

    Vhat(l+1)  = C_W^2 / n_l [<s_a s_b s_c s_d> - <s_a s_b><s_c s_d>] + C_W^2 J_ab Vhat(l) J_cd
    K1hat(l+1) = C_W [J_ab K1hat(l) + (1/2) Hess_ab : Vhat(l)]

where G_ab(K) = <s_a s_b>_K depends on K only through (K_aa, K_ab, K_bb), J_ab is its gradient
and Hess_ab its Hessian in those three entries. By Gaussian integration by parts (the heat
equation d<F>_K/dK_gg' = (1/2)<d_g d_g' F>, g != g' counted twice) these are PDLT's
(1/2) <d_g1 d_g2 (s_a s_b)> and (1/8) <d_g1..d_g4 (s_a s_b)> contractions.

How the Gaussian expectations are computed (``_PAIR_CLOSED`` and ``_four_point``):
closed forms for linear, ReLU (arc-cosine) and erf (arcsine) pair functions, differentiated
exactly (by hand: ReLU through cos t = rho, erf through the arcsine's argument); other activations
by 2-D Gauss-Hermite of derivative expectations (e.g. dG/dK_ab = <s'_a s'_b>, Price's theorem).
Four-point moments: Isserlis (linear), Price's theorem (erf, ``nnqft.exact``), the cone scheme or
the ray closed form (ReLU, ``nnqft.exact``), and Gauss-Hermite on the <= 4 inputs of each
multiset otherwise (one dimension lower on full-rank supports of 3-4 inputs: ``_smoothed_support``).
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

import jax
import jax.numpy as jnp
import numpy as np
from scipy.special import roots_hermitenorm

from nnqft import correlators, exact
from nnqft.activations import activation, require_h_alone, slot_covariance
from nnqft.networks import NetworkSpec

PAIR_NODES = 160  # 2-D Gauss-Hermite nodes per axis of the pair expectations (quadrature activations)
# Tensor Gauss-Hermite nodes per multiset support of the 4-pt moments (quadrature activations):
# 200 per axis on supports of rank <= 2, 40 on rank 3, 16 on rank 4.
SUPPORT_BUDGET = 2**16
MAX_AXIS_NODES = 200  # most nodes per axis of any tensor rule here
# Full-rank supports of 3 and 4 inputs are integrated one dimension lower (``_smoothed_support``):
# outer Gauss-Hermite nodes (64 per axis in 2-D, 32 in 3-D) and a 1-D rule for each smoothed
# power of the activation. Measured (docs/physics.md sec. 10): on full-rank 4-input supports of
# tanh and gelu the 16^4 rule leaves up to 4e-3 of the largest moment, the smoothed rule up to
# 3e-6 (both worst for tanh at variance 6, whose poles near the real axis limit every rule).
SMOOTHED_MIN_SUPPORT = 3
SMOOTHED_BUDGET = 2**15
SMOOTHED_AXIS_NODES = 64
INNER_NODES = 64
_TOL = 1e-10
# ReLU pair blocks with sin t below this are rank one: round-off leaves 1 - rho ~ 1e-16 on exactly
# parallel inputs, i.e. sin t ~ 1e-8, where the (infinite) Hessian would amplify it.
_RANK_ONE = 1e-6


@dataclass(frozen=True)
class Theory:
    """Per layer l = 1..L+1 (index l-1; the last one is the output f): the NNGP kernel K (P, P),
    Vhat (P, P, P, P) with Vhat[a,b,c,d] = Cov(Kh_ab, Kh_cd) to first order in 1/n, and K1hat (P, P)
    the first-order shift of E[Kh]. With every 1/n_l = 1 these are PDLT's V and K^{1}."""

    kernel: np.ndarray
    vertex: np.ndarray
    shift: np.ndarray

    def connected_four_point(self, layer: int, tuples) -> np.ndarray:
        """Leading connected 4-pt of layer ``layer`` (1-based) on index tuples (T, 4): the sum of
        Vhat over the three pairings."""
        v, t = self.vertex[layer - 1], np.asarray(tuples)
        a, b, c, d = t.T
        return v[a, b, c, d] + v[a, c, b, d] + v[a, d, b, c]


# ---------------------------------------------------------------- pair functions G(K_aa, K_ab, K_bb)
# Each closed form gives, for arrays of (kaa, kab, kbb) with kaa, kbb > 0 and a != b:
# G, its gradient (..., 3) and Hessian (..., 3, 3) in (K_aa, K_ab, K_bb); and for the diagonal
# (a = b, G = g(K_aa)): g, g', g''.


def _stack_hessian(haa, hab, hbb, h_aa_ab, h_bb_ab, h_aa_bb):
    return np.stack([np.stack([haa, h_aa_ab, h_aa_bb], -1), np.stack([h_aa_ab, hab, h_bb_ab], -1),
                     np.stack([h_aa_bb, h_bb_ab, hbb], -1)], axis=-2)


def _erf_pair(kaa, kab, kbb):
    """(2/pi) arcsin(u), u = 2 K_ab / sqrt(A B), A = 1 + 2 K_aa, B = 1 + 2 K_bb, by the chain rule."""
    kaa, kab, kbb = (np.asarray(v, dtype=np.float64) for v in (kaa, kab, kbb))
    a, b = 1 + 2 * kaa, 1 + 2 * kbb
    u = 2 * kab / np.sqrt(a * b)
    du = np.stack([-u / a, 2 / np.sqrt(a * b), -u / b], axis=-1)
    ddu = _stack_hessian(3 * u / a**2, np.zeros_like(u), 3 * u / b**2, -du[..., 1] / a, -du[..., 1] / b, u / (a * b))
    c, root = 2 / np.pi, np.sqrt(1 - u**2)
    grad = c * du / root[..., None]
    hess = c * (ddu / root[..., None, None] + (u / root**3)[..., None, None] * du[..., :, None] * du[..., None, :])
    return c * np.arcsin(u), grad, hess


def _erf_diag(k):
    k = np.asarray(k, dtype=np.float64)
    v, d1, d2 = 2 * k / (1 + 2 * k), 2 / (1 + 2 * k) ** 2, -8 / (1 + 2 * k) ** 3
    c, root = 2 / np.pi, np.sqrt(1 - v**2)
    return c * np.arcsin(v), c * d1 / root, c * (d2 / root + v * d1**2 / root**3)


def _linear_pair(kaa, kab, kbb):
    shape = np.shape(kab)
    grad = np.zeros(shape + (3,))
    grad[..., 1] = 1.0
    return np.asarray(kab, dtype=np.float64), grad, np.zeros(shape + (3, 3))


def _linear_diag(k):
    k = np.asarray(k, dtype=np.float64)
    return k, np.ones_like(k), np.zeros_like(k)


def _relu_pair(kaa, kab, kbb):
    """Arc-cosine pair function: dG/dK_ab = <s'_a s'_b> = (pi - t)/(2 pi), dG/dK_aa =
    (1/2)<delta(z_a) relu(z_b)> = sqrt(K_bb/K_aa) sin t / (4 pi); the Hessian by the chain rule
    through rho = cos t. On a rank-one block (sin t = 0) the Hessian is infinite: NaN here, handled
    by ``_hessian_term``."""
    kaa, kab, kbb = (np.asarray(v, dtype=np.float64) for v in (kaa, kab, kbb))
    norm = np.sqrt(kaa * kbb)
    rho = np.clip(kab / norm, -1.0, 1.0)
    t, sin_t = np.arccos(rho), np.sqrt(1 - rho**2)
    value = norm * (sin_t + (np.pi - t) * rho) / (2 * np.pi)
    ra, rb = np.sqrt(kbb / kaa), np.sqrt(kaa / kbb)
    grad = np.stack([ra * sin_t / (4 * np.pi), (np.pi - t) / (2 * np.pi), rb * sin_t / (4 * np.pi)], axis=-1)
    drho = np.stack([-rho / (2 * kaa), 1 / norm, -rho / (2 * kbb)], axis=-1)
    with np.errstate(divide="ignore", invalid="ignore"):
        dsin = -rho[..., None] * drho / sin_t[..., None]  # d sin t / d (K_aa, K_ab, K_bb)
        h_ab = drho / (2 * np.pi * sin_t[..., None])  # d/dK of (pi - t)/(2 pi), t' = -rho'/sin t
        h_aa = (np.stack([-ra * sin_t / (2 * kaa), np.zeros_like(t), ra * sin_t / (2 * kbb)], -1)
                + ra[..., None] * dsin) / (4 * np.pi)
        h_bb = (np.stack([rb * sin_t / (2 * kaa), np.zeros_like(t), -rb * sin_t / (2 * kbb)], -1)
                + rb[..., None] * dsin) / (4 * np.pi)
    hess = np.stack([h_aa, h_ab, h_bb], axis=-2)
    hess[sin_t < _RANK_ONE] = np.nan
    return value, grad, hess


def _relu_diag(k):
    k = np.asarray(k, dtype=np.float64)
    return 0.5 * k, np.full_like(k, 0.5), np.zeros_like(k)


# Activations whose pair function has a closed form (differentiated exactly); the others use quadrature.
_PAIR_CLOSED = {
    "linear": (_linear_pair, _linear_diag),
    "relu": (_relu_pair, _relu_diag),
    "erf": (_erf_pair, _erf_diag),
}


@functools.lru_cache(maxsize=None)
def _derivatives(name: str):
    """s, s', s'', s''', s'''' of an activation as one vectorised function (JAX autodiff)."""
    h = activation(name).h
    fns = [lambda z: h(z, 0.0)]
    for _ in range(4):
        fns.append(jax.grad(fns[-1]))
    vec = [jax.jit(jax.vmap(f)) for f in fns]
    return lambda z: [np.asarray(f(jnp.ravel(jnp.asarray(z)))).reshape(np.shape(z)) for f in vec]


@functools.lru_cache(maxsize=None)
def _hermite_rule(n: int):
    """Gauss-Hermite nodes and weights of the standard normal (cached: scipy's large-n roots cost ~0.3 s)."""
    t, w = roots_hermitenorm(n)
    return t, w / np.sqrt(2 * np.pi)


def _quadrature_pair(name: str, n: int = PAIR_NODES):
    """G, gradient, Hessian from 2-D Gauss-Hermite expectations of derivatives (Price's theorem):
    dG/dK_ab = <s'_a s'_b>, dG/dK_aa = <s''_a s_b>/2, d2G/dK_ab^2 = <s''_a s''_b>,
    d2G/dK_aa dK_ab = <s'''_a s'_b>/2, d2G/dK_aa^2 = <s''''_a s_b>/4, d2G/dK_aa dK_bb = <s''_a s''_b>/4."""
    deriv = _derivatives(name)
    t, w = _hermite_rule(n)

    def pair(kaa, kab, kbb):
        kaa, kab, kbb = (np.atleast_1d(np.asarray(v, dtype=np.float64)) for v in (kaa, kab, kbb))
        a = np.sqrt(kaa)
        c = kab / a
        d = np.sqrt(np.maximum(kbb - c**2, 0.0))
        zb = c[:, None, None] * t[None, :, None] + d[:, None, None] * t[None, None, :]
        za = np.broadcast_to(a[:, None, None] * t[None, :, None], zb.shape)
        ww = np.outer(w, w)
        sa, sb = deriv(za), deriv(zb)

        def e(i, j):
            return np.einsum("kuv,uv->k", sa[i] * sb[j], ww)

        value = e(0, 0)
        grad = np.stack([e(2, 0) / 2, e(1, 1), e(0, 2) / 2], axis=-1)
        haa, hbb, hab = e(4, 0) / 4, e(0, 4) / 4, e(2, 2)
        h_aa_ab, h_bb_ab, h_aa_bb = e(3, 1) / 2, e(1, 3) / 2, e(2, 2) / 4
        hess = _stack_hessian(haa, hab, hbb, h_aa_ab, h_bb_ab, h_aa_bb)
        return value, grad, hess

    def diag(k):
        k = np.atleast_1d(np.asarray(k, dtype=np.float64))
        s = deriv(np.sqrt(k)[:, None] * t[None, :])
        g = (s[0] ** 2) @ w
        g1 = (s[1] ** 2 + s[0] * s[2]) @ w
        g2 = (2 * s[0] * s[4] + 8 * s[1] * s[3] + 6 * s[2] ** 2) @ w / 4
        return g, g1, g2

    return pair, diag


def pair_functions(name: str, n: int = PAIR_NODES):
    """(pair, diag) functions of an activation (closed form where one exists, else quadrature)."""
    require_h_alone(name, "deep networks")
    return _PAIR_CLOSED.get(name) or _quadrature_pair(name, n)


# ---------------------------------------------------------------- four-point moments


def _factor(k: np.ndarray) -> np.ndarray:
    """L (P, m) with L L^T = k and m = rank k (eigen-decomposition: k may be singular)."""
    lam, u = np.linalg.eigh(k)
    keep = lam > _TOL * max(lam.max(), 1e-300)
    return u[:, keep] * np.sqrt(lam[keep])


def _tensor_rule(m: int, budget: int, max_axis: int = MAX_AXIS_NODES):
    """Tensor Gauss-Hermite nodes (J, m) and weights (J,) of the standard normal in m dimensions."""
    t, w = _hermite_rule(min(max_axis, max(2, int(budget ** (1 / m)))))
    grid = np.stack(np.meshgrid(*([t] * m), indexing="ij"), -1).reshape(-1, m)
    weight = np.prod(np.stack(np.meshgrid(*([w] * m), indexing="ij"), -1).reshape(-1, m), axis=1)
    return grid, weight


def _smoothed_support(h, ks: np.ndarray, max_power: int):
    """Nodes of E[prod_i h(z_i)^p_i], z ~ N(0, ks) full rank, one dimension lower: with lam the
    least eigenvalue of the correlation matrix and delta_i = lam ks_ii, z = w + e with
    w ~ N(0, ks - diag(delta)) (singular: rank r - 1) and independent e_i ~ N(0, delta_i), so
    E[prod h(z_i)^p_i] = E_w[prod g_ip(w_i)], g_ip(u) = E[h(u + sqrt(delta_i) t)^p], t ~ N(0, 1):
    every factor is Gaussian-smoothed (an entire function even where h has poles near the real
    axis, as tanh) and the tensor rule runs in r - 1 dimensions. Returns (g (J, r, max_power + 1)
    with g[..., 0] = 1, weights (J,))."""
    d = np.diag(ks)
    lam = max(np.linalg.eigvalsh(ks / np.sqrt(np.outer(d, d)))[0], 0.0)
    delta = lam * d
    l = _factor(ks - np.diag(delta))
    grid, weight = _tensor_rule(l.shape[1], SMOOTHED_BUDGET, SMOOTHED_AXIS_NODES)
    t, w = _hermite_rule(INNER_NODES)
    u = grid @ l.T
    hu = [np.asarray(h(u[:, i, None] + np.sqrt(delta[i]) * t, 0.0), dtype=np.float64) for i in range(len(ks))]
    g = np.stack([np.stack([hi**p @ w for p in range(max_power + 1)], axis=-1) for hi in hu], axis=1)
    return g, weight


def _support_hermite(name: str, k: np.ndarray, tuples: np.ndarray, budget: int = SUPPORT_BUDGET) -> np.ndarray:
    """E[prod_s h(z_{a_s})] on each multiset's support: full-rank supports of >= 3 inputs by the
    smoothed rule one dimension lower (``_smoothed_support``), the others by tensor Gauss-Hermite
    on their rank."""
    h = activation(name).h
    out = np.empty(len(tuples))
    supports = [tuple(sorted(set(t))) for t in tuples.tolist()]
    for support in sorted(set(supports)):
        ks = k[np.ix_(support, support)]
        l = _factor(ks)
        rows = [i for i, s in enumerate(supports) if s == support]
        if SMOOTHED_MIN_SUPPORT <= len(support) == l.shape[1]:
            g, weight = _smoothed_support(h, ks, tuples.shape[1])
            # a repeated input shares its smoothing noise: its factor is the smoothed power g_ip
            counts = np.array([[list(tuples[row]).count(a) for a in support] for row in rows])  # (R, |support|)
            out[rows] = weight @ np.prod(g[:, np.arange(len(support)), counts], axis=2)
            continue
        grid, weight = _tensor_rule(l.shape[1], budget)
        hz = np.asarray(h(grid @ l.T, 0.0), dtype=np.float64)  # (J, |support|)
        col = {a: i for i, a in enumerate(support)}
        cols = np.array([[col[a] for a in tuples[row]] for row in rows])  # (R, order)
        out[rows] = weight @ np.prod(hz[:, cols], axis=2)
    return out


def _four_point(name: str, k: np.ndarray, tuples: np.ndarray) -> np.ndarray:
    """<s_a s_b s_c s_d>_K on the multisets (T, 4)."""
    if name == "linear":
        return correlators.gaussian_moments(k, tuples)
    scheme = activation(name).moments
    if scheme.closed is None and scheme.quadrature == "hermite":
        return _support_hermite(name, k, tuples)
    if scheme.quadrature == "price":  # erf: Price's theorem directly on the slot covariances
        return exact._erf_price_chunked(slot_covariance(k, tuples), exact.DEFAULT_RESOLUTION["price"])
    # Pseudo-inputs whose first-layer pre-activation covariance is k: sb = 0, sw = 1, x = sqrt(m) L.
    l = _factor(k)
    m = l.shape[1]
    return exact.neuron_moments(NetworkSpec(name, m, sw=1.0, sb=0.0), np.sqrt(m) * l, orders=(4,))[4]


# ---------------------------------------------------------------- the recursion


@functools.lru_cache(maxsize=None)
def _index_maps(p: int):
    pairs = correlators.multisets(p, 2)
    coords = np.stack([pairs[:, 0] * p + pairs[:, 0], pairs[:, 0] * p + pairs[:, 1],
                       pairs[:, 1] * p + pairs[:, 1]], axis=1)  # flat (aa, ab, bb) per pair
    pos2 = correlators.symmetric_matrix(np.arange(len(pairs)), p)
    t4 = correlators.multisets(p, 4)
    full4 = np.array(np.unravel_index(np.arange(p**4), (p,) * 4)).T
    pos4 = correlators.multiset_position(p, full4).reshape((p,) * 4)
    return pairs, coords, pos2, t4, pos4


def _pair_derivatives(name: str, k: np.ndarray, pairs: np.ndarray):
    """G, gradient (npairs, 3), Hessian (npairs, 3, 3) on every pair a <= b of the kernel k."""
    pair, diag = pair_functions(name)
    a, b = pairs.T
    value, grad, hess = np.zeros(len(pairs)), np.zeros((len(pairs), 3)), np.zeros((len(pairs), 3, 3))
    off, on = a != b, a == b
    if off.any():
        value[off], grad[off], hess[off] = pair(k[a[off], a[off]], k[a[off], b[off]], k[b[off], b[off]])
    if on.any():
        g, g1, g2 = diag(k[a[on], a[on]])
        value[on], grad[on, 0], hess[on, 0, 0] = g, g1, g2
    return value, grad, hess


def _hessian_term(k: np.ndarray, hess: np.ndarray, coords: np.ndarray, vflat: np.ndarray) -> np.ndarray:
    """(1/2) Hess_ab : Vhat on each pair. A pair block of rank one (ReLU on parallel inputs) has an
    infinite Hessian; there G is homogeneous of degree one, so its second derivative along the
    block's own direction vanishes, which is the whole term when Vhat's block is proportional to
    k_block k_block^T (asserted)."""
    block = vflat[coords[:, :, None], coords[:, None, :]]  # (npairs, 3, 3)
    bad = ~np.all(np.isfinite(hess), axis=(1, 2))
    out = 0.5 * np.einsum("kpq,kpq->k", np.where(bad[:, None, None], 0.0, hess), block)
    for i in np.flatnonzero(bad):
        kb = k.ravel()[coords[i]]
        along = np.outer(kb, kb) * (kb @ block[i] @ kb) / (kb @ kb) ** 2
        if not np.allclose(block[i], along, rtol=1e-8, atol=1e-12 * max(np.abs(block[i]).max(), 1e-300)):
            raise ValueError(f"rank-one pair block {coords[i]} with a vertex not along the kernel: "
                             "the ReLU Hessian term is undefined")
    return out


def theory(x, name: str, c_w: float, c_b: float, depth: int, inv_widths=None) -> Theory:
    """K, Vhat and K1hat of layers 1..depth+1 for inputs x (P, d_in).

    ``inv_widths``: 1/n_l for l = 1..depth (default all ones: PDLT's coefficients V and K^{1}).
    """
    x = np.atleast_2d(np.asarray(x, dtype=np.float64))
    if depth < 1:
        raise ValueError(f"depth must be >= 1, got {depth}")
    if c_w <= 0 or c_b < 0:
        raise ValueError(f"need C_W > 0 and C_b >= 0, got C_W={c_w}, C_b={c_b}")
    inv = np.ones(depth) if inv_widths is None else np.asarray(inv_widths, dtype=np.float64)
    if inv.shape != (depth,):
        raise ValueError(f"inv_widths needs {depth} entries (one per hidden layer), got {inv.shape}")
    p = len(x)
    pairs, coords, pos2, t4, pos4 = _index_maps(p)
    k = c_b + c_w * (x @ x.T) / x.shape[1]
    if np.any(np.diag(k) <= 0):
        raise ValueError(f"inputs {np.flatnonzero(np.diag(k) <= 0).tolist()} have zero pre-activation variance "
                         f"(x = 0 with C_b = 0): the pair functions are undefined there")
    vflat, k1 = np.zeros((p * p, p * p)), np.zeros(p * p)
    ks, vs, k1s = [k], [vflat.reshape((p,) * 4)], [k1.reshape(p, p)]
    for layer in range(depth):
        value, grad, hess = _pair_derivatives(name, k, pairs)
        jm = np.zeros((len(pairs), p * p))
        np.add.at(jm, (np.arange(len(pairs))[:, None].repeat(3, 1), coords), grad)
        m4 = _four_point(name, k, t4)[pos4]  # (P, P, P, P)
        g = value[pos2]
        intra = m4 - g[:, :, None, None] * g[None, None, :, :]
        k1_pairs = c_w * (jm @ k1 + _hessian_term(k, hess, coords, vflat))
        v_pairs = c_w**2 * (jm @ vflat @ jm.T)
        vflat = (inv[layer] * c_w**2 * intra).reshape(p * p, p * p) + v_pairs[pos2.ravel()][:, pos2.ravel()]
        k1 = k1_pairs[pos2.ravel()]
        k = c_b + c_w * g
        ks.append(k)
        vs.append(vflat.reshape((p,) * 4))
        k1s.append(k1.reshape(p, p))
    return Theory(np.stack(ks), np.stack(vs), np.stack(k1s))


def nngp_kernels(x, name: str, c_w: float, c_b: float, depth: int) -> np.ndarray:
    """K(l) of layers 1..depth+1, shape (depth+1, P, P), without the 1/n terms."""
    x = np.atleast_2d(np.asarray(x, dtype=np.float64))
    pairs, _, pos2, _, _ = _index_maps(len(x))
    k = c_b + c_w * (x @ x.T) / x.shape[1]
    out = [k]
    for _ in range(depth):
        value, _, _ = _pair_derivatives(name, k, pairs)
        k = c_b + c_w * value[pos2]
        out.append(k)
    return np.stack(out)

