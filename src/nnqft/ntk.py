"""The neural tangent kernel of deep MLPs in the NTK parametrisation (docs/physics.md sec. 11).

Networks of depth L (hidden layers) and widths n_1..n_L, neural-tangents' convention:

    z1 = (sw / sqrt(d_in)) W1 x + sb b1,   z(l+1) = (sw / sqrt(n_l)) W(l+1) s(z(l)) + sb b(l+1),
    f = z(L+1),   every W, b ~ N(0, 1)

so C_W = sw^2 and C_b = sb^2, and the NNGP kernels are those of docs/physics.md sec. 10. The
empirical NTK Theta_hat(x, x') = sum_theta df(x)/dtheta df(x')/dtheta. Since df/dW(l)_ij =
(sw / sqrt(n_(l-1))) delta(l)_i h(l-1)_j and df/db(l)_i = sb delta(l)_i, with delta(l) = df/dz(l)
the per-network Jacobian of f with respect to layer l's pre-activations, the sum over one layer's
parameters factorises:

    Theta_hat = sum_l [C_W h(l-1).h(l-1)' / n_(l-1) + C_b] delta(l).delta(l)'     (h(0) = x, delta(L+1) = 1)

which costs one backward pass instead of a (P, #parameters) Jacobian (the tests check it against
the full Jacobian).

The analytic (infinite-width) NTK follows the recursion

    Theta1 = K1,   Theta(l+1) = K(l+1) + C_W <s'_a s'_b>_K(l) Theta(l)

on the NNGP kernels of ``nnqft.deep`` (one NNGP recursion in the package), with <s'_a s'_b> =
dG/dK_ab from its pair functions (Price's theorem): closed forms for linear, ReLU and erf,
Gauss-Hermite quadrature of s' s' otherwise.
"""

from __future__ import annotations

import functools
from typing import NamedTuple

import jax
import jax.numpy as jnp
import numpy as np
import pandas as pd
import xarray as xr

from nnqft import deep, deviation, estimators
from nnqft.activations import activation, require_h_alone


def derivative_kernel(name: str, k: np.ndarray) -> np.ndarray:
    """<s'(z_a) s'(z_b)> for z ~ N(0, k), shape (P, P): dG/dK_ab of ``deep.pair_functions``, which on
    the diagonal (K_aa = K_ab = K_bb) is <s'(z_a)^2>."""
    pair, _ = deep.pair_functions(name)
    a, b = np.triu_indices(len(k))
    with np.errstate(divide="ignore", invalid="ignore"):  # ReLU's Hessian on the diagonal: unused
        _, grad, _ = pair(k[a, a], k[a, b], k[b, b])
    out = np.empty_like(k)
    out[a, b] = out[b, a] = grad[..., 1]
    return out


def analytic_ntk(x, name: str, sw: float, sb: float, depth: int) -> np.ndarray:
    """Infinite-width NTK Theta(l) of layers 1..depth+1 on inputs x (P, d_in), shape (depth+1, P, P);
    the last one is the network output's."""
    require_h_alone(name, "the NTK stage's networks")
    kernels = deep.nngp_kernels(x, name, sw**2, sb**2, depth)
    thetas = [kernels[0]]
    for layer in range(depth):
        thetas.append(kernels[layer + 1] + sw**2 * derivative_kernel(name, kernels[layer]) * thetas[-1])
    return np.stack(thetas)


def layer_sizes(d_in: int, width: int, depth: int) -> tuple[int, ...]:
    """(d_in, n_1, ..., n_L, 1) for equal hidden widths."""
    if d_in < 1 or width < 1 or depth < 1:
        raise ValueError(f"need d_in, width, depth >= 1, got {d_in}, {width}, {depth}")
    return (d_in,) + (width,) * depth + (1,)


def n_parameters(sizes) -> int:
    """Weights and biases of the MLP with these layer sizes."""
    return sum(m * n + n for m, n in zip(sizes[:-1], sizes[1:]))


