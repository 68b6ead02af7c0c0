"""Deep networks at finite width: ensembles beside the 1/n theory and the exact values
(docs/physics.md sec. 10). One point is (activation, initialisation C_W, C_b, input set); for
each depth L and width n it measures the connected 4-pt and the 2-pt shift E[f f] - K with the
Rao-Blackwell estimator of the engine, and sets beside them the theory (``nnqft.deep``) and,
for deep linear nets and deep ReLU with C_b = 0 on a ray, the exact value (``nnqft.deep_exact``).
Elements are aggregated by multiset class (the pattern of repeated inputs, e.g. "2+1+1").

Errors: the delete-one-block jackknife, except where the estimator's exact standard deviation is
known, which replaces it: deep ReLU on a ray (every order; ``deep_exact.relu_ray_estimator_stderr``:
there the block means are heavy-tailed and the jackknife is far too small at L/n >= 1/4) and the
2-pt and 4-pt of deep linear nets (``deep_exact.linear_estimator_stderr``: a 20-block jackknife is
itself uncertain by ~16%). docs/physics.md sec. 10.
"""

from __future__ import annotations

import functools
import time
from dataclasses import dataclass

import jax
import numpy as np
import pandas as pd

from nnqft import correlators, deep, deep_exact, ensemble, estimators
from nnqft.activations import activation
from nnqft.blocks import Sampling
from nnqft.networks import NetworkSpec

INPUT_SETS = ("p1_d1", "p1_d2", "p1_d3", "random_d3")
# the point's activation, initialisation and inputs are in its class rows (deep_finite_width.csv)
ELEMENT_COLUMNS = ("depth", "width", "n_pt", "multiset", "multiset_class", "measured", "measured_stderr",
                   "jackknife_stderr", "exact", "z_exact")
N_RANDOM_INPUTS = 4


@dataclass(frozen=True)
class Point:
    activation: str
    init: str
    c_w: float
    c_b: float
    input_set: str

    @property
    def name(self) -> str:
        """Stable name of the point's ensembles (keys their random streams with L and n)."""
        return f"deep/{self.activation}/{self.init}/{self.input_set}"


def inputs(input_set: str, name: str, sampling: Sampling) -> np.ndarray:
    """The inputs of a set: P1's set of the activation in d_in = 1, 2, 3, or N_RANDOM_INPUTS standard
    normal points in d_in = 3 from the config seed's stream "deep/inputs/random_d3"."""
    if input_set not in INPUT_SETS:
        raise ValueError(f"deep input set {input_set!r} unknown; choose from {INPUT_SETS}")
    if input_set == "random_d3":
        key = sampling.stream("deep/inputs", input_set)
        return np.asarray(jax.random.normal(key, (N_RANDOM_INPUTS, 3), dtype=np.float64))
    return np.asarray(activation(name).inputs(int(input_set[-1])), dtype=np.float64)


def multiset_class(t) -> str:
    """The pattern of repeated indices of a multiset, e.g. (0, 0, 1, 2) -> "2+1+1"."""
    counts = sorted(np.unique(np.asarray(t), return_counts=True)[1], reverse=True)
    return "+".join(map(str, counts))


def _exact_kind(point: Point, x: np.ndarray) -> str | None:
    """Which all-order result the point has: "linear" (deep linear nets), "relu_ray" (deep ReLU with
    C_b = 0, inputs on a ray) or None."""
    if point.activation == "linear":
        return "linear"
    if point.activation == "relu" and point.c_b == 0:
        try:
            deep_exact.ray_scales(x, point.c_w)
        except ValueError:  # not on a ray
            return None
        return "relu_ray"
    return None


def _exact(point: Point, x: np.ndarray, depth: int, width: int) -> dict | None:
    """Exact joint cumulants {2, 4, 6: (T_n,)} where an all-order result exists, else None."""
    kind, u = _exact_kind(point, x), [1 / width] * depth
    if kind == "linear":
        g = deep_exact.linear_correlators(x, point.c_w, point.c_b, u, orders=(2, 4, 6))
    elif kind == "relu_ray":
        g = deep_exact.relu_ray_correlators(x, point.c_w, u, orders=(2, 4, 6))
    else:
        return None
    return {n: correlators.cumulants_from_moments(g, len(x), n) for n in (2, 4, 6)}


