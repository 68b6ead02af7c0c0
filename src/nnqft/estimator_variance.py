"""Exact per-network variances of the plain and the Rao-Blackwell correlator estimators.

The ensemble engine estimates G^(n)(t) = E[f(x_a1) ... f(x_an)] on an index multiset t by the
average over networks of one of two per-network values (docs/physics.md sec. 2):

* plain:          X = prod_j f(x_aj);
* Rao-Blackwell:  Y = E[X | hidden layer] = Wick_n(Kh)(t), the sum over the (n-1)!! perfect
  matchings of products of the network's empirical kernel Kh = sb^2 + (sw^2/N) sum_i h_i h_i^T.

Both have mean G^(n)(t). Their *true* variances follow exactly from parameter space, like the
correlators themselves (docs/physics.md sec. 3): given the hidden layer f is Gaussian with
covariance Kh, so E[X^2 | hidden] = Wick_2n(Kh) on the doubled tuple (a_1, a_1, ..., a_n, a_n)
(Isserlis), and

    Var X = E[Wick_2n(Kh)(t t)] - G^2,      Var Y = E[Wick_n(Kh)(t)^2] - G^2,
    Var X - Var Y = E[Var(X | hidden)] >= 0  (law of total variance).

Each of E[Wick_2n(Kh)(t t)], E[Wick_n(Kh)(t)^2] and G = E[Wick_n(Kh)(t)] is a weighted sum over
multigraphs on the n slots of t, an edge (u, v) standing for the factor Kh[t_u, t_v]: the
2-regular multigraphs of the matchings of the doubled tuple (loops allowed), the unions of two
matchings of t, and the matchings of t. For one multigraph with edges e_1..e_E, write
Kh = sb^2 + c S with c = sw^2 / N and S = sum_i g_i, g_i = h_i h_i^T i.i.d. over neurons:

    E[prod_k Kh_ek] = sum_{A subset of edges} sb^(2(E-|A|)) c^|A| E[prod_{k in A} S_ek],
    E[prod_{k in A} S_ek] = sum_{partitions pi of A} (N)_|pi| prod_{B in pi} E[prod_{k in B} g_ek],

(N)_m = N (N-1) ... (N-m+1): the blocks of pi are the groups of factors that share a neuron,
distinct blocks distinct neurons. E[prod_{k in B} g_ek] is a single-neuron moment of order 2|B|,
E[prod_v h(x_tv)^d_v] with d the degree vector of the edge set B. So every term is a product of
neuron moments indexed by degree vectors, and the term's width dependence is c^|A| (N)_|pi|.

How it is computed: the multigraphs, the (A, pi) pairs and their weights depend only on n, not
on the inputs; they are tabulated once per n and deduplicated to distinct multisets of degree
vectors (a term's |A| and |pi| are functions of that multiset). Each distinct multiset is then a
product of looked-up neuron-moment arrays over all requested index multisets at once, summed
into coefficient arrays per (|A|, |pi|); widths enter only at the end.
"""

from __future__ import annotations

import functools
from collections import Counter
from dataclasses import dataclass

import numpy as np

from nnqft import correlators, exact, networks
from nnqft.networks import NetworkSpec

ORDERS = (2, 4, 6)
_CHUNK_ELEMENTS = 2**24  # bound on (terms x multisets x blocks) held at once


@dataclass(frozen=True)
class EstimatorVariance:
    """Exact per-network statistics of the two estimators of G^(n), arrays (width, T).

    ``plain`` and ``rao_blackwell`` are the variances of one network's value (divide by the
    number of networks for the variance of an ensemble mean); ``mean`` is G^(n) itself.
    ``plain_second_moment`` is E[X^2]; E[Y^2] is ``rao_blackwell + mean**2``.
    """

    n: int
    widths: np.ndarray  # (W,)
    tuples: np.ndarray  # (T, n) index multisets
    mean: np.ndarray
    plain: np.ndarray
    rao_blackwell: np.ndarray
    plain_second_moment: np.ndarray

    @property
    def conditional_variance(self) -> np.ndarray:
        """E[Var(X | hidden)] = Var(plain) - Var(Rao-Blackwell) >= 0."""
        return self.plain - self.rao_blackwell

    @property
    def reduction(self) -> np.ndarray:
        """Variance-reduction factor Var(plain) / Var(Rao-Blackwell) (inf where the latter is 0)."""
        with np.errstate(divide="ignore", invalid="ignore"):
            return self.plain / self.rao_blackwell


# ---------------------------------------------------------------- combinatorial tables (per n)