def unflatten(sizes, theta):
    """Split a flat parameter vector (..., n_parameters) into [(W (.., n_out, n_in), b (.., n_out))]."""
    params, start = [], 0
    lead = theta.shape[:-1]
    for m, n in zip(sizes[:-1], sizes[1:]):
        w = theta[..., start : start + m * n].reshape(*lead, n, m)
        b = theta[..., start + m * n : start + m * n + n]
        params.append((w, b))
        start += m * n + n
    return params


def sample_params(sizes, batch: int, *, key, dtype=jnp.float32):
    """A batch of networks: every parameter ~ N(0, 1), drawn as one flat block (fast on CPU)."""
    return unflatten(sizes, jax.random.normal(key, (batch, n_parameters(sizes)), dtype))


def preactivation(h, w, b, sw: float, sb: float):
    """z = (sw / sqrt(n_in)) h W^T + sb b of one layer, for layer inputs h (P, n_in)."""
    return (sw / np.sqrt(h.shape[-1])) * h @ w.T + sb * b


def forward(params, x, name: str, sw: float, sb: float, z_shifts=None, h_shifts=None):
    """(f(x) (P,), layer inputs h(0) = x, ..., h(L), pre-activations z(1), ..., z(L)) of one network.
    ``z_shifts`` (one (P, n_l) array per layer l = 1..L+1) are added to the pre-activations and
    ``h_shifts`` (l = 1..L) to the hidden layers' outputs, so that df/dshift is delta(l) and g(l)."""
    h_of = activation(name).h
    h, inputs, preactivations = x, [], []
    for l, (w, b) in enumerate(params):
        inputs.append(h)
        z = preactivation(h, w, b, sw, sb)
        if z_shifts is not None:
            z = z + z_shifts[l]
        if l == len(params) - 1:
            return z[:, 0], inputs, preactivations
        preactivations.append(z)
        h = h_of(z, 0.0)
        if h_shifts is not None:
            h = h + h_shifts[l]


class NetworkPass(NamedTuple):
    """One network's forward and backward pass on P inputs, each entry (P, n_l): the output f (P,),
    layer inputs h(0) = x, ..., h(L), pre-activations z(1..L), g(l) = df/dh(l) for l = 1..L,
    delta(l) = df/dz(l) = s'(z(l)) g(l) for l = 1..L+1 (delta(L+1) = 1), and the output weights (n_L,)."""

    f: jnp.ndarray
    inputs: list
    preactivations: list
    grads: list
    deltas: list
    w_out: jnp.ndarray


def network_pass(params, x, name: str, sw: float, sb: float) -> NetworkPass:
    """The forward and the backward pass of one network, once, for Theta_hat and its control variate."""
    x = jnp.asarray(x, dtype=params[0][0].dtype)
    z_shifts = [jnp.zeros((x.shape[0], w.shape[0]), x.dtype) for w, _ in params]
    # each f(x_a) depends on row a of every shift only, so the gradient of the sum is delta(l)(x_a), g(l)(x_a)
    def total(z_sh, h_sh):
        f, inputs, preactivations = forward(params, x, name, sw, sb, z_sh, h_sh)
        return f.sum(), (f, inputs, preactivations)

    h_shifts = z_shifts[:-1]  # h(l) = s(z(l)) has z(l)'s shape, l = 1..L
    (deltas, grads), (f, inputs, preactivations) = jax.grad(total, argnums=(0, 1), has_aux=True)(z_shifts, h_shifts)
    return NetworkPass(f, inputs, preactivations, grads, deltas, params[-1][0][0])


def kernel_of(net: NetworkPass, sw: float, sb: float):
    """Theta_hat (P, P) of one network's pass, in float64: sum_l [C_W h.h'/n + C_b] delta(l).delta(l)'."""
    theta = 0.0
    for h, d in zip(net.inputs, net.deltas):
        hh = jnp.einsum("pi,qi->pq", h, h, preferred_element_type=jnp.float64)
        dd = jnp.einsum("pi,qi->pq", d, d, preferred_element_type=jnp.float64)
        theta = theta + (sw**2 * hh / h.shape[-1] + sb**2) * dd
    return theta


