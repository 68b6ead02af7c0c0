"""Feynman-rule integrals of P1's Wilsonian EFT over the cutoff box (docs/physics.md sec. 4-6).

To first order in the couplings of ``S = S_GP + int d^d y [lambda(y) f^4 + kappa f^6]`` (plus
P1's non-local ``lambda_NL int int f(y)^2 f(z)^2``), every diagram is a product of external
2-pt functions and one of these box integrals, ``B = [-Lambda, Lambda]^d_in``::

    I4[t]    = int_B prod_{i=1..4} P(x_{t_i}, y) dy           local lambda vertex
    I4_y2[t] = int_B |y|^2 prod_{i=1..4} P(x_{t_i}, y) dy     lambda_2 y^2 vertex
    J[a, b]  = int_B P(x_a, y) P(x_b, y) dy                   non-local vertex (it factorises:
               int int P(x_a,y) P(x_b,y) P(x_c,z) P(x_d,z) dy dz = J_ab J_cd)
    K4[t]    = int_B P(y, y) prod_{i=1..4} P(x_{t_i}, y) dy   kappa vertex of G4 (self-contraction)
    I6[t]    = int_B prod_{i=1..6} P(x_{t_i}, y) dy           kappa vertex of G6

on the index multisets t of ``correlators.multisets``. The propagator P inside the integrals is a
recorded option: ``"K-sb2"`` (P1's code: K - sb^2, since the output bias is an independent
Gaussian and cannot contribute to connected correlators) or ``"K"``.

How an activation's propagator behaves (growth or Gaussian decay, length scale, kinks, the
Gauss-Legendre resolution) is its registry entry's ``propagator`` (``nnqft.activations``); only
activations with a closed-form kernel have box integrals (``Activation.box_integrals``).

Quadrature (``box_rule``): the box of the largest cutoff is cut into nested square shells whose
radii are every cutoff plus, for growing or bounded propagators (Erf, ReLU), a geometric sequence (ratio <= 2) starting at the
kernel's own length scale (ReLU with sb = 0 has none: its kernel is homogeneous, so the shells
grade down to 1e-3 of the smallest cutoff). Each shell between radii s < r is the product of the
per-axis intervals {[-r,-s], [-s,0], [0,s], [s,r]} minus the inner box, so 0 (ReLU's kink) and
every cutoff are cell faces. A cell is bisected until its side is at most ``eta`` times the local
length: max(scale, distance to the origin) for Erf/ReLU (ReLU, d_in >= 2: ``kink_depth`` more
bisections where a cell touches the rays y || +-x_i on which K is only C^2), the propagator width
sqrt(d_in)/sw for decaying propagators (Gauss-net, sin) inside their decay radius (uniform cells,
no grading needed). Each cell
gets a tensor Gauss-Legendre rule and the index of the smallest cutoff whose box contains it, so
one pass over the cells of the largest box gives every nested cutoff by cumulative sums. Memory
stays bounded: nodes are generated and used in chunks of whole cells (``max_nodes``).

Every integral over the multisets is done as dense matrix products per cutoff shell:
``I4 = [(P2 w) P2^T]`` gathered at (pair(ab), pair(cd)), ``I6 = [(P3 w) P3^T]`` at
(triple(abc), triple(def)), with ``P2``/``P3`` the propagator products over the 2-/3-multisets.

``np.inf`` is a valid cutoff only where the integral converges: a propagator that decays as a
Gaussian (Gauss-net, sin), K - sb^2 or K with sb = 0. There the grid stops at the radius
where the integrand's tail is below 1e-16 relative (``decay_radius``). Anything else raises.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from itertools import combinations
from typing import Iterator

import numpy as np
import xarray as xr

from nnqft import correlators, kernels, networks
from nnqft.activations import Resolution
from nnqft.networks import NetworkSpec

from threadpoolctl import threadpool_limits

PROPAGATORS = ("K-sb2", "K")
ORDERS = (4, 6)
# Tail of the slowest-decaying Gauss-net integrand (a product of two propagators,
# exp(-c |y - xbar|^2), c = sw^2/d_in) beyond xbar + T_SIGMA / sqrt(c) per axis: erfc(6.5)/2 ~ 2e-20.
T_SIGMA = 6.5


# --------------------------------------------------------------------------- propagators


def _check_kind(kind: str) -> None:
    if kind not in PROPAGATORS:
        raise ValueError(f"unknown propagator {kind!r}; valid: {list(PROPAGATORS)}")


def propagator(spec: NetworkSpec, x, y, kind: str = "K-sb2") -> np.ndarray:
    """P(x_a, y_m) = K(x_a, y_m) - sb^2 (``kind="K-sb2"``) or K(x_a, y_m) (``"K"``), shape (P, M)."""
    return _propagator_matrix(spec, x, y, kind)


def _propagator_matrix(spec: NetworkSpec, x, y, kind: str) -> np.ndarray:
    # the implementation of ``propagator``: callers with a keyword named ``propagator`` use this
    _check_kind(kind)
    out = spec.sw**2 * kernels.hidden_covariance(spec, x, y)
    return out + spec.sb**2 if kind == "K" else out


def propagator_diagonal(spec: NetworkSpec, y, kind: str = "K-sb2") -> np.ndarray:
    """P(y_m, y_m) (the self-contraction of the kappa f^6 vertex), shape (M,)."""
    _check_kind(kind)
    out = spec.sw**2 * kernels.hidden_variance(spec, y)
    return out + spec.sb**2 if kind == "K" else out


# --------------------------------------------------------------------------- the quadrature rule


def decay_radius(spec: NetworkSpec, x, kind: str = "K-sb2") -> float:
    """Half-width (sup norm) beyond which the box integrals have converged to 1e-16, or inf.

    Finite only for activations whose propagator decays as a Gaussian (registry: growth None;
    Gauss-net, sin) with K - sb^2, or K with sb = 0: ``max_i |x_i| + 6.5 / sqrt(c)``,
    c = sw^2 / d_in, where the slowest integrand, P(x_a, y) P(x_b, y) <~ exp(-c |y - xbar|^2)
    (|xbar| <= max_i |x_i|), has a relative tail erfc(6.5)/2 ~ 2e-20 per axis (the |y|^2 weight of
    I4_y2 multiplies it by < 1e3).
    """
    _check_kind(kind)
    if not _decays(spec) or (kind == "K" and spec.sb != 0):
        return np.inf
    c = spec.sw**2 / spec.d_in
    x = np.atleast_2d(np.asarray(x, dtype=np.float64))
    return float(np.max(np.linalg.norm(x, axis=1), initial=0.0) + T_SIGMA / np.sqrt(c))


# Each activation's box rule (``Resolution``) is its registry entry's ``propagator.resolution``.
# Those of P1's activations were tuned against a much finer rule of the same kind and against
# scipy's adaptive quadrature (tests/test_feynman.py) on P1's inputs, d_in = 1, 2, 3, cutoffs 0.5
# to 1e5 including the worst case where the cells are as large as the criterion allows. Errors
# relative to each entry (or to 1e-9 x the largest entry for entries that cancel by symmetry): Erf
# <= 5e-12, ReLU (sb = 0) <= 7e-9 (its C^2 rays, d_in >= 2, limit the rate: two extra bisections
# along them, 1e-15 in d_in = 1), Gauss <= 1e-13.


def _propagator_of(spec: NetworkSpec):
    """The registry's description of the propagator; raises where the box integrals are infeasible."""
    entry = networks.activation(spec.activation)
    if not entry.box_integrals:
        feasible = [n for n, a in networks.ACTIVATIONS.items() if a.box_integrals]
        raise ValueError(
            f"activation {spec.activation!r} has no closed-form kernel, so its Feynman box integrals are not "
            f"computed: Gauss-Hermite of the propagator at |y| >> 1 converges only algebraically (see "
            f"nnqft.activations.Activation.box_integrals); feasible: {feasible}"
        )
    return entry.propagator