def _matchings(slots: tuple[int, ...]):
    """Perfect matchings of ``slots``, each a tuple of pairs ((2k-1)!! of them)."""
    if not slots:
        yield ()
        return
    first, rest = slots[0], slots[1:]
    for i, partner in enumerate(rest):
        for m in _matchings(rest[:i] + rest[i + 1 :]):
            yield ((first, partner),) + m


@functools.lru_cache(maxsize=None)
def _graphs(n: int, kind: str) -> Counter:
    """Multigraphs on the n slots with their multiplicities, as sorted edge tuples.

    ``mean``: matchings of t (Wick_n); ``rb``: unions of two matchings (Wick_n^2);
    ``plain``: matchings of the doubled tuple, slot s standing for vertex s // 2 (Wick_2n(t t)).
    """
    if kind == "mean":
        return Counter(tuple(sorted(m)) for m in _matchings(tuple(range(n))))
    if kind == "rb":
        ms = list(_matchings(tuple(range(n))))
        return Counter(tuple(sorted(a + b)) for a in ms for b in ms)
    if kind == "plain":
        return Counter(
            tuple(sorted((u // 2, v // 2) for u, v in m)) for m in _matchings(tuple(range(2 * n)))
        )
    raise ValueError(f"unknown kind {kind!r}")


@functools.lru_cache(maxsize=None)
def _structures(n_edges: int) -> np.ndarray:
    """All (A, pi): A a subset of the edges, pi a partition of A; shape (Bell(E+1), E).

    Each row lists the blocks of pi as edge bitmasks, padded with 0 (the empty block). They
    are the partitions of E + 1 elements, the block of the extra element being the complement
    of A (the edges that take the sb^2 term).
    """
    rows = []
    for part in correlators.set_partitions(n_edges + 1):
        masks = [sum(1 << e for e in b) for b in part if n_edges not in b]
        rows.append(masks + [0] * (n_edges - len(masks)))
    return np.array(rows, dtype=np.int64).reshape(-1, n_edges)


@functools.lru_cache(maxsize=None)
def _term_table(n: int, kinds: tuple[str, ...]):
    """Distinct terms of E[sum_graphs w prod Kh] for graphs of the given kinds (same edge count).

    Returns (codes (K, E) int: the blocks' degree vectors in base 3, 0 = empty block,
    weights (K, len(kinds)), a (K,) = |A|, k (K,) = |pi|). The sb^2 and width factors of a
    term are sb^(2(E - a)) (sw^2/N)^a (N)_k.
    """
    graphs = [_graphs(n, kind) for kind in kinds]
    n_edges = len(next(iter(graphs[0])))
    edges, weights = [], []
    for j, g in enumerate(graphs):
        for edge_list, count in g.items():
            edges.append(edge_list)
            w = np.zeros(len(kinds))
            w[j] = count
            weights.append(w)
    edges = np.array(edges, dtype=np.int64).reshape(len(edges), n_edges, 2)
    weights = np.array(weights)
    # degree vector of each edge, of each edge subset (bitmask), and its base-3 code
    edge_deg = np.zeros((len(edges), n_edges, n), dtype=np.int64)
    for side in (0, 1):
        np.add.at(edge_deg, (np.arange(len(edges))[:, None], np.arange(n_edges)[None], edges[..., side]), 1)
    bits = (np.arange(2**n_edges)[:, None] >> np.arange(n_edges)) & 1  # (masks, E)
    mask_code = np.einsum("me,gev,v->gm", bits, edge_deg, 3 ** np.arange(n))  # (G, masks)
    codes = np.sort(mask_code[:, _structures(n_edges)], axis=-1)  # (G, S, E)
    # pack a sorted code row into one integer (base 3^n digits) and merge equal terms
    base = 3**n
    if base**n_edges >= 2**63:
        raise ValueError(f"order n = {n} too large for the packed term keys")
    packed = (codes * base ** np.arange(n_edges)).sum(-1)  # (G, S)
    keys, inverse = np.unique(packed.ravel(), return_inverse=True)
    w = np.repeat(weights, codes.shape[1], axis=0)
    merged = np.stack([np.bincount(inverse, weights=w[:, j], minlength=len(keys)) for j in range(len(kinds))], 1)
    unique_codes = (keys[:, None] // base ** np.arange(n_edges)) % base  # (K, E)
    digits = (unique_codes[..., None] // 3 ** np.arange(n)) % 3  # (K, E, n)
    a = digits.sum(axis=(1, 2)) // 2
    k = (unique_codes > 0).sum(1)
    return unique_codes, merged, a, k


def _degree_vectors(codes: np.ndarray, n: int) -> np.ndarray:
    return (codes[:, None] // 3 ** np.arange(n)) % 3


# ---------------------------------------------------------------- neuron moments by degree vector


def _encode(tuples: np.ndarray, n_points: int) -> np.ndarray:
    """Sorted index tuples as base-P integers: increasing in lexicographic (multisets) order."""
    return (tuples * n_points ** np.arange(tuples.shape[1])[::-1]).sum(-1)


def _moment_table(codes: np.ndarray, tuples: np.ndarray, moments: dict, n_points: int) -> np.ndarray:
    """M[j, t] = E[prod_v h(x_{t_v})^{d_v}] for each code j (degree vector d), (len(codes), T).

    Code 0 (the empty block) gives 1.
    """
    n = tuples.shape[1]
    out = np.ones((len(codes), len(tuples)))
    for j, d in enumerate(_degree_vectors(codes, n)):
        r = int(d.sum())
        if r == 0:
            continue
        sub = np.repeat(tuples, d, axis=1)  # sorted, since tuples are
        table = _encode(correlators.multisets(n_points, r), n_points)
        out[j] = moments[r][np.searchsorted(table, _encode(sub, n_points))]
    return out


def _coefficients(n: int, kinds: tuple[str, ...], tuples: np.ndarray, moments: dict, n_points: int):
    """C[kind, a, k, T] = sum of the weighted moment products of the terms with |A| = a, |pi| = k."""
    codes, weights, a, k = _term_table(n, kinds)
    n_edges = codes.shape[1]
    used, local = np.unique(codes, return_inverse=True)
    local = local.reshape(codes.shape)
    m = _moment_table(used, tuples, moments, n_points)  # (U, T)
    out = np.zeros((len(kinds), n_edges + 1, n_edges + 1, len(tuples)))
    group = a * (n_edges + 1) + k
    step = max(1, _CHUNK_ELEMENTS // max(1, len(tuples) * n_edges))
    for g in np.unique(group):
        rows = np.flatnonzero(group == g)
        for s in range(0, len(rows), step):
            r = rows[s : s + step]
            prod = np.prod(m[local[r]], axis=1)  # (R, T)
            out[:, g // (n_edges + 1), g % (n_edges + 1)] += weights[r].T @ prod
    return out


def _falling_factorial(widths: np.ndarray, k: int) -> np.ndarray:
    return np.prod(widths[:, None] - np.arange(k)[None, :], axis=1)


def _at_widths(coef: np.ndarray, widths: np.ndarray, sb: float, sw: float) -> np.ndarray:
    """sum_{a,k} sb^(2(E-a)) (sw^2/N)^a (N)_k C[..., a, k, T] at each width, (..., W, T)."""
    n_edges = coef.shape[-2] - 1
    out = 0.0
    for a in range(n_edges + 1):
        for k in range(a + 1):  # a block holds at least one edge of A
            factor = sb ** (2 * (n_edges - a)) * (sw**2 / widths) ** a * _falling_factorial(widths, k)
            out = out + factor[:, None] * coef[..., a, k, None, :]
    return out


# ---------------------------------------------------------------- public API


def required_orders(n: int) -> tuple[int, ...]:
    """Neuron-moment orders the variances of order n need: every even r <= 2n."""
    return tuple(range(2, 2 * n + 1, 2))


def default_moments(spec: NetworkSpec, x, n: int, method: str = "auto", resolution: int | None = None) -> dict:
    """Neuron moments of every order ``required_orders(n)`` from ``exact.neuron_moments``.

    ``method="auto"`` is exact.neuron_moments' auto, except where the activation's scheme is only
    practical up to its ``moments.max_order`` (Erf's Price quadrature: 6; ``nnqft.activations``):
    beyond it, tensor Gauss-Hermite at ``moments.high_order_resolution`` nodes (Erf: 96, ~1e-9
    relative at orders 6-12; d_in = 3 takes minutes) is used for every order (one quadrature law
    for all orders keeps the variances those of a genuine law, so non-negative).
    """
    orders = required_orders(n)
    scheme = networks.activation(spec.activation).moments
    if method == "auto" and scheme.max_order is not None and max(orders) > scheme.max_order:
        method, resolution = "hermite", resolution or scheme.high_order_resolution
    return exact.neuron_moments(spec, x, orders, method=method, resolution=resolution)


def estimator_variances(
    spec: NetworkSpec,
    x,
    widths,
    n: int,
    tuples=None,
    *,
    moments: dict | None = None,
    method: str = "auto",
    resolution: int | None = None,
) -> EstimatorVariance:
    """Exact per-network variances of the plain and the Rao-Blackwell estimator of G^(n).

    Parameters
    ----------
    spec : zero-mean network specification without a shared output scale; the statistics are
        those of one output unit.
    x : inputs, shape (P, d_in).
    widths : hidden widths N >= 1, shape (W,) (non-integer N continue the polynomial in N).
    n : correlator order, one of 2, 4, 6.
    tuples : index multisets (T, n) (any order within a row); None takes all of
        ``correlators.multisets(P, n)``.
    moments : ``exact.neuron_moments``-style {r: (T_r,)} on ``multisets(P, r)`` for every even
        r <= 2n; None computes them with ``default_moments(spec, x, n, method, resolution)``.

    Returns
    -------
    EstimatorVariance with arrays (W, T): mean (= exact.exact_correlators' G{n}), plain,
    rao_blackwell (variances), plain_second_moment.
    """
    if n not in ORDERS:
        raise ValueError(f"order n must be one of {ORDERS}, got {n!r}")
    if not spec.zero_mean:
        raise ValueError(
            f"exact variances need zero-mean parameters; got mean_w0={spec.mean_w0}, mean_w1={spec.mean_w1}"
        )
    if spec.shared_scale_eps != 0:
        raise ValueError(f"a shared output scale is not supported; got shared_scale_eps={spec.shared_scale_eps}")
    x = np.asarray(x, dtype=np.float64)
    if x.ndim != 2 or x.shape[1] != spec.d_in:
        raise ValueError(f"x must have shape (P, d_in={spec.d_in}), got {x.shape}")
    p = len(x)
    widths = np.asarray(widths, dtype=np.float64)
    if widths.ndim != 1 or np.any(widths < 1):
        raise ValueError(f"widths must be a 1-D array of numbers >= 1, got {widths}")
    if tuples is None:
        tuples = correlators.multisets(p, n)
    tuples = np.sort(np.atleast_2d(np.asarray(tuples, dtype=np.int64)), axis=-1)
    if tuples.shape[1] != n or tuples.min() < 0 or tuples.max() >= p:
        raise ValueError(f"tuples must have shape (T, n={n}) with indices in 0..{p - 1}, got {tuples.shape}")
    needed = required_orders(n)
    if moments is None:
        moments = default_moments(spec, x, n, method, resolution)
    for r in needed:
        want = (len(correlators.multisets(p, r)),)
        if r not in moments or np.shape(moments[r]) != want:
            got = np.shape(moments[r]) if r in moments else "missing"
            raise ValueError(f"moments[{r}] is {got}; need shape {want} for every even r in {needed}")
    moments = {r: np.asarray(moments[r], dtype=np.float64) for r in needed}

    mean = _at_widths(_coefficients(n, ("mean",), tuples, moments, p)[0], widths, spec.sb, spec.sw)
    plain2, rb2 = _at_widths(_coefficients(n, ("plain", "rb"), tuples, moments, p), widths, spec.sb, spec.sw)
    return EstimatorVariance(
        n=n, widths=widths, tuples=tuples, mean=mean,
        plain=plain2 - mean**2, rao_blackwell=rb2 - mean**2, plain_second_moment=plain2,
    )


def gp_plain_variance(kernel: np.ndarray, tuples) -> np.ndarray:
    """N -> infinity limit of Var(plain): Wick_2n(K)(t t) - Wick_n(K)(t)^2 for a GP kernel K (P, P).

    (Var(Rao-Blackwell) -> 0 like 1/N.) Summed over the deduplicated multigraphs, so order 6 does
    not enumerate the 10395 matchings of 12 slots.
    """
    tuples = np.sort(np.atleast_2d(np.asarray(tuples, dtype=np.int64)), axis=-1)
    n = tuples.shape[1]

    def wick(kind):
        total = 0.0
        for edge_list, count in _graphs(n, kind).items():
            total = total + count * np.prod([kernel[tuples[:, u], tuples[:, v]] for u, v in edge_list], axis=0)
        return total

    return wick("plain") - wick("mean") ** 2


def reduction_summary(spec: NetworkSpec, x, widths, orders=(4, 6), tuples: dict | None = None) -> list[dict]:
    """Min and median over elements of the true Var(plain)/Var(RB) per (n, width): table rows."""
    rows = []
    for n in orders:
        ev = estimator_variances(spec, x, widths, n, None if tuples is None else tuples.get(n))
        factor = ev.reduction
        for i, width in enumerate(ev.widths):
            rows.append(dict(
                n=n, width=int(width) if width == int(width) else width, n_elements=factor.shape[1],
                true_reduction_min=float(np.min(factor[i])),
                true_reduction_median=float(np.median(factor[i])),
                true_reduction_max=float(np.max(factor[i])),
            ))
    return rows