def empirical_ntk(params, x, name: str, sw: float, sb: float):
    """Theta_hat (P, P) of one network, in float64, from its per-layer Jacobians delta(l)."""
    return kernel_of(network_pass(params, x, name, sw, sb), sw, sb)


@functools.lru_cache(maxsize=64)
def ntk_statistics(name: str, sw: float, sb: float, sizes: tuple, x_rows: tuple, dtype: str):
    """(key, batch) -> {"theta": Theta_hat, "theta2": Theta_hat^2} per network, each (batch, P, P), and
    for activations with a control variate and L >= 2 also "theta_cv": Theta_hat - c and "theta_cv2":
    its square (at L = 1 Theta_hat - c = Theta identically: nothing to measure).

    Cached on its hashable arguments, so ``nnqft.blocks`` compiles each (depth, width) once.
    """
    require_h_alone(name, "the NTK stage's networks")
    x = np.array(x_rows, dtype=np.float64)
    depth = len(sizes) - 2
    response = fluctuation_response(name, sw, sb, depth, x_rows) if has_control_variate(name) and depth >= 2 else None

    def one(p):
        net = network_pass(p, x, name, sw, sb)
        theta = kernel_of(net, sw, sb)
        out = {"theta": theta, "theta2": theta**2}
        if response is not None:
            cv = theta - control_variate(net, name, sw, sb, response)
            out.update(theta_cv=cv, theta_cv2=cv**2)
        return out

    def per_network(key, batch):
        return jax.vmap(one)(sample_params(sizes, batch, key=key, dtype=jnp.dtype(dtype)))

    return per_network


def footprint(sizes, n_points: int) -> int:
    """Array elements one network occupies in a vectorised call: parameters and activations."""
    return n_parameters(sizes) + 4 * n_points * sum(sizes)


def ntk_block_means(name: str, sw: float, sb: float, x, depth: int, width: int, sampling, ensemble: str):
    """Block means of Theta_hat and Theta_hat^2, each (n_blocks, P, P), keyed (ensemble, width, block)."""
    x = np.asarray(x, dtype=np.float64)
    sizes = layer_sizes(x.shape[1], width, depth)
    stats = ntk_statistics(name, float(sw), float(sb), sizes, tuple(map(tuple, x.tolist())), sampling.dtype)
    return sampling.run(stats, ensemble, width, footprint(sizes, len(x)))


# ---------------------------------------------------------------- control variate with known mean
#
# Given layers 1..l-1, layer l's units z(l)_i are iid N(0, K_hat(l)) with the network's own empirical
# kernel K_hat(l) = C_b + C_W h(l-1).h(l-1)'/n, so each of
#
#   D_K(l) = (1/n) sum_i s(z(l)_i) s(z(l)_i)' - G(K_hat(l)),   D_S(l) = (1/n) sum_i s'(z(l)_i) s'(z(l)_i)' - G'(K_hat(l)),
#   D_W    = (1/n) sum_i (w_i^2 - 1) s'(z(L)_i) s'(z(L)_i)'     (w: output weights, independent of layers <= L)
#
# has conditional mean 0, hence mean 0 exactly at every width. So has each layer's backward fluctuation
# (``backward_fluctuations``): delta(l) = s'(z(l)) * (sw/sqrt(n)) W(l+1)^T delta(l+1), and the part of
# W(l+1)'s rows orthogonal to the span of h(l)'s P vectors is independent of everything else (z(l+1) sees
# only the parallel part), so delta(l).delta(l)' minus its average over that part, E(l), has mean 0.
# c = sum J . D + sum_l Theta(l) * E(l), with J the linear response of the analytic NTK to the forward
# fluctuations and Theta(l) (layer l's analytic NTK) its response to delta(l).delta(l)', has E[c] = 0
# for any fixed coefficients, and Theta_hat - c has the mean of Theta_hat without its O(1/sqrt(n))
# fluctuations: its variance is O(1/n^2). At L = 1 Theta_hat is linear in the D's: Theta_hat - c = Theta.


