"""Exact finite-width correlators by parameter-space duality (docs/physics.md sec. 3; P3).

For f(x) = W1 . h(W0 x + b0) + b1 with zero-mean parameters, each output unit is a sum of N
i.i.d. neuron terms u_i = w_i h_i(x) (w ~ N(0, sw^2)) scaled by N^{-1/2}, plus the bias b1.
Joint cumulants add, so every correlator is a polynomial in 1/N whose coefficients are
single-neuron moments E[h(x_a1) ... h(x_ar)] over (w0, b0) ~ N(0, diag(sw^2/d_in, sb^2)).

The pre-activations z_a = w0.x_a + b0 are jointly Gaussian with covariance q (P x P) of rank
m <= d_in + 1, so a neuron moment is an m-dimensional Gaussian integral. How it is computed:

Each activation's registry entry (``nnqft.activations``, field ``moments``) says which applies:

* closed forms where the entry has one for these inputs (Gauss-net; ReLU with sb = 0 on a ray
  from the origin; sin; linear).
* "cone" (ReLU): the integrand is positively homogeneous of degree r and supported on the polyhedral
  cone where the involved z_a are positive. The radial integral is done exactly; the cone is
  cut into simplicial cones on which the angular integrand is analytic (Gauss-Legendre on the
  simplex converges geometrically, unlike Gauss-Hermite across the kinks).
* "price" (Erf): tensor Gauss-Hermite converges slowly (erf(sqrt2 g)^6 needs ~160 nodes per dimension
  for 1e-8), so we integrate along the covariance instead (Price's theorem): dimension-free
  nested Gauss-Legendre integrals of the closed-form arcsine kernel.
* "hermite" (any other activation): tensor Gauss-Hermite in the m-dimensional pre-activation
  space, at the entry's resolution.
"""

from __future__ import annotations

import itertools
import math

import jax
import jax.numpy as jnp
import numpy as np
from scipy.special import gammaln, roots_hermitenorm, roots_legendre

from nnqft import correlators, kernels, networks
from nnqft.activations import DEFAULT_RESOLUTION, MAX_HERMITE_NODES, erf_kernel, slot_covariance
from nnqft.networks import NetworkSpec

METHODS = ("auto", "closed", "quadrature", "hermite")
_TOL = 1e-10  # relative tolerance of the geometric (rank, incidence) decisions


# ---------------------------------------------------------------- validation and helpers


def _validated(spec: NetworkSpec, x, orders) -> tuple[np.ndarray, tuple[int, ...]]:
    if not spec.zero_mean:
        raise ValueError(
            "exact correlators need zero-mean parameters; got "
            f"mean_w0={spec.mean_w0}, mean_w1={spec.mean_w1}"
        )
    x = np.asarray(x, dtype=np.float64)
    if x.ndim != 2 or x.shape[1] != spec.d_in:
        raise ValueError(f"x must have shape (P, d_in={spec.d_in}), got {x.shape}")
    orders = tuple(int(r) for r in orders)
    bad = [r for r in orders if r < 2 or r % 2]
    if bad or not orders:
        raise ValueError(
            f"orders must be even integers >= 2 (odd correlators vanish), got {orders}"
        )
    return x, tuple(sorted(set(orders)))


def _double_factorial(n: int) -> int:
    return math.prod(range(n, 0, -2))


def _gauss_legendre01(n: int) -> tuple[np.ndarray, np.ndarray]:
    t, w = roots_legendre(n)
    return (t + 1) / 2, w / 2


def _preactivation_factor(spec: NetworkSpec, x: np.ndarray) -> np.ndarray:
    """L (P, m) with L L^T = q and m = rank q: z = L g for g ~ N(0, I_m)."""
    theta = np.column_stack([x * spec.sw / np.sqrt(spec.d_in), np.full(len(x), spec.sb)])
    u, s, _ = np.linalg.svd(theta, full_matrices=False)
    keep = s > _TOL * max(s.max(), 1e-300)
    return u[:, keep] * s[keep]


# ---------------------------------------------------------------- closed forms


