"""Combinatorics of n-point functions: index multisets, Wick pairings, moments <-> cumulants.

A correlator of order n over P input points is stored only on its index multisets
(sorted tuples a_1 <= ... <= a_n), in lexicographic order: 21, 126, 462 entries for
n = 2, 4, 6 and P = 6. Every function here works on numpy and jax arrays alike (only
indexing, products and sums are used) and broadcasts over leading axes.
"""

from __future__ import annotations

import itertools
import math
from functools import lru_cache

import numpy as np


@lru_cache(maxsize=None)
def multisets(n_points: int, n: int) -> np.ndarray:
    """All sorted index tuples of length n over range(n_points), shape (T, n), lexicographic."""
    t = list(itertools.combinations_with_replacement(range(n_points), n))
    out = np.array(t, dtype=np.int64).reshape(len(t), n)
    out.setflags(write=False)
    return out


@lru_cache(maxsize=None)
def _position(n_points: int, n: int) -> dict[tuple[int, ...], int]:
    return {tuple(t): i for i, t in enumerate(multisets(n_points, n).tolist())}


def multiset_position(n_points: int, tuples) -> np.ndarray:
    """Position of each (any-order) index tuple in ``multisets(n_points, len)``."""
    tuples = np.sort(np.atleast_2d(np.asarray(tuples)), axis=-1)
    pos = _position(n_points, tuples.shape[-1])
    return np.array([pos[tuple(t)] for t in tuples.tolist()], dtype=np.int64)


@lru_cache(maxsize=None)
def set_partitions(n: int) -> tuple[tuple[tuple[int, ...], ...], ...]:
    """All partitions of the slots range(n) into blocks (Bell(n) of them)."""

    def rec(items):
        if not items:
            yield ()
            return
        first, rest = items[0], items[1:]
        for part in rec(rest):
            for i, block in enumerate(part):
                yield part[:i] + ((first,) + block,) + part[i + 1 :]
            yield ((first,),) + part

    return tuple(tuple(sorted(p)) for p in rec(tuple(range(n))))