def _relu_pair_jax(kaa, kab, kbb):
    """<relu relu> and <step step> (arc-cosine kernels of degree 1 and 0); 0 where a variance is 0."""
    norm = jnp.sqrt(kaa * kbb)
    live = norm > 0
    rho = jnp.clip(kab / jnp.where(live, norm, 1.0), -1.0, 1.0)
    t = jnp.arccos(rho)
    return (jnp.where(live, norm * (jnp.sqrt(1 - rho**2) + (jnp.pi - t) * rho) / (2 * jnp.pi), 0.0),
            jnp.where(live, (jnp.pi - t) / (2 * jnp.pi), 0.0))


def _erf_pair_jax(kaa, kab, kbb):
    """Williams: (2/pi) arcsin(2 K_ab / sqrt(A B)) and (4/pi) / sqrt(A B - 4 K_ab^2), A = 1 + 2 K_aa."""
    a, b = 1 + 2 * kaa, 1 + 2 * kbb
    return (2 / jnp.pi) * jnp.arcsin(2 * kab / jnp.sqrt(a * b)), (4 / jnp.pi) / jnp.sqrt(a * b - 4 * kab**2)


def _linear_pair_jax(kaa, kab, kbb):
    return kab, jnp.ones_like(kab)


# (pair (G, G') off the diagonal, the same on the diagonal K_aa = K_ab = K_bb, s') of the activations
# with a closed-form pair function; the control variate exists for these only.
_PAIR_JAX = {
    "relu": (_relu_pair_jax, lambda k: (k / 2, jnp.where(k > 0, 0.5, 0.0)), lambda z: (z > 0).astype(z.dtype)),
    "erf": (_erf_pair_jax, lambda k: _erf_pair_jax(k, k, k),
            lambda z: (2 / jnp.sqrt(jnp.pi)) * jnp.exp(-(z**2))),
    "linear": (_linear_pair_jax, lambda k: (k, jnp.ones_like(k)), jnp.ones_like),
}


def has_control_variate(name: str) -> bool:
    return name in _PAIR_JAX


def pair_matrices(name: str, k):
    """(G(K), G'(K)), each (P, P): <s_a s_b> and <s'_a s'_b> for z ~ N(0, K), in JAX. The diagonal uses
    the one-variable form, so derivatives stay finite there (ReLU's arccos is singular at rho = 1)."""
    pair, diag, _ = _PAIR_JAX[name]
    d = jnp.diag(k)
    eye = jnp.eye(k.shape[-1], dtype=bool)
    g, gd = pair(d[:, None], jnp.where(eye, 0.0, k), d[None, :])
    dg, dgd = diag(k)
    return jnp.where(eye, dg, g), jnp.where(eye, dgd, gd)


def perturbed_ntk(x, name: str, sw: float, sb: float, d_k, d_s, d_w):
    """The analytic NTK recursion (``analytic_ntk``'s, in JAX) with fluctuations added per layer l = 1..L:
    d_k[l] to <s s>, d_s[l] to <s' s'> and d_w to the last layer's <s' s'>. At zero it is analytic_ntk."""
    c_w, c_b = sw**2, sb**2
    k = c_b + c_w * x @ x.T / x.shape[1]
    theta = k
    for l in range(len(d_k)):
        g, gd = pair_matrices(name, k)
        sdot = gd + d_s[l] + (d_w if l == len(d_k) - 1 else 0.0)
        k = c_b + c_w * (g + d_k[l])
        theta = k + c_w * sdot * theta
    return theta