def _decays(spec: NetworkSpec) -> bool:
    return _propagator_of(spec).growth is None


def _length_scale(spec: NetworkSpec) -> float:
    """The kernel's own length in y (registry), 0 for the scale-free ReLU with sb = 0."""
    return _propagator_of(spec).length_scale(spec.d_in, spec.sw, spec.sb)


@dataclass(frozen=True)
class BoxRule:
    """Tensor Gauss-Legendre cells of the nested boxes [-L_k, L_k]^d for sorted cutoffs L_k.

    ``lo``/``hi`` (cells, d) are the cell corners, ``level`` (cells,) the index k of the smallest
    cutoff whose box contains the cell (non-decreasing), so the integral over box k is the sum
    over cells with level <= k. Cells beyond ``truncation`` (if finite) are left out.
    """

    cutoffs: np.ndarray
    lo: np.ndarray
    hi: np.ndarray
    level: np.ndarray
    order: int
    truncation: float

    @property
    def d_in(self) -> int:
        return self.lo.shape[1]

    @property
    def n_nodes(self) -> int:
        return len(self.lo) * self.order**self.d_in

    def chunks(self, max_nodes: int = 2**15) -> Iterator[tuple[np.ndarray, np.ndarray, np.ndarray]]:
        """Yield (y (m, d), w (m,), level (m,)) over whole cells, at most ``max_nodes`` per chunk
        (at least one cell); levels are non-decreasing within and across chunks."""
        d, n = self.d_in, self.order
        t, wt = np.polynomial.legendre.leggauss(n)
        per_cell = n**d
        step = max(1, max_nodes // per_cell)
        for start in range(0, len(self.lo), step):
            lo, hi = self.lo[start : start + step], self.hi[start : start + step]
            mid, half = 0.5 * (lo + hi), 0.5 * (hi - lo)
            c = len(lo)
            y = np.empty((c,) + (n,) * d + (d,))
            w = np.broadcast_to(np.prod(half, axis=1).reshape((c,) + (1,) * d), (c,) + (n,) * d).copy()
            for k in range(d):
                shape = [c] + [1] * d
                shape[1 + k] = n
                y[..., k] = (mid[:, k, None] + half[:, k, None] * t).reshape(shape)
                w *= wt.reshape([1] * (1 + k) + [n] + [1] * (d - 1 - k))
            yield y.reshape(-1, d), w.reshape(-1), np.repeat(self.level[start : start + step], per_cell)


def _validate_cutoffs(spec: NetworkSpec, x, cutoffs, kind: str) -> np.ndarray:
    cut = np.asarray(cutoffs, dtype=np.float64).reshape(-1)
    if cut.size == 0:
        raise ValueError("need at least one cutoff")
    if np.any(np.isnan(cut)) or np.any(cut <= 0):
        raise ValueError(f"cutoffs must be positive (np.inf where allowed), got {cut.tolist()}")
    if np.any(np.diff(cut) <= 0):
        raise ValueError(f"cutoffs must be strictly increasing, got {cut.tolist()}")
    if np.isinf(cut[-1]) and not np.isfinite(decay_radius(spec, x, kind)):
        raise ValueError(
            f"cutoff inf: the box integrals diverge for activation {spec.activation!r} with "
            f"propagator {kind!r} (sb = {spec.sb}); np.inf is allowed only for "
            f"{[n for n, a in networks.ACTIVATIONS.items() if a.box_integrals and a.propagator.growth is None]} "
            f"with 'K-sb2' (or 'K' with sb = 0), whose propagators decay as a Gaussian"
        )
    return cut


def _kink_set(spec: NetworkSpec, x):
    """Where the ReLU kernel K(x_i, y) is only C^2 (d_in >= 2): (points, directions) or None.

    K depends on the angle t between the augmented vectors (sb, sw x/sqrt(d)) and (sb, sw y/sqrt(d))
    through sin t + (pi - t) cos t, which has a t^3 (resp. (pi - t)^3) term: non-smooth where the
    vectors are parallel. With sb = 0 these are the rays y = s x_i and y = -s x_i (s > 0; for
    d_in = 1 the half-lines, where K is a polynomial: none); with sb > 0 the points y = x_i (for
    d_in = 1 also made cell faces). The origin (sb = 0) is a grading centre already.
    """
    if not _propagator_of(spec).kinks or spec.d_in == 1:
        return None
    x = x[np.linalg.norm(x, axis=1) > 0]
    if spec.sb > 0:
        return x, None
    u = x / np.linalg.norm(x, axis=1, keepdims=True)
    return np.zeros_like(u[:0]), np.concatenate([u, -u])


def _touches(lo, hi, points, directions) -> np.ndarray:
    """Cells whose circumscribed ball meets one of the points or rays {s u, s >= 0}."""
    c, h = 0.5 * (lo + hi), 0.5 * np.linalg.norm(hi - lo, axis=1)
    near = np.zeros(len(lo), dtype=bool)
    if len(points):
        near |= np.any(np.linalg.norm(c[:, None, :] - points[None], axis=2) <= h[:, None], axis=1)
    if directions is not None and len(directions):
        proj = np.maximum(c @ directions.T, 0.0)  # (cells, rays)
        dist2 = np.sum(c * c, axis=1)[:, None] - proj**2
        near |= np.any(dist2 <= (h * h)[:, None], axis=1)
    return near


def _shell_cells(radii: np.ndarray, d: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Cells of the core box [-r_0, r_0]^d (2^d orthants) and of each square shell r_{j-1} < |y|_inf <= r_j.

    Returns lo, hi (cells, d) and the shell index (cells,) of each cell.
    """
    los, his, shells = [], [], []
    core = np.array([[-1.0, 0.0], [0.0, 1.0]]) * radii[0]
    grids = np.stack(np.meshgrid(*[np.arange(2)] * d, indexing="ij"), -1).reshape(-1, d)
    los.append(core[grids, 0])
    his.append(core[grids, 1])
    shells.append(np.zeros(len(grids), dtype=np.int64))
    grids = np.stack(np.meshgrid(*[np.arange(4)] * d, indexing="ij"), -1).reshape(-1, d)
    outer = np.any((grids == 0) | (grids == 3), axis=1)  # drop the 2^d cells of the inner box
    grids = grids[outer]
    for j in range(1, len(radii)):
        s, r = radii[j - 1], radii[j]
        iv = np.array([[-r, -s], [-s, 0.0], [0.0, s], [s, r]])
        los.append(iv[grids, 0])
        his.append(iv[grids, 1])
        shells.append(np.full(len(grids), j, dtype=np.int64))
    return np.concatenate(los), np.concatenate(his), np.concatenate(shells)


def _refine(lo, hi, tags, target) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Bisect cells along every axis longer than ``target(lo, hi)`` until none is."""
    lo, hi, tags = lo.copy(), hi.copy(), tags.copy()
    done_lo, done_hi, done_tags = [], [], []
    for _ in range(64):
        need = (hi - lo) > target(lo, hi)[:, None] * (1 + 1e-9)
        ok = ~need.any(axis=1)
        done_lo.append(lo[ok]), done_hi.append(hi[ok]), done_tags.append(tags[ok])
        lo, hi, tags, need = lo[~ok], hi[~ok], tags[~ok], need[~ok]
        if not len(lo):
            break
        for k in range(lo.shape[1]):
            m = need[:, k]
            mid = 0.5 * (lo[m, k] + hi[m, k])
            right_lo = lo[m].copy()
            right_lo[:, k] = mid
            right_hi, right_tags, right_need = hi[m].copy(), tags[m], need[m]
            hi[np.flatnonzero(m), k] = mid
            lo, hi = np.concatenate([lo, right_lo]), np.concatenate([hi, right_hi])
            tags, need = np.concatenate([tags, right_tags]), np.concatenate([need, right_need])
    else:
        raise RuntimeError("cell refinement did not terminate")
    return np.concatenate(done_lo), np.concatenate(done_hi), np.concatenate(done_tags)


def box_rule(spec: NetworkSpec, x, cutoffs, *, propagator: str = "K-sb2",
             resolution: Resolution | None = None, ratio: float = 2.0) -> BoxRule:
    """The nested-box quadrature rule for strictly increasing ``cutoffs`` (see the module docstring).

    Shell radii: every cutoff, the decay radius (decaying propagators) and a geometric sequence of ``ratio``
    from the kernel length scale (ReLU with sb = 0: from 1e-3 x the smallest cutoff) to the
    largest finite radius. Cells are bisected until side <= eta x local length, the local length
    being max(scale, min |y| over the cell) (Erf, ReLU; for ReLU with sb = 0 additionally no
    smaller than 1e-3 x the smallest cutoff) or the Gauss width sqrt(d)/sw inside the decay radius
    (decaying propagators: Gauss-net, sin).
    """
    _check_kind(propagator)
    x = np.atleast_2d(np.asarray(x, dtype=np.float64))
    if x.shape[1] != spec.d_in:
        raise ValueError(f"inputs have {x.shape[1]} coordinates, spec.d_in = {spec.d_in}")
    cut = _validate_cutoffs(spec, x, cutoffs, propagator)
    res = resolution or _propagator_of(spec).resolution
    d = spec.d_in
    trunc = decay_radius(spec, x, propagator)
    r_max = min(cut[-1], trunc)
    scale = _length_scale(spec)
    decays = _decays(spec)
    floor = 1e-3 * min(cut[0], r_max) if scale == 0 else 0.0
    start = min(scale if scale > 0 else floor, r_max)
    n_geo = int(np.ceil(np.log(r_max / start) / np.log(ratio))) if r_max > start else 0
    # A decaying propagator needs no grading: its cells are uniform (side <= eta x width) out to
    # the decay radius, and beyond it (propagator K) the integrand is constant.
    geometric = [] if decays else start * ratio ** np.arange(n_geo + 1)
    radii = [geometric, cut[cut <= r_max], [r_max]]
    if _propagator_of(spec).kinks and d == 1 and spec.sb > 0:  # K(x, y) is C^2 at y = x
        radii.append(np.abs(x[:, 0]))
    if decays:  # the Gaussian part needs resolving out to where it has decayed (sqrt(2) further
        # for K, whose terms include single propagators exp(-c |y - x|^2 / 2))
        resolve = decay_radius(spec, x, "K-sb2") * (1.0 if np.isfinite(trunc) else np.sqrt(2))
        radii.append([min(resolve, r_max)])
    radii = np.unique(np.concatenate([np.asarray(r, dtype=np.float64) for r in radii]))
    radii = radii[(radii > 0) & (radii <= r_max)]
    lo, hi, shell = _shell_cells(radii, d)

    kinks = _kink_set(spec, x)

    def target(lo, hi):
        rmin = np.linalg.norm(np.clip(0.0, lo, hi), axis=1)
        if decays:
            return np.where(rmin < resolve, res.eta * scale, np.inf)
        out = res.eta * np.maximum(scale, rmin)
        if kinks is not None and res.kink_depth:
            out = np.where(_touches(lo, hi, *kinks), out / 2**res.kink_depth, out)
        return np.maximum(out, floor)

    lo, hi, shell = _refine(lo, hi, shell, target)
    level = np.searchsorted(cut, radii[shell] * (1 - 1e-12), side="left")
    order = np.argsort(level, kind="stable")
    return BoxRule(cutoffs=cut, lo=lo[order], hi=hi[order], level=level[order], order=res.order,
                   truncation=trunc)


# --------------------------------------------------------------------------- the vertex integrals


@lru_cache(maxsize=None)
def _tables(n_points: int):
    """Positions of each 4-multiset as (pair, pair) and each 6-multiset as (triple, triple)."""
    t2, t3 = correlators.multisets(n_points, 2), correlators.multisets(n_points, 3)
    t4, t6 = correlators.multisets(n_points, 4), correlators.multisets(n_points, 6)
    pos4 = (correlators.multiset_position(n_points, t4[:, :2]), correlators.multiset_position(n_points, t4[:, 2:]))
    pos6 = (correlators.multiset_position(n_points, t6[:, :3]), correlators.multiset_position(n_points, t6[:, 3:]))
    t3_from_t2 = correlators.multiset_position(n_points, t3[:, :2])
    return t2, t3, pos4, pos6, t3_from_t2


def _one_blas_thread():
    """The per-shell products are many small matrix products (a few x a few x 10^4): threaded BLAS
    gains nothing on them and on a loaded machine its spinning threads cost up to 70x (measured)."""
    return threadpool_limits(limits=1, user_api="blas")


def _accumulate(spec, x, rule: BoxRule, kind: str, want4: bool, want6: bool, max_nodes: int):
    """Per-level (shell) sums: J (C, P, P), [I4, I4_y2, K4] as (C, 3, pair, pair), I6 as (C, triple, triple)."""
    n_points, n_cut = len(x), len(rule.cutoffs)
    t2, t3, _, _, t3_from_t2 = _tables(n_points)
    T2 = len(t2)
    acc_j = np.zeros((n_cut, n_points, n_points))
    acc_4 = np.zeros((n_cut, 3, T2, T2))  # I4, I4_y2, K4 as (pair, pair) matrices
    acc_6 = np.zeros((n_cut, len(t3), len(t3)))
    for y, w, lev in rule.chunks(max_nodes):
        p = _propagator_matrix(spec, x, y, kind)
        p2 = p[t2[:, 0]] * p[t2[:, 1]]
        if want4:
            y2 = np.sum(y * y, axis=1)
            pyy = propagator_diagonal(spec, y, kind)
        if want6:
            p3 = p2[t3_from_t2] * p[t3[:, 2]]
        bounds = np.flatnonzero(np.diff(lev)) + 1
        for s, e in zip(np.r_[0, bounds], np.r_[bounds, len(lev)]):
            k, ws = lev[s], w[s:e]
            if want4:
                acc_j[k] += (p[:, s:e] * ws) @ p[:, s:e].T
                p2w = p2[:, s:e] * ws
                stacked = np.concatenate([p2w, p2w * y2[s:e], p2w * pyy[s:e]])
                acc_4[k] += (stacked @ p2[:, s:e].T).reshape(3, T2, T2)
            if want6:
                acc_6[k] += (p3[:, s:e] * ws) @ p3[:, s:e].T
    return acc_j, acc_4, acc_6


def vertex_integrals(spec: NetworkSpec, x, cutoffs, *, propagator: str = "K-sb2", orders=ORDERS,
                     resolution: Resolution | None = None, max_nodes: int = 2**15) -> xr.Dataset:
    """The vertex integrals I4, I4_y2, J, K4 (order 4) and I6 (order 6) for every cutoff.

    ``x`` (P, d_in) are the external inputs; ``cutoffs`` positive and distinct, any order (np.inf
    only where the integrals converge, see ``decay_radius``). Returns a Dataset with dims
    ``cutoff``, ``t4``/``t6`` (index multisets, coordinates ``t4_points`` (t4, slot4),
    ``t6_points`` (t6, slot6)), ``point``/``point2`` (J), coordinate ``x`` (point, dim), and attrs
    propagator, activation, d_in, sw, sb, quadrature order, node count and truncation radius.
    Units: each integral carries the box volume, Lambda^d_in, times the propagator's units.
    """
    _check_kind(propagator)
    orders = tuple(sorted(set(int(o) for o in orders)))
    if not orders or any(o not in ORDERS for o in orders):
        raise ValueError(f"orders must be a non-empty subset of {ORDERS}, got {orders}")
    x = np.atleast_2d(np.asarray(x, dtype=np.float64))
    cut_in = np.asarray(cutoffs, dtype=np.float64).reshape(-1)
    if len(np.unique(cut_in)) != len(cut_in):
        raise ValueError(f"cutoffs must be distinct, got {cut_in.tolist()}")
    sort = np.argsort(cut_in)
    rule = box_rule(spec, x, cut_in[sort], propagator=propagator, resolution=resolution)
    n_points = len(x)
    _, _, pos4, pos6, _ = _tables(n_points)
    want4, want6 = 4 in orders, 6 in orders

    with _one_blas_thread():
        acc_j, acc_4, acc_6 = _accumulate(spec, x, rule, propagator, want4, want6, max_nodes)

    unsort = np.argsort(sort)
    coords = {"cutoff": cut_in, "x": (("point", "dim"), x)}
    data = {}
    if want4:
        acc_j = np.cumsum(acc_j, axis=0)[unsort]
        acc_4 = np.cumsum(acc_4, axis=0)[unsort]
        m4 = acc_4[:, :, pos4[0], pos4[1]]
        coords["t4_points"] = (("t4", "slot4"), correlators.multisets(n_points, 4))
        data["I4"] = (("cutoff", "t4"), m4[:, 0])
        data["I4_y2"] = (("cutoff", "t4"), m4[:, 1])
        data["J"] = (("cutoff", "point", "point2"), acc_j)
        data["K4"] = (("cutoff", "t4"), m4[:, 2])
    if want6:
        acc_6 = np.cumsum(acc_6, axis=0)[unsort]
        coords["t6_points"] = (("t6", "slot6"), correlators.multisets(n_points, 6))
        data["I6"] = (("cutoff", "t6"), acc_6[:, pos6[0], pos6[1]])
    attrs = {"propagator": propagator, "activation": spec.activation, "d_in": spec.d_in,
             "sw": spec.sw, "sb": spec.sb, "quadrature_order": rule.order, "quadrature_nodes": rule.n_nodes,
             "truncation_radius": rule.truncation}
    return xr.Dataset(data, coords=coords, attrs=attrs)


# --------------------------------------------------------------------------- diagram sums


@lru_cache(maxsize=None)
def _g6_tables(n_points: int):
    """For every 6-multiset and each of the 15 splits {ab | cdef}: the pair (a, b) and pos4(cdef)."""
    t6 = correlators.multisets(n_points, 6)
    splits = list(combinations(range(6), 2))
    rest = [[s for s in range(6) if s not in ab] for ab in splits]
    a = t6[:, [ab[0] for ab in splits]]
    b = t6[:, [ab[1] for ab in splits]]
    pos = correlators.multiset_position(n_points, t6[:, rest].reshape(-1, 4)).reshape(len(t6), len(splits))
    return a, b, pos


def lambda_term_g4(I4):
    """Delta G4 per unit lambda: -24 I4 (docs/physics.md sec. 4)."""
    return -24 * I4


def lambda2_term_g4(I4_y2):
    """Delta G4 per unit lambda_2 (vertex lambda_2 |y|^2 f^4): -24 I4_y2."""
    return -24 * I4_y2


def nonlocal_term_g4(J, tuples4):
    """Delta G4 per unit lambda_NL: -8 sum over the channels {ab|cd} of J_ab J_cd.

    ``J`` (..., P, P); ``tuples4`` (T, 4) index tuples; returns (..., T).
    """
    J, t = np.asarray(J), np.asarray(tuples4)
    m = correlators.perfect_matchings(4)
    return -8 * sum(J[..., t[:, p[0, 0]], t[:, p[0, 1]]] * J[..., t[:, p[1, 0]], t[:, p[1, 1]]] for p in m)


def kappa_term_g4(K4):
    """Delta G4 per unit kappa: -360 K4 (4 legs on the externals, 2 self-contracted)."""
    return -360 * K4


def _pairs_times(K_ext, V4, n_points: int):
    """sum over the 15 splits {ab|cdef} of K_ext[a, b] V4(cdef), on multisets(n_points, 6)."""
    K, V = np.asarray(K_ext), np.asarray(V4)
    a, b, pos = _g6_tables(n_points)
    return np.sum(K[..., a, b] * V[..., pos], axis=-1)


def lambda_term_g6(K_ext, I4, n_points: int):
    """Delta G6 per unit lambda: -24 sum_15 K_ext[a, b] I4(cdef), shape (..., T6).

    ``K_ext`` (..., P, P) is the full external 2-pt function (the GP kernel including sb^2);
    ``I4`` (..., T4) on ``multisets(n_points, 4)``.
    """
    return -24 * _pairs_times(K_ext, I4, n_points)


def kappa_term_g6(K_ext, I6, K4, n_points: int):
    """Delta G6 per unit kappa: -720 I6 - 360 sum_15 K_ext[a, b] K4(cdef), shape (..., T6)."""
    return -720 * np.asarray(I6) - 360 * _pairs_times(K_ext, K4, n_points)
