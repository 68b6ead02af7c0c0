"""Sums over networks of many monomials at once, as matrix products (the engine's statistics).

Every statistic the ensemble engine accumulates is, per network, a fixed linear combination of
monomials in a few per-network variables: the plain moment E[f_a1 ... f_a6] is one monomial of the
outputs f; the Rao-Blackwell moment is a Wick sum, a sum of products of entries of the empirical
kernel Kh (and, with an output mean, of the hidden-unit sums). Taking products network by network
means gathering hundreds of products per network. Instead each monomial m of degree d is split
into a left factor (its first d // 2 variables) and a right factor (the rest), and the block sum
of m over networks is one entry of the Gram matrix L^T R of the left and right factor matrices
(networks x distinct factors): one float64 matrix product per (left degree, right degree) group
gives the sums of every monomial of the group (e.g. the 56 x 56 products of degree-3 monomials of
six outputs hold all 462 sixth moments). A statistic is then a fixed sparse linear map of the
Gram entries, precomputed here in numpy. Summing monomials over networks first and combining them
afterwards changes only the floating-point order of the same sums.
"""

from __future__ import annotations

from dataclasses import dataclass

import jax.numpy as jnp
import numpy as np

from nnqft import correlators


@dataclass(frozen=True, eq=False)
class Plan:
    """Factor tables of each (left degree, right degree) group and the linear map of each statistic.

    ``groups``: per group, (left (n_L, d_L), right (n_R, d_R)) variable indices of its distinct
    factors. ``maps``: per statistic key, (pos (T, J), coef (T, J)): its T values are
    sum_j coef * gram[pos], ``gram`` being every group's (n_L, n_R) Gram matrix, flattened and
    concatenated in order (padding has coef 0). The full Gram matrices hold each needed product
    several times (56 x 56 entries for 462 sixth moments); cutting them into the needed blocks
    saves multiply-adds but was measured slower with XLA on CPU (2.7 -> 6 us per network).
    """

    groups: tuple
    maps: dict


def _split(mono: tuple) -> tuple:
    return mono[: len(mono) // 2], mono[len(mono) // 2 :]


def plan(statistics: dict) -> Plan:
    """Plan the sums of ``statistics``: {key: [[(monomial, coef), ...] per value]}.

    A monomial is a tuple of variable indices (repeats are powers); equal monomials of one value
    are merged by adding their coefficients.
    """
    located = {}
    pairs: dict = {}  # (d_L, d_R) -> {left factor: set of right factors}
    for key, values in statistics.items():
        rows = []
        for terms in values:
            merged: dict = {}
            for mono, coef in terms:
                mono = tuple(sorted(mono))
                merged[mono] = merged.get(mono, 0.0) + coef
            rows.append(merged)
            for mono in merged:
                left, right = _split(mono)
                pairs.setdefault((len(left), len(right)), {}).setdefault(left, set()).add(right)
        located[key] = rows
    groups, where, offset = [], {}, 0  # where: (left, right) -> position in the flat Gram vector
    for (d_left, d_right), needed in pairs.items():
        lefts = sorted(needed)
        rights = sorted(set().union(*needed.values()))
        r_index = {r: i for i, r in enumerate(rights)}
        for li, left in enumerate(lefts):
            for r in needed[left]:
                where[(left, r)] = offset + li * len(rights) + r_index[r]
        offset += len(lefts) * len(rights)
        groups.append((np.array(lefts, dtype=np.int64).reshape(len(lefts), d_left),
                       np.array(rights, dtype=np.int64).reshape(len(rights), d_right)))
    maps = {}
    for key, rows in located.items():
        width = max([len(r) for r in rows] + [0])
        pos = np.zeros((len(rows), width), dtype=np.int64)
        coef = np.zeros((len(rows), width))
        for t, merged in enumerate(rows):
            for j, (mono, c) in enumerate(merged.items()):
                pos[t, j] = where[_split(mono)]
                coef[t, j] = c
        maps[key] = (pos, coef)
    return Plan(tuple(groups), maps)


def gram_flops(p: Plan) -> int:
    """Floating-point operations per network (and per leading-axis entry) of the Gram products, 2 per multiply-add."""
    return 2 * sum(len(left) * len(right) for left, right in p.groups)


def _factors(v, idx):
    """Products of the variables of each factor: (..., V) -> (..., n_factors); ones for degree 0."""
    if idx.shape[1] == 0:
        return jnp.ones(v.shape[:-1] + (len(idx),), v.dtype)
    out = v[..., idx[:, 0]]
    for j in range(1, idx.shape[1]):
        out = out * v[..., idx[:, j]]
    return out


def sums(p: Plan, v, mask) -> dict:
    """Masked sums over the network axis of every statistic of the plan.

    ``v``: (..., batch, V) float64 variables per network (leading axes, e.g. output rows, are kept:
    they are the batch axes of the matrix products); ``mask``: (batch,) weights (1 for a valid
    network, 0 for padding). Returns {key: (..., T)}.
    """
    if not p.groups:
        return {}
    grams = []
    for left, right in p.groups:
        lf = _factors(v, left) * mask[:, None]
        rf = _factors(v, right)
        g = jnp.einsum("...bl,...br->...lr", lf, rf, preferred_element_type=jnp.float64)
        grams.append(g.reshape(g.shape[:-2] + (-1,)))
    flat = jnp.concatenate(grams, axis=-1)
    return {key: (flat[..., pos] * coef).sum(axis=-1) for key, (pos, coef) in p.maps.items()}


# --------------------------------------------------------------------------- the engine's statistics


def moment_terms(n_points: int, n: int) -> list:
    """E[f_a1 ... f_an] on every multiset: one monomial of the P outputs (variables 0..P-1)."""
    return [[(tuple(t), 1.0)] for t in correlators.multisets(n_points, n).tolist()]


def kernel_variables(n_points: int) -> np.ndarray:
    """(row, column) of each variable Kh_ab (a <= b, lexicographic, = ``multisets(P, 2)``)."""
    return correlators.multisets(n_points, 2)


def wick_terms(n_points: int, n: int, pairs: int) -> list:
    """The part with ``pairs`` pairs of the Wick sum of a Gaussian with covariance Kh and mean m.

    E[f_a1..f_an] = sum over partial pairings of prod over pairs Kh_ab prod over singles m_c
    (Isserlis); this is the sum over the pairings with exactly ``pairs`` pairs, on every multiset.
    Variables: Kh_ab as ``kernel_variables`` (0..P(P+1)/2 - 1), then m_c (the next P).
    """
    pos = correlators.multiset_position
    n_kernel = len(kernel_variables(n_points))
    groups = correlators.involutions(n)
    if pairs not in groups:
        return [[] for _ in correlators.multisets(n_points, n)]
    pairings, singles = groups[pairs]
    out = []
    for t in correlators.multisets(n_points, n):
        terms = []
        for pr, sg in zip(pairings, singles):
            kernel = tuple(pos(n_points, t[pr]).tolist()) if pairs else ()
            means = tuple(n_kernel + int(t[c]) for c in sg)
            terms.append((kernel + means, 1.0))
        out.append(terms)
    return out