@functools.lru_cache(maxsize=64)
def fluctuation_response(name: str, sw: float, sb: float, depth: int, x_rows: tuple):
    """J: d Theta / d (d_k, d_s, d_w) at zero, as arrays (L, P, P, P, P), (L, P, P, P, P), (P, P, P, P), and
    the response to each hidden layer's delta(l).delta(l)' below the last, the layer NTKs Theta(1..L-1)
    (L-1, P, P): Theta = sum_l K(l) * delta(l).delta(l)' at infinite width, and delta(m).delta(m)' for
    m < l carries delta(l).delta(l)' times C_W <s' s'> of layers m..l-1, which sums to Theta(l)."""
    x = jnp.asarray(np.array(x_rows, dtype=np.float64))
    p = len(x_rows)
    zeros = (jnp.zeros((depth, p, p)), jnp.zeros((depth, p, p)), jnp.zeros((p, p)))
    # jitted: op-by-op dispatch of the small recursion costs seconds
    j_k, j_s, j_w = jax.jit(jax.jacfwd(lambda a, b, c: perturbed_ntk(x, name, sw, sb, a, b, c),
                                       argnums=(0, 1, 2)))(*zeros)
    # jacfwd puts the output's (p, q) first: (p, q, L, a, b) -> (L, p, q, a, b)
    theta_below = analytic_ntk(np.array(x_rows, dtype=np.float64), name, sw, sb, depth)[: depth - 1]
    return np.moveaxis(np.asarray(j_k), 2, 0), np.moveaxis(np.asarray(j_s), 2, 0), np.asarray(j_w), theta_below


def fluctuations_of(net: NetworkPass, name: str, sw: float, sb: float):
    """(D_K (L, P, P), D_S (L, P, P), D_W (P, P)) of one network's pass, in float64: empirical sums minus
    their conditional means given the layer below (each has mean 0 exactly)."""
    s_prime = _PAIR_JAX[name][2]
    c_w, c_b = sw**2, sb**2
    d_k, d_s = [], []
    for below, h, z in zip(net.inputs[:-1], net.inputs[1:], net.preactivations):
        n = z.shape[-1]
        k_hat = c_b + c_w * jnp.einsum("pi,qi->pq", below, below, preferred_element_type=jnp.float64) / below.shape[-1]
        g, gd = pair_matrices(name, k_hat)
        dz = s_prime(z).astype(jnp.float64)
        d_k.append(jnp.einsum("pi,qi->pq", h, h, preferred_element_type=jnp.float64) / n - g)
        d_s.append(dz @ dz.T / n - gd)
    w_out = net.w_out.astype(jnp.float64)
    d_w = (dz * (w_out**2 - 1)) @ dz.T / dz.shape[-1]
    return jnp.stack(d_k), jnp.stack(d_s), d_w


# Relative cut-off on a Gram-Schmidt residual's squared norm: exactly dependent inputs (ReLU's dead units,
# P > n) leave rounding-size residuals, which must not count as directions of the span.
_SPAN_RTOL = 1e-10


def span_basis(h) -> jnp.ndarray:
    """Orthonormal rows spanning the rows of h (P, n), zero rows for dependent ones: Gram-Schmidt with
    one re-orthogonalisation per row (float64 accuracy), as a scan over the rows. Plain array operations:
    a batched LAPACK call in this vmapped graph left XLA's CPU thread pool waiting forever on large
    batches; the scan compiles the row step once instead of P^2 unrolled projections."""
    def add_row(basis, i):
        row = h[i]
        v = row - (basis @ row) @ basis  # rows not yet filled are 0 and project out nothing
        v = v - (basis @ v) @ basis
        norm2 = v @ v
        keep = norm2 > _SPAN_RTOL * (row @ row)
        return basis.at[i].set(jnp.where(keep, v / jnp.sqrt(jnp.where(keep, norm2, 1.0)), 0.0)), None

    basis, _ = jax.lax.scan(add_row, jnp.zeros_like(h), jnp.arange(h.shape[0]))
    return basis