def class_masks(tuples) -> dict:
    """{multiset class: boolean mask over ``tuples``}, classes in order of first appearance."""
    classes = np.array([multiset_class(t) for t in tuples])
    return {cls: classes == cls for cls in dict.fromkeys(classes)}


@dataclass(frozen=True)
class ExactErrors:
    """The Rao-Blackwell estimator's exact standard deviations in one cell and order."""
    classes: dict  # {multiset class: of the class average}
    elements: np.ndarray  # (T_n,): of each element


@functools.lru_cache(maxsize=8)
def _exact_stderrs(point: Point, x_rows: tuple, depths: tuple, widths: tuple, n_networks: int, orders: tuple) -> dict:
    """Exact standard deviations of the Rao-Blackwell estimators where they are known, by cell:
    {(L, n): {n_pt: ExactErrors}} (deep ReLU with C_b = 0 on a ray: 2-, 4- and 6-pt; deep linear
    nets: 2- and 4-pt); {} elsewhere. Cached: they do not depend on the seed (replicate studies,
    ``nnqft.deep_replicates``, draw one cell again and again)."""
    x = np.array(x_rows, dtype=np.float64)
    masks = {n: class_masks(correlators.multisets(len(x), n)) for n in orders}
    kind = _exact_kind(point, x)
    if kind == "relu_ray":
        out = {}
        for depth in depths:
            for width in widths:
                # every element is prod_s s_as times one random number: the class average's error is
                # the average of its elements'
                sd = deep_exact.relu_ray_estimator_stderr(x, point.c_w, [1 / width] * depth, n_networks, tuple(masks))
                out[depth, width] = {n: ExactErrors({c: sd[n][m].mean() for c, m in masks[n].items()}, sd[n])
                                     for n in masks}
        return out
    if kind == "linear":
        weights = {}
        for n in (2, 4):  # one weight row per class average, then one per element
            class_rows = np.array([m / m.sum() for m in masks[n].values()])
            weights[n] = np.vstack([class_rows, np.eye(class_rows.shape[1])])
        out = {}
        for width in widths:
            # one recursion to the deepest network gives every depth
            layers = deep_exact.linear_kernel_moment_layers(x, point.c_w, point.c_b, [1 / width] * max(depths), 4)
            for depth, moments in enumerate(layers, start=1):
                if depth in depths:
                    sd = deep_exact.linear_estimator_stderr(moments, n_networks, weights)
                    out[depth, width] = {n: ExactErrors(dict(zip(masks[n], sd[n])), sd[n][len(masks[n]):])
                                         for n in sd}
        return out
    return {}


def _rows_of(point, depth, width, n_pt, tuples, blocks_, statistic, theory, exact, gp, extra, exact_sd=None):
    """One row per multiset class: block means -> jackknife mean and error of the class average.
    ``exact_sd``: {class: the class average's exact standard deviation}, where known; it is then the
    error, and the breakdown's error (a function of the same random numbers) is scaled by the same
    ratio exact / jackknife (delta method)."""
    rows = []
    for cls, sel in class_masks(tuples).items():
        mean, jack = estimators.jackknife(lambda *m: statistic(*m)[..., sel].mean(axis=-1), *blocks_)
        err = jack if exact_sd is None else exact_sd[cls]
        dev, dev_err = estimators.jackknife(
            lambda *m: np.abs(statistic(*m)[..., sel] - theory[sel]).mean(axis=-1)
            / np.abs(statistic(*m)[..., sel]).mean(axis=-1), *blocks_)
        th = theory[sel].mean()
        ex = exact[sel].mean() if exact is not None else np.nan
        rows.append(dict(
            activation=point.activation, init=point.init, c_w=point.c_w, c_b=point.c_b,
            input_set=point.input_set, depth=depth, width=width, depth_over_width=depth / width,
            n_pt=n_pt, multiset_class=cls, n_multisets=int(sel.sum()), gp=float(gp[sel].mean()), measured=float(mean),
            measured_stderr=float(err), jackknife_stderr=float(jack), theory_1n=float(th), exact=float(ex),
            z_theory=float((mean - th) / err), z_exact=float((mean - ex) / err),
            breakdown=float(dev), breakdown_stderr=float(dev_err * err / jack), **extra))
    return rows