def _closed_form(spec: NetworkSpec, q: np.ndarray):
    """The registry's closed form of the moments on these inputs (a function of the multisets), or None."""
    closed = networks.activation(spec.activation).moments.closed
    return closed and closed(spec, q)


# ---------------------------------------------------------------- Erf: Price's theorem


def _erf_price(c: np.ndarray, n: int) -> np.ndarray:
    """E[prod_s erf(z_s)] for z ~ N(0, c), c (B, r, r) with r even, by Price's theorem.

    Along c(lam) = diag(c) + lam offdiag(c) the moment starts at prod_s E[erf z_s] = 0 and
    d/dlam = sum_{s<t} c_st E[erf'(z_s) erf'(z_t) prod_rest erf]. erf' = (2/sqrt pi) exp(-z^2)
    is Gaussian, so it is absorbed into the law of the rest: the factor det(I + 2A)^{-1/2}
    with A = c(lam)[st, st], and the Schur complement c' = c_rest - c_{rest,st} (A + I/2)^{-1}
    c_{st,rest}. This recurses down to the arcsine kernel at r = 2. The integrand is analytic
    on [0, 1] (c(lam) is a convex combination of PSD matrices), so n-point Gauss-Legendre
    converges geometrically.
    """
    r = c.shape[-1]
    if r == 2:
        return erf_kernel(c[..., 0, 1], c[..., 0, 0], c[..., 1, 1])
    pairs = np.array(list(itertools.combinations(range(r), 2)))
    rest = np.array([[i for i in range(r) if i not in p] for p in pairs])
    lam, w = _gauss_legendre01(n)
    a = c[:, pairs[:, 0], pairs[:, 0]]  # (B, pairs): diagonal entries do not move with lam
    b = c[:, pairs[:, 1], pairs[:, 1]]
    cst = c[:, pairs[:, 0], pairs[:, 1]]
    rd0 = c[:, rest, pairs[:, :1]]  # (B, pairs, r-2): off-diagonal, scale with lam
    rd1 = c[:, rest, pairs[:, 1:]]
    rr = c[:, rest[:, :, None], rest[:, None, :]]
    diag = np.eye(r - 2, dtype=bool)
    rr_diag, rr_off = np.where(diag, rr, 0.0), np.where(diag, 0.0, rr)
    x00 = rd0[..., :, None] * rd0[..., None, :]
    x11 = rd1[..., :, None] * rd1[..., None, :]
    x01 = rd0[..., :, None] * rd1[..., None, :]
    x01 = x01 + np.swapaxes(x01, -1, -2)

    lam = lam[None, :, None]  # (1, n, 1) against (B, 1, pairs)
    s11, s22, s12 = (a + 0.5)[:, None], (b + 0.5)[:, None], lam * cst[:, None]
    det = s11 * s22 - s12**2  # det(A + I/2), (B, n, pairs)

    def mat(v):  # a (B, n, pairs) factor against (B, n, pairs, r-2, r-2) matrices
        return v[..., None, None]

    schur = (
        rr_diag[:, None]
        + mat(lam) * rr_off[:, None]
        - mat(lam**2 / det) * (mat(s22) * x00[:, None] - mat(s12) * x01[:, None] + mat(s11) * x11[:, None])
    )
    inner = _erf_price(schur.reshape(-1, r - 2, r - 2), n).reshape(det.shape)
    # (4/pi) det(I + 2A)^{-1/2} = (2/pi) det(A + I/2)^{-1/2}
    return np.einsum("n,bnp->b", w, cst[:, None] * (2 / np.pi) / np.sqrt(det) * inner)