def backward_fluctuations(net: NetworkPass, name: str, sw: float) -> jnp.ndarray:
    """E(l), l = 1..L-1, (L-1, P, P) in float64, of one network's pass (L >= 2, equal hidden widths):
    delta(l).delta(l)' minus its mean over the part of W(l+1) orthogonal to h(l) (mean 0 exactly, see above).

    g = df/dh(l) = (sw/sqrt(n)) delta(l+1) W(l+1) (P, n); with u its projection onto the span of h(l)'s
    rows, the orthogonal part of g is Gaussian given the rest, with covariance (C_W/n) delta(l+1).delta(l+1)'
    times the projector Pi_perp, so that mean is (s' u).(s' u)' + (C_W/n) delta(l+1).delta(l+1)'
    * (s' diag(Pi_perp) s'^T)."""
    # every hidden layer below the last at once (equal widths): z(l), h(l), delta(l+1), g(l) for l = 1..L-1
    sp = _PAIR_JAX[name][2](jnp.stack(net.preactivations[:-1])).astype(jnp.float64)
    h, d_up = (jnp.stack(a[1:-1]).astype(jnp.float64) for a in (net.inputs, net.deltas))
    g = jnp.stack(net.grads[:-1]).astype(jnp.float64)
    n = h.shape[-1]

    def outer(a, b):
        return a @ jnp.swapaxes(b, -1, -2)

    q = jax.vmap(span_basis)(h)
    u = outer(g, q) @ q
    perp = 1.0 - jnp.sum(q**2, axis=-2)  # diag(Pi_perp), without the (n, n) matrix
    full, par = sp * g, sp * u
    return outer(full, full) - outer(par, par) - (sw**2 / n) * outer(d_up, d_up) * outer(sp * perp[:, None, :], sp)


def control_variate(net: NetworkPass, name: str, sw: float, sb: float, response) -> jnp.ndarray:
    """c = J . D + sum_l Theta(l) * E(l) (P, P) of one network's pass: mean 0 exactly, and Theta_hat - c
    has O(1/n^2) variance."""
    d_k, d_s, d_w = fluctuations_of(net, name, sw, sb)
    j_k, j_s, j_w, theta_below = response
    c = (jnp.einsum("lpqab,lab->pq", j_k, d_k) + jnp.einsum("lpqab,lab->pq", j_s, d_s)
         + jnp.einsum("pqab,ab->pq", j_w, d_w))
    if len(theta_below):  # L >= 2; at L = 1 there is no layer between two weight matrices
        c = c + jnp.einsum("lpq,lpq->pq", theta_below, backward_fluctuations(net, name, sw))
    return c


# ---------------------------------------------------------------- ensembles against the analytic NTK

# A bias counts as resolved when its noise-corrected square exceeds this many errors: the same
# criterion as P1's deviations (deviation.NOISE_FACTOR).
NOISE_FACTOR = deviation.NOISE_FACTOR


def ensemble_dataset(means_by_width: list, widths, x, theta: np.ndarray, n_networks, attrs: dict) -> xr.Dataset:
    """Block means of Theta_hat and Theta_hat^2 for each width, with the analytic Theta and inputs."""
    dims = ("width", "block", "a", "b")
    optional = {f"{k}_block_mean": (dims, np.stack([m[k] for m in means_by_width]))
                for k in ("theta_cv", "theta_cv2") if all(k in m for m in means_by_width)}
    return xr.Dataset(
        {**optional, "theta_block_mean": (dims, np.stack([m["theta"] for m in means_by_width])),
         "theta2_block_mean": (dims, np.stack([m["theta2"] for m in means_by_width])),
         "theta_analytic": (("a", "b"), theta), "n_networks": (("width",), np.asarray(n_networks)),
         "x": (("a", "dim"), np.asarray(x, dtype=np.float64))},
        coords={"width": np.asarray(widths)}, attrs=attrs)