def _element_rows(depth, width, n_pt, tuples, blocks_, statistic, exact, errors):
    """One row per element (multiset) where an exact value exists: measured, its error (the exact
    standard deviation where ``errors`` is given, else the jackknife) and z against the exact value."""
    mean, jack = estimators.jackknife(statistic, *blocks_)
    err = jack if errors is None else errors.elements
    return pd.DataFrame(dict(
        depth=depth, width=width, n_pt=n_pt, multiset=[" ".join(map(str, t)) for t in tuples],
        multiset_class=[multiset_class(t) for t in tuples], measured=mean, measured_stderr=err,
        jackknife_stderr=jack, exact=exact, z_exact=(mean - exact) / err))


def measure_point(point: Point, depths, widths, sampling: Sampling, log=None) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Rows of ``deep_finite_width.csv`` for one point (every depth and width, 4-pt and 2-pt, and the
    6-pt where exact values exist) and, where exact values exist, of ``deep_exact_elements.csv`` (one
    per element). ``theory_seconds_all_depths``: time of the 1/n theory of the point (all depths at once)."""
    x = inputs(point.input_set, point.activation, sampling)
    p = len(x)
    t2, t4 = correlators.multisets(p, 2), correlators.multisets(p, 4)
    rows = []
    # One recursion to the deepest network gives every shallower one: its layers 1..L+1 are depth L's.
    start = time.perf_counter()
    th = deep.theory(x, point.activation, point.c_w, point.c_b, max(depths))
    theory_s = time.perf_counter() - start
    # The connected 6-pt has no 1/n term (it starts at 1/n^2): it is measured only where an exact value
    # exists to compare with (its Rao-Blackwell Wick sums over 462 multisets double the compile time).
    six = _exact_kind(point, x) is not None
    orders = (2, 4, 6) if six else (2, 4)
    t6 = correlators.multisets(p, 6)
    exact_sds = _exact_stderrs(point, tuple(map(tuple, x.tolist())), tuple(depths), tuple(widths),
                               sampling.n_networks, orders)
    elements = []
    if log and exact_sds:
        log.info("%s: exact estimator errors of %d cells in %.1f s", point.name, len(exact_sds),
                 time.perf_counter() - start - theory_s)
    for depth in depths:
        kernel = th.kernel[depth][tuple(t2.T)]
        gp = {4: correlators.gaussian_moments(th.kernel[depth], t4), 6: correlators.gaussian_moments(th.kernel[depth], t6)}
        spec = NetworkSpec(point.activation, x.shape[1], sw=float(np.sqrt(point.c_w)),
                           sb=float(np.sqrt(point.c_b)), depth=depth)
        for width in widths:
            out = ensemble.run_shard(spec, x, [width], sampling, ensemble=f"{point.name}/L{depth}",
                                     blocks=range(sampling.n_blocks), orders=orders)
            rb = {n: out[n][1][0, :, 0] for n in orders}  # Rao-Blackwell block means (B, T_n)
            exact = _exact(point, x, depth, width)
            sd = exact_sds.get((depth, width), {})
            extra = dict(n_networks=sampling.n_networks, theory_seconds_all_depths=theory_s)

            def cumulant(n):
                return lambda *m: correlators.cumulants_from_moments(dict(zip(orders, m)), p, n)

            def class_errors(n):
                return sd[n].classes if n in sd else None

            rows += _rows_of(point, depth, width, 4, t4, tuple(rb.values()), cumulant(4),
                             th.connected_four_point(depth + 1, t4) / width, exact and exact[4], gp[4], extra,
                             class_errors(4))
            rows += _rows_of(point, depth, width, 2, t2, (rb[2],), lambda m2: m2 - kernel,
                             th.shift[depth][tuple(t2.T)] / width, exact and exact[2] - kernel, kernel, extra,
                             class_errors(2))
            if six:
                rows += _rows_of(point, depth, width, 6, t6, tuple(rb.values()), cumulant(6), np.zeros(len(t6)),
                                 exact[6], gp[6], extra, class_errors(6))
                for n, t in ((2, t2), (4, t4), (6, t6)):
                    elements.append(_element_rows(depth, width, n, t, tuple(rb.values()), cumulant(n),
                                                  exact[n], sd.get(n)))
            if log:
                log.info("%s L=%d n=%d done", point.name, depth, width)
    df = pd.DataFrame(rows)
    df.attrs["allow_nonfinite"] = ["exact", "z_exact"]  # NaN where no exact result exists
    return df, pd.concat(elements, ignore_index=True) if elements else pd.DataFrame(columns=ELEMENT_COLUMNS)