def _erf_price_chunked(c: np.ndarray, n: int, budget: int = 2**22) -> np.ndarray:
    """_erf_price in chunks of multisets, so that the innermost arrays stay within ``budget``."""
    r = c.shape[-1]
    leaf = 4 * math.prod(n * k * (k - 1) // 2 for k in range(4, r + 1, 2))
    step = max(1, budget // leaf)
    return np.concatenate([_erf_price(c[i : i + step], n) for i in range(0, len(c), step)])


# ---------------------------------------------------------------- ReLU: cones


def _extreme_rays(normals: np.ndarray) -> np.ndarray:
    """Unit extreme rays (k, m) of the pointed cone {y : normals y >= 0}, normals of rank m."""
    m = normals.shape[1]
    rays: list[np.ndarray] = []
    for rows in itertools.combinations(range(len(normals)), m - 1):
        if m == 1:
            v = np.ones(1)
        else:
            _, s, vt = np.linalg.svd(normals[list(rows)])
            if s[-1] < _TOL:
                continue
            v = vt[-1]
        for u in (v, -v):
            if np.all(normals @ u >= -_TOL) and not any(u @ ray > 1 - _TOL for ray in rays):
                rays.append(u)
    return np.array(rays).reshape(len(rays), m)


def _rank(vectors: np.ndarray) -> int:
    return int(np.linalg.matrix_rank(vectors, tol=_TOL)) if len(vectors) else 0


def _triangulate(rays: np.ndarray, tight: np.ndarray, face: tuple[int, ...], dim: int):
    """Pulling triangulation of a dim-dimensional face (ray indices) into simplicial cones.

    The face is the union of the cones from its first ray over its facets not containing
    that ray; facets are the faces cut out by one constraint with dimension dim - 1.
    """
    if len(face) == dim:
        return [face]
    apex = face[0]
    facets = {tuple(j for j in face if tight[i, j]) for i in range(len(tight))}
    out = []
    for facet in sorted(facets):
        if apex not in facet and _rank(rays[list(facet)]) == dim - 1:
            out += [(apex,) + s for s in _triangulate(rays, tight, facet, dim - 1)]
    return out


def _bisect(v: np.ndarray, min_cos: float = 0.0) -> list[np.ndarray]:
    """Split a simplicial cone (unit rays as columns) until no two rays are more than 90 deg apart.

    Wide cones bring |V tau| close to zero inside the simplex (three rays 120 deg apart in a
    plane: exactly zero), a singularity of the angular integrand that stalls Gauss-Legendre.
    With all ray pairs within 90 deg, |V tau|^2 >= sum_i tau_i^2 >= 1/m.
    """
    gram = v.T @ v
    i, j = np.unravel_index(np.argmin(gram), gram.shape)
    if gram[i, j] >= min_cos:
        return [v]
    mid = (v[:, i] + v[:, j]) / np.linalg.norm(v[:, i] + v[:, j])
    left, right = v.copy(), v.copy()
    left[:, i], right[:, j] = mid, mid
    return _bisect(left, min_cos) + _bisect(right, min_cos)


def _simplex_rule(m: int, n: int) -> tuple[np.ndarray, np.ndarray]:
    """Barycentric nodes (n^(m-1), m) and weights of a Gauss rule on the (m-1)-simplex.

    Collapsed (stick-breaking) coordinates of a tensor Gauss-Legendre rule; the weights sum
    to the simplex volume 1/(m-1)! in the coordinates tau_1..tau_{m-1}.
    """
    if m == 1:  # the 0-simplex: one point
        return np.ones((1, 1)), np.ones(1)
    s, w = _gauss_legendre01(n)
    grid = np.stack(np.meshgrid(*[s] * (m - 1), indexing="ij"), -1).reshape(-1, m - 1)
    wgrid = np.prod(np.stack(np.meshgrid(*[w] * (m - 1), indexing="ij"), -1).reshape(-1, m - 1), -1)
    tau = np.empty((len(grid), m))
    weight, remaining = wgrid, np.ones(len(grid))
    for i in range(m - 1):
        tau[:, i] = remaining * grid[:, i]
        weight = weight * remaining
        remaining = remaining * (1 - grid[:, i])
    tau[:, -1] = remaining
    return tau, weight


def _cone_rule(normals: np.ndarray, n: int) -> tuple[np.ndarray, np.ndarray]:
    """Unit nodes (J, m) and weights (J,) with, for F homogeneous of degree r on K = {normals y >= 0},

        int_K F(y) phi_m(y) dy = c(m, r) sum_j w_j F(u_j),   c(m, r) = _radial_constant(m, r).

    On a simplicial cone y = V t (t >= 0), t = rho tau with tau on the simplex: the rho
    integral is Gaussian-exact and leaves |det V| |V tau|^-m F(V tau / |V tau|) d tau.
    """
    m = normals.shape[1]
    rays = _extreme_rays(normals)
    if _rank(rays) < m:  # empty interior: the integrand vanishes almost everywhere
        return np.zeros((0, m)), np.zeros(0)
    tight = np.abs(normals @ rays.T) <= _TOL
    simplices = _triangulate(rays, tight, tuple(range(len(rays))), m)
    cones = [v for s in simplices for v in _bisect(rays[list(s)].T)]
    tau, wtau = _simplex_rule(m, n)
    nodes, weights = [], []
    for v in cones:
        y = tau @ v.T
        norm = np.linalg.norm(y, axis=1)
        nodes.append(y / norm[:, None])
        weights.append(abs(np.linalg.det(v)) * wtau * norm**-m)
    return np.concatenate(nodes), np.concatenate(weights)


def _radial_constant(m: int, r: int) -> float:
    """(2 pi)^(-m/2) int_0^inf rho^(m+r-1) exp(-rho^2/2) d rho."""
    return math.exp(-m / 2 * math.log(2 * math.pi) + ((m + r) / 2 - 1) * math.log(2) + gammaln((m + r) / 2))


def _support_rule(lrows: np.ndarray, n: int):
    """Reduced constraint rows (|A|, m_A) and cone rule of the positive region of a support A."""
    norms = np.linalg.norm(lrows, axis=1)
    if np.any(norms <= _TOL * max(norms.max(), 1e-300)):  # h(x_a) = relu(0) = 0 identically
        return None
    # z_A depends on g only through its projection on the row space of L_A (dimension m_A)
    _, s, vt = np.linalg.svd(lrows, full_matrices=False)
    reduced = lrows @ vt[s > _TOL * s.max()].T
    nodes, weights = _cone_rule(reduced / np.linalg.norm(reduced, axis=1, keepdims=True), n)
    return reduced, nodes, weights


def _relu_cone(l: np.ndarray, tuples: np.ndarray, n: int, rules: dict) -> np.ndarray:
    """E[prod_s relu(z_{a_s})] for each multiset, z = L g; ``rules`` caches cones by support."""
    r = tuples.shape[1]
    counts = np.stack([(tuples == a).sum(axis=1) for a in range(len(l))], axis=1)  # (T, P)
    out = np.zeros(len(tuples))
    supports, inverse = np.unique(counts > 0, axis=0, return_inverse=True)
    for k, support in enumerate(supports):
        key = tuple(np.flatnonzero(support))
        if key not in rules:
            rules[key] = _support_rule(l[list(key)], n)
        if rules[key] is None:
            continue
        reduced, nodes, weights = rules[key]
        rows = np.flatnonzero(inverse.ravel() == k)
        z = np.maximum(reduced @ nodes.T, 0.0)  # (|A|, J)
        table = np.cumprod(np.broadcast_to(z[:, None], (len(z), r, z.shape[1])), axis=1)
        powers = counts[np.ix_(rows, key)]  # (T_A, |A|), each >= 1: table[a, e-1] = z_a^e
        values = np.prod(table[np.arange(len(key)), powers - 1], axis=1)
        out[rows] = _radial_constant(reduced.shape[1], r) * values @ weights
    return out


# ---------------------------------------------------------------- generic: Gauss-Hermite


def _product_sums(hz: np.ndarray, weights: np.ndarray, orders) -> dict[int, np.ndarray]:
    """sum_j weights_j prod_s hz[j, a_s] on every multiset of each order, {r: (T_r,)}.

    hz is (J, P): h at J nodes or samples. An order-r product is the product of its first r//2
    slots and of the rest, so the sum over j is one matrix product of the two halves'
    products (BLAS), instead of a gather and a reduction per multiset.

    The same sums as the engine's ``moment_sums.sums`` on ``moment_terms``, kept in numpy for the
    quadrature paths: here each order's products extend the order below row by row in a (T, J)
    layout, and measured on 2^17 rows of 6 inputs (orders 2, 4, 6) this is 0.17 s against 0.40 s for
    ``moment_sums.sums`` jitted and 0.30 s for its plan in numpy (with the jitted one the tests on
    2 x 10^7 Monte Carlo neurons took 52-57 s instead of 16-19 s).
    """
    p = hz.shape[1]
    halves = {r: (r // 2, r - r // 2) for r in orders}
    prods = {1: np.ascontiguousarray(hz.T)}  # (T_k, J): row gathers copy contiguous memory
    for k in range(2, max(orders) - max(orders) // 2 + 1):
        t = correlators.multisets(p, k)  # extends the order k-1 multiset t[:, :-1] by t[:, -1]
        prods[k] = prods[k - 1][correlators.multiset_position(p, t[:, :-1])] * prods[1][t[:, -1]]
    out = {}
    for r, (k1, k2) in halves.items():
        t = correlators.multisets(p, r)
        full = (prods[k1] * weights) @ prods[k2].T
        first, rest = correlators.multiset_position(p, t[:, :k1]), correlators.multiset_position(p, t[:, k1:])
        out[r] = full[first, rest]
    return out


def _hermite(spec: NetworkSpec, x: np.ndarray, orders, n: int, chunk: int = 2**17) -> dict:
    """Tensor Gauss-Hermite over g ~ N(0, I_m), z = L g, for every multiset of every order."""
    l = _preactivation_factor(spec, x)
    m = l.shape[1]
    if n**m > MAX_HERMITE_NODES:
        raise ValueError(
            f"tensor Gauss-Hermite for {spec.activation!r} needs {n}^{m} = {n**m:.2e} nodes (rank-{m} "
            f"pre-activations, d_in = {spec.d_in}), over the budget {MAX_HERMITE_NODES:.2e} (minutes on 2 "
            f"cores); use fewer input dimensions or an explicit smaller resolution"
        )
    q_diag = networks.preactivation_variance(spec, x)
    h = networks.activation(spec.activation).h
    t, w = roots_hermitenorm(n)
    w = w / np.sqrt(2 * np.pi)
    sums = {r: 0.0 for r in orders}
    for start in range(0, n**m, chunk):
        idx = np.unravel_index(np.arange(start, min(start + chunk, n**m)), (n,) * m)
        g = np.stack([t[i] for i in idx], axis=1)
        wg = np.prod(np.stack([w[i] for i in idx], axis=1), axis=1)
        hz = np.asarray(h(g @ l.T, q_diag), dtype=np.float64)
        for r, v in _product_sums(hz, wg, orders).items():
            sums[r] = sums[r] + v
    return sums


# ---------------------------------------------------------------- public API


def neuron_moments(
    spec: NetworkSpec, x, orders=(2, 4, 6), method: str = "auto", resolution: int | None = None
) -> dict[int, np.ndarray]:
    """Single-neuron moments E[h(x_a1) ... h(x_ar)] on ``multisets(P, r)`` for each even r.

    Parameters
    ----------
    spec : zero-mean network specification (d_out and the width play no role).
    x : inputs, shape (P, d_in).
    orders : even orders r.
    method : "closed" (the registry entry's closed form: Gauss-net, sin, linear; ReLU with
        sb = 0 on a ray), "quadrature" (the entry's scheme: ReLU exact radial integral and
        simplex Gauss rules on cones; Erf Price's theorem; otherwise Gauss-Hermite), "hermite"
        (tensor Gauss-Hermite in the rank-m pre-activation space, any activation; slow for
        ReLU's kinks and Erf's steepness), or "auto" (closed form where one exists, else
        quadrature).
    resolution : Gauss nodes per dimension (per level for Erf); None takes the entry's
        ``hermite_resolution`` for Gauss-Hermite where it sets one, else ``DEFAULT_RESOLUTION``
        of the scheme used.

    Returns
    -------
    {r: array (T_r,)} in float64.
    """
    x, orders = _validated(spec, x, orders)
    if method not in METHODS:
        raise ValueError(f"unknown method {method!r}; choose from {METHODS}")
    if resolution is not None and resolution < 1:
        raise ValueError(f"resolution must be a positive integer, got {resolution}")
    q = kernels.preactivation_covariance(spec, x)
    tuples = {r: correlators.multisets(len(x), r) for r in orders}
    closed = _closed_form(spec, q) if method in ("closed", "auto") else None
    if method == "closed" and closed is None:
        raise ValueError(
            f"no closed form for activation {spec.activation!r} with sb={spec.sb} on these inputs "
            f"(activations with closed forms, some only on special inputs: "
            f"{sorted(n for n, a in networks.ACTIVATIONS.items() if a.moments.closed)})"
        )
    if closed is not None:
        return {r: closed(t) for r, t in tuples.items()}
    entry = networks.activation(spec.activation).moments
    scheme = "hermite" if method == "hermite" else entry.quadrature
    n = resolution or (scheme == "hermite" and entry.hermite_resolution) or DEFAULT_RESOLUTION[scheme]
    if scheme == "hermite":
        return _hermite(spec, x, orders, n)
    if scheme == "price":
        return {r: _erf_price_chunked(slot_covariance(q, t), n) for r, t in tuples.items()}
    l, rules = _preactivation_factor(spec, x), {}
    return {r: _relu_cone(l, t, n, rules) for r, t in tuples.items()}


def _neuron_sampler(spec: NetworkSpec, x: np.ndarray, batch: int):
    """A jitted key -> h (batch, P): the hidden units of ``batch`` i.i.d. neurons, in float64."""

    @jax.jit
    def sample(key):
        theta = jax.random.normal(key, (batch, spec.d_in + 1), jnp.float64)
        w0 = spec.sw / np.sqrt(spec.d_in) * theta[None, :, : spec.d_in]
        b0 = spec.sb * theta[None, :, spec.d_in]
        return networks.hidden(spec, w0, b0, x)[0]

    return sample


def neuron_moments_mc(
    spec: NetworkSpec, x, orders=(2, 4, 6), n_samples: int = 10**6, *, key, batch: int = 2**16
) -> tuple[dict[int, np.ndarray], dict[int, np.ndarray]]:
    """Monte Carlo neuron moments and their standard errors, ({r: (T_r,)}, {r: (T_r,)}).

    Neurons are i.i.d., so the standard error is the sample standard deviation / sqrt(n).
    Batch j uses ``fold_in(key, j)``; per-batch sums of products and of their squares are
    taken in float64 and merged with Chan's update of mean and squared deviations.
    """
    x, orders = _validated(spec, x, orders)
    if n_samples < 2 or batch < 1:
        raise ValueError(f"need n_samples >= 2 and batch >= 1, got {n_samples}, {batch}")
    batch = min(batch, n_samples)
    sample = _neuron_sampler(spec, x, batch)
    count, mean, m2 = 0, {r: 0.0 for r in orders}, {r: 0.0 for r in orders}
    for j in range(math.ceil(n_samples / batch)):
        nb = min(batch, n_samples - j * batch)
        h = np.asarray(sample(jax.random.fold_in(key, j)))[:nb]
        ones = np.ones(nb)
        sums, squares = _product_sums(h, ones, orders), _product_sums(h * h, ones, orders)
        for r in orders:
            mb = sums[r] / nb
            delta = mb - mean[r]
            mean[r] = mean[r] + delta * nb / (count + nb)
            m2[r] = m2[r] + (squares[r] - nb * mb**2) + delta**2 * count * nb / (count + nb)
        count += nb
    return mean, {r: np.sqrt(m2[r] / (count - 1) / count) for r in orders}


def _output_cumulants(neuron_cumulants: dict, sb: float, eps) -> dict:
    """kappa_2(f) = sb^2 + kappa_2(u), kappa_r(f) = eps^(r/2 - 1) kappa_r(u) with eps = 1/N."""
    eps = np.asarray(eps)[..., None]
    return {
        r: sb**2 + k if r == 2 else eps ** (r // 2 - 1) * k for r, k in neuron_cumulants.items()
    }


def exact_correlators(
    spec: NetworkSpec, x, widths, orders=(2, 4, 6), moments: dict | None = None
) -> dict[str, np.ndarray]:
    """Exact G^(n) of one output unit at each width, from single-neuron moments.

    Parameters
    ----------
    spec, x : as for ``neuron_moments``.
    widths : hidden widths N, shape (W,).
    orders : even correlator orders n.
    moments : ``neuron_moments`` output covering every even r <= max(orders); computed with
        method "auto" when None. One set of moments serves every width.

    Returns
    -------
    dict with, for each n, on ``multisets(P, n)``:
    ``G{n}`` (W, T_n) full moment E[f_a1 ... f_an];
    ``G{n}_connected`` (W, T_n) joint cumulant (= N^(1 - n/2) kappa_n(u) for n >= 4);
    ``G{n}_coef`` (n/2, T_n) with G{n}(N) = sum_j G{n}_coef[j] N^-j; [0] is the GP (Wick)
    value, and for n = 4, 6 the last row is kappa_n(u), the connected part's coefficient.
    """
    x, orders = _validated(spec, x, orders)
    widths = np.asarray(widths, dtype=np.float64)
    if widths.ndim != 1 or np.any(widths <= 0):
        raise ValueError(f"widths must be a 1-D array of positive numbers, got {widths}")
    needed = tuple(range(2, max(orders) + 1, 2))
    if moments is None:
        moments = neuron_moments(spec, x, needed)
    missing = [r for r in needed if r not in moments]
    if missing:
        raise ValueError(f"moments lack orders {missing}; need every even order in {needed}")
    p = len(x)
    for r in needed:
        want = (len(correlators.multisets(p, r)),)  # one value per multiset of the P inputs
        if np.shape(moments[r]) != want:
            raise ValueError(f"moments[{r}] has shape {np.shape(moments[r])}; expected {want} for {p} inputs")
    u = {r: _double_factorial(r - 1) * spec.sw**r * np.asarray(moments[r]) for r in needed}
    kappa_u = {r: correlators.cumulants_from_moments(u, p, r) for r in needed}
    kappa_f = _output_cumulants(kappa_u, spec.sb, 1 / widths)
    out = {}
    for n in orders:
        shape = (len(widths), len(correlators.multisets(p, n)))
        out[f"G{n}"] = np.broadcast_to(correlators.moments_from_cumulants(kappa_f, p, n), shape).copy()
        out[f"G{n}_connected"] = np.broadcast_to(kappa_f[n], shape).copy()
        out[f"G{n}_coef"] = _inverse_width_coefficients(kappa_u, spec.sb, p, n)
    return out


def _inverse_width_coefficients(kappa_u: dict, sb: float, p: int, n: int) -> np.ndarray:
    """Coefficients c_j (n/2, T_n) of G^(n) = sum_j c_j eps^j, eps = 1/N.

    c_0 (the GP value, eps = 0) and c_top = kappa_n(u) are exact. The middle ones are read off
    by a discrete Fourier transform over eps on a circle whose radius balances |c_0| against
    |c_top| eps^top, so that no coefficient is swamped by round-off of a much larger one.
    """
    c0 = correlators.moments_from_cumulants(_output_cumulants(kappa_u, sb, 0.0), p, n)
    if n == 2:
        return c0[None]
    top = n // 2 - 1
    radius = (np.max(np.abs(c0)) / max(np.max(np.abs(kappa_u[n])), 1e-300)) ** (1 / top)
    eps = radius * np.exp(2j * np.pi * np.arange(top + 1) / (top + 1))
    on_circle = correlators.moments_from_cumulants(_output_cumulants(kappa_u, sb, eps), p, n)
    coef = (np.fft.fft(on_circle, axis=0) / (top + 1)).real / radius ** np.arange(top + 1)[:, None]
    coef[0], coef[top] = c0, kappa_u[n]
    return coef