def _width_slice(ds: xr.Dataset, i: int):
    return ds["theta_block_mean"].values[i], ds["theta2_block_mean"].values[i], int(ds["n_networks"].values[i])


def kernel_rows(ds: xr.Dataset) -> pd.DataFrame:
    """One row per width and element a <= b: analytic Theta, ensemble mean with its batch-means error, z."""
    theta = ds["theta_analytic"].values
    a, b = np.triu_indices(len(theta))
    rows = []
    for i, width in enumerate(ds["width"].values):
        mean, stderr = estimators.mean_and_stderr(_width_slice(ds, i)[0])
        rows += [dict(width=int(width), a=int(p), b=int(q), theta_analytic=theta[p, q], theta_mean=mean[p, q],
                      theta_stderr=stderr[p, q], z=(mean[p, q] - theta[p, q]) / stderr[p, q])
                 for p, q in zip(a, b)]
    return pd.DataFrame(rows)


def noise_corrected_norm2(block_means: np.ndarray, reference: np.ndarray, norm2: float) -> dict:
    """|E[X] - reference|^2 / norm2 from block means of X (blocks on axis 0), unbiased: the squared
    standard errors of the mean are subtracted. Returns the estimate ``norm2``, its jackknife error,
    whether it is resolved (above NOISE_FACTOR errors) and then its square root ``relative`` with error."""
    element_axes = tuple(range(1 - block_means.ndim, 0))  # every axis but the jackknife replicas'
    _, stderr = estimators.mean_and_stderr(block_means)
    raw, err = estimators.jackknife(lambda m: np.sum((m - reference) ** 2, axis=element_axes) / norm2, block_means)
    value = float(raw) - np.sum(stderr**2) / norm2
    resolved = value > NOISE_FACTOR * float(err)
    root = np.sqrt(value) if resolved else np.nan
    return dict(norm2=value, norm2_stderr=float(err), resolved=bool(resolved), relative=root,
                relative_stderr=float(err) / (2 * root) if resolved else np.nan)


def _bias_and_variance(m1, m2, n_networks: int, theta: np.ndarray, norm2: float, suffix: str = "") -> dict:
    bias = noise_corrected_norm2(m1, theta, norm2)
    correction = n_networks / (n_networks - 1)
    relvar, relvar_err = estimators.jackknife(
        lambda m, s: correction * np.sum(s - m**2, axis=(-2, -1)) / norm2, m1, m2)
    return {f"bias2{suffix}": bias["norm2"], f"bias2{suffix}_stderr": bias["norm2_stderr"],
            f"bias{suffix}_resolved": bias["resolved"], f"bias{suffix}": bias["relative"],
            f"bias{suffix}_stderr": bias["relative_stderr"], f"relvar{suffix}": float(relvar),
            f"relvar{suffix}_stderr": float(relvar_err)}


# Columns of the control-variate estimator Theta_hat - c (NaN without one, and at L = 1, where
# Theta_hat - c = Theta identically and only float32 rounding would be left to "resolve").
CV_COLUMNS = ("bias2_cv", "bias2_cv_stderr", "bias_cv", "bias_cv_stderr", "relvar_cv", "relvar_cv_stderr")


def fluctuation_rows(ds: xr.Dataset) -> pd.DataFrame:
    """Per width: the relative bias and the relative variance of Theta_hat, with jackknife errors.

    bias2 = (|E Theta_hat - Theta|_F^2 - sum of squared standard errors) / |Theta|_F^2 is unbiased
    for the squared relative bias (the subtraction removes the noise of the mean);
    relvar = sum_ab Var(Theta_hat_ab) / |Theta|_F^2 (PDLT: ~ L/n). The same of Theta_hat - c (same
    mean, less noise) in the *_cv columns where the activation has a control variate and L >= 2.
    """
    theta = ds["theta_analytic"].values
    norm2 = np.sum(theta**2)
    with_cv = "theta_cv_block_mean" in ds and int(ds.attrs["depth"]) >= 2
    rows = []
    for i, width in enumerate(ds["width"].values):
        m1, m2, n_networks = _width_slice(ds, i)
        row = dict(width=int(width), n_networks=n_networks, **_bias_and_variance(m1, m2, n_networks, theta, norm2))
        if with_cv:
            row.update(_bias_and_variance(ds["theta_cv_block_mean"].values[i], ds["theta_cv2_block_mean"].values[i],
                                          n_networks, theta, norm2, "_cv"))
        else:
            row.update({k: np.nan for k in CV_COLUMNS}, bias_cv_resolved=False)
        rows.append(row)
    return pd.DataFrame(rows)