@lru_cache(maxsize=None)
def perfect_matchings(n: int) -> np.ndarray:
    """Wick pairings of n slots, shape ((n-1)!!, n/2, 2): 3 for n = 4, 15 for n = 6."""
    if n % 2:
        raise ValueError(f"no perfect matching of an odd number of slots ({n})")
    m = [p for p in set_partitions(n) if all(len(b) == 2 for b in p)]
    out = np.array(m, dtype=np.int64).reshape(len(m), n // 2, 2)
    out.setflags(write=False)
    return out


@lru_cache(maxsize=None)
def _partition_tables(n_points: int, n: int, even_blocks_only: bool):
    """For each partition of n slots: |blocks| and, per block, its sub-multiset positions.

    Returns a list of (number_of_blocks, [(order, positions (T_n,)) per block]).
    """
    t = multisets(n_points, n)
    tables = []
    for part in set_partitions(n):
        if even_blocks_only and any(len(b) % 2 for b in part):
            continue
        blocks = [(len(b), multiset_position(n_points, t[:, list(b)])) for b in part]
        tables.append((len(part), blocks))
    return tables


def _partition_sum(values: dict, n_points: int, n: int, weight, even_blocks_only: bool):
    total = 0.0
    for n_blocks, blocks in _partition_tables(n_points, n, even_blocks_only):
        term = weight(n_blocks)
        for order, pos in blocks:
            term = term * values[order][..., pos]
        total = total + term
    return total


def cumulants_from_moments(moments: dict, n_points: int, n: int, *, odd_vanish: bool = True):
    """Joint cumulant kappa(x_a1..x_an) on every multiset, from moments of orders <= n.

    ``moments[k]`` holds E[f_a1...f_ak] on ``multisets(n_points, k)`` (leading axes broadcast).
    kappa(S) = sum over partitions pi of S of (-1)^(|pi|-1) (|pi|-1)! prod_B E[prod_B f].
    With ``odd_vanish`` the partitions with odd blocks are skipped (zero-mean, even laws).
    """
    return _partition_sum(
        moments,
        n_points,
        n,
        lambda k: (-1) ** (k - 1) * math.factorial(k - 1),
        odd_vanish,
    )


def moments_from_cumulants(cumulants: dict, n_points: int, n: int, *, odd_vanish: bool = True):
    """Moment E[f_a1..f_an] on every multiset: the sum over partitions of products of cumulants."""
    return _partition_sum(cumulants, n_points, n, lambda k: 1.0, odd_vanish)


@lru_cache(maxsize=None)
def involutions(n: int):
    """Partial pairings of n slots grouped by number of pairs k: {k: (pairs (I,k,2), singles (I,n-2k))}."""
    groups: dict[int, tuple[list, list]] = {}
    for part in set_partitions(n):
        if any(len(b) > 2 for b in part):
            continue
        pairs = [b for b in part if len(b) == 2]
        singles = [b[0] for b in part if len(b) == 1]
        groups.setdefault(len(pairs), ([], []))
        groups[len(pairs)][0].append(pairs)
        groups[len(pairs)][1].append(singles)
    return {
        k: (np.array(p, dtype=np.int64).reshape(len(p), k, 2), np.array(s, dtype=np.int64).reshape(len(s), n - 2 * k))
        for k, (p, s) in groups.items()
    }


def gaussian_moments(cov, tuples, mean=None):
    """E[f_a1 ... f_an] of a Gaussian field with covariance ``cov`` (..., P, P) and mean (..., P).

    Isserlis' theorem: the sum over perfect matchings of products of covariances; with a mean,
    over partial pairings, unpaired slots contributing the mean. ``tuples`` is (T, n); returns
    (..., T). For n = 6 and zero mean this is the 15-term Wick sum of the GP prediction.
    """
    tuples = np.asarray(tuples)
    n = tuples.shape[-1]
    total = 0.0
    for k, (pairs, singles) in involutions(n).items():
        if mean is None and k != n // 2:
            continue
        for p, s in zip(pairs, singles):
            term = 1.0
            for a, b in p:
                term = term * cov[..., tuples[:, a], tuples[:, b]]
            for c in s:
                term = term * mean[..., tuples[:, c]]
            total = total + term
    return total



def wick_linear_term(cov, delta, tuples):
    """d/de of the zero-mean Wick sum at ``cov + e * delta``, at e = 0, on every tuple.

    sum over perfect matchings, and over each pair of the matching, of delta on that pair times
    cov on the others. It is the part of ``gaussian_moments(cov + delta, tuples)`` linear in
    delta: where E[delta] = 0 is known exactly it is a control variate (see
    ``gp_deviation_blocks``). Shapes as for ``gaussian_moments``.
    """
    tuples = np.asarray(tuples)
    total = 0.0
    for matching in perfect_matchings(tuples.shape[-1]):
        for j, (a, b) in enumerate(matching):
            term = delta[..., tuples[:, a], tuples[:, b]]
            for i, (c, d) in enumerate(matching):
                if i != j:
                    term = term * cov[..., tuples[:, c], tuples[:, d]]
            total = total + term
    return total


def symmetric_matrix(values, n_points: int):
    """The (..., P, P) matrix of a 2-point quantity stored on ``multisets(n_points, 2)``."""
    values = np.asarray(values)
    pos = np.empty((n_points, n_points), dtype=np.int64)
    for k, (a, b) in enumerate(multisets(n_points, 2).tolist()):
        pos[a, b] = pos[b, a] = k
    return values[..., pos]


def gp_deviation_blocks(rb_blocks: dict, gp_kernel, n_points: int, n: int):
    """Per-block Delta G^(n) = G^(n) - G^(n)_GP from Rao-Blackwell block means, with a control variate.

    The Rao-Blackwell block mean of order n is the block average of Wick_n(Kh), Kh the network's
    empirical kernel; of order 2 it is the block average of Kh itself, whose expectation is the GP
    kernel K *exactly*. Writing Kh = K + D, Wick_n(Kh) - Wick_n(K) has a part linear in D with
    zero mean, which carries most of the noise (it is O(N^-1/2), the signal O(N^-1)); linear in D,
    its block average is that linear term at the block average of D. Subtracting it leaves an
    unbiased estimator of Delta G^(n) whose noise is O(1/N) instead of O(N^-1/2).

    ``rb_blocks[k]``: Rao-Blackwell block means (..., T_k) for k = 2 and n; ``gp_kernel`` (P, P).
    Valid for zero-mean last layers without a shared output scale (Kh then has mean K).
    Returns (..., T_n).
    """
    tuples = multisets(n_points, n)
    delta = symmetric_matrix(rb_blocks[2], n_points) - gp_kernel
    return (rb_blocks[n] - gaussian_moments(gp_kernel, tuples)
            - wick_linear_term(gp_kernel, delta, tuples))