def _labelled(ds: xr.Dataset, rows: pd.DataFrame) -> pd.DataFrame:
    return rows.assign(activation=ds.attrs["activation"], depth=int(ds.attrs["depth"]))


def kernel_table(datasets) -> pd.DataFrame:
    """``kernel_rows`` of every (activation, depth) ensemble dataset."""
    return pd.concat([_labelled(ds, kernel_rows(ds)) for ds in datasets], ignore_index=True)


def fluctuation_table(datasets) -> pd.DataFrame:
    """``fluctuation_rows`` of every (activation, depth) ensemble dataset."""
    out = pd.concat([_labelled(ds, fluctuation_rows(ds)) for ds in datasets], ignore_index=True)
    out.attrs["allow_nonfinite"] = ["bias", "bias_stderr", *CV_COLUMNS]  # NaN where not resolved (or no CV)
    return out


def slope_rows(fluctuations: pd.DataFrame) -> pd.DataFrame:
    """Log-log slopes: the resolved bias (plain and control-variate estimator) and the relative variance
    against width at each depth (expected -1 and -1), and the relative variance against depth at each
    width (PDLT: +1). The bias rows also carry the fit bias = b1/n + b2/n^2 over the same widths
    (``deviation.inverse_width_terms``): b1 is the 1/n coefficient, b2 the curvature a slope cannot tell
    from another power."""
    rows = []
    no_terms = deviation.inverse_width_terms([], [], [])
    for (act, depth), grp in fluctuations.groupby(["activation", "depth"], sort=True):
        fits = [("bias", grp[grp["bias_resolved"]], "bias", -1.0), ("relvar", grp, "relvar", -1.0)]
        if grp["relvar_cv"].notna().any():
            fits.append(("bias_cv", grp[grp["bias_cv_resolved"]], "bias_cv", -1.0))
        for quantity, sub, value, expected in fits:
            fit = deviation.loglog_slope(sub["width"], sub[value], sub[f"{value}_stderr"])
            terms = (deviation.inverse_width_terms(sub["width"], sub[value], sub[f"{value}_stderr"])
                     if quantity.startswith("bias") else no_terms)
            rows.append(dict(activation=act, quantity=quantity, against="width", depth=depth, width=np.nan, **fit,
                             n_points=len(sub), points=" ".join(str(w) for w in sub["width"]),
                             expected_slope=expected, **terms))
    for (act, width), grp in fluctuations.groupby(["activation", "width"], sort=True):
        if grp["depth"].nunique() < 2:
            continue
        fit = deviation.loglog_slope(grp["depth"], grp["relvar"], grp["relvar_stderr"])
        rows.append(dict(activation=act, quantity="relvar", against="depth", depth=np.nan, width=width, **fit,
                         n_points=len(grp), points=" ".join(str(d) for d in grp["depth"]), expected_slope=1.0,
                         **no_terms))
    out = pd.DataFrame(rows)
    # NaN: depth of the rows against depth, width of those against width, a fit of < 2 (3) points, the
    # b1, b2 terms of the variance rows and of bias fits over < 3 widths
    out.attrs["allow_nonfinite"] = ["depth", "width", "slope", "slope_stderr", "intercept", "chi2_dof", *no_terms]
    return out
