"""The cos-network free scalar of P3 (docs/physics.md sec. 7) and its exact parameter-space theory.

    phi(x) = sum_i a_i h_i(x),   h_i(x) = s(b_i) cos(b_i.x + c_i),   a_i ~ N(0, sa^2 / N),
    c_i ~ U[-pi, pi],  b_i in the ball |b| < Lambda of R^d.

Two parametrisations give the same 2-pt function at every width N, the free propagator with a
sharp momentum cutoff, G(x - y) = int_{|p| < Lambda} d^dp / (2 pi)^d e^{i p.(x - y)} / (p^2 + m^2):

* ``uniform`` (P3): b uniform in the ball, s(b)^2 = 2 vol(B_Lambda) / (sa^2 (2 pi)^d (b^2 + m^2));
* ``alpha0`` (arXiv:2604.27050's alpha = 0): b with density proportional to 1 / (b^2 + m^2) on
  the ball, constant s^2 = 2 Z / (sa^2 (2 pi)^d), Z = int_ball d^db / (b^2 + m^2) = (2 pi)^d G(0).

Exact theory (numpy, float64): the propagator and the connected 4-pt of width N come from
radial integrals int_0^Lambda p^(d-1) g(p) Omega_d(p r) dp, with the angular average
Omega_1 = 2 cos z, Omega_2 = 2 pi J0(z), Omega_3 = 4 pi sin(z)/z, done by composite
Gauss-Legendre quadrature refined until two successive refinements agree to ``tol``.

Neurons are i.i.d., so cumulants add: kappa_4(phi) = N kappa_4(u) with u = a h. The phase
average of four cosines is E_c prod_k cos(theta_k + c) = (1/8) sum_{3 pairings} cos(theta_1 +
theta_2 - theta_3 - theta_4), so with v_j = x_1 + x_2 - x_3 - x_4 and its two relabellings

    N G4_c = (3/2) vol (2 pi)^(-2d) sum_j I_2(v_j) - sum_3 G G          (uniform),
    N G4_c = (3/2) G(0) sum_j G(v_j) - sum_3 G G                        (alpha0),

with I_2(v) = int_ball d^dp cos(p.v) / (p^2 + m^2)^2. Two of the three v_j do not depend on a
common shift of (x3, x4): G4_c tends to a non-zero O(1/N) constant (no cluster decomposition).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import NamedTuple

import jax
import jax.numpy as jnp
import numpy as np
from scipy import special

from nnqft import correlators

PARAMETRISATIONS = ("uniform", "alpha0")


@dataclass(frozen=True)
class CosNet:
    """Parameter law of a cos-network of width N in d dimensions."""

    d: int
    mass: float
    cutoff: float
    width: int
    parametrisation: str = "uniform"
    sa: float = 1.0

    def __post_init__(self):
        if self.d not in (1, 2, 3):
            raise ValueError(f"cos-net dimension d = {self.d}; supported: 1, 2, 3")
        if self.parametrisation not in PARAMETRISATIONS:
            raise ValueError(f"parametrisation {self.parametrisation!r}; valid: {PARAMETRISATIONS}")
        if not (self.mass > 0 and self.cutoff > 0 and self.width >= 1 and self.sa > 0):
            raise ValueError(
                f"need mass > 0, cutoff > 0, width >= 1, sa > 0; got mass={self.mass}, "
                f"cutoff={self.cutoff}, width={self.width}, sa={self.sa}"
            )


class CosNetParams(NamedTuple):
    """Parameters of a batch of networks: a (n, N), b (n, N, d), c (n, N)."""

    a: jax.Array
    b: jax.Array
    c: jax.Array


# ---------------------------------------------------------------------------------------------
# Geometry and normalisations


def ball_volume(d: int, cutoff: float) -> float:
    return math.pi ** (d / 2) / math.gamma(d / 2 + 1) * cutoff**d


def propagator_norm(d: int, mass: float, cutoff: float) -> float:
    """Z = int_{|p| < Lambda} d^dp / (p^2 + m^2) = (2 pi)^d G(0), in closed form."""
    m, lam = mass, cutoff
    if d == 1:
        return 2 / m * math.atan(lam / m)
    if d == 2:
        return math.pi * math.log1p((lam / m) ** 2)
    if d == 3:
        return 4 * math.pi * (lam - m * math.atan(lam / m))
    raise ValueError(f"d = {d}; supported: 1, 2, 3")


def amplitude_scale(net: CosNet) -> float:
    """sa^2 s^2 (b^2 + m^2) for ``uniform``, sa^2 s^2 for ``alpha0``: the single-neuron weight."""
    if net.parametrisation == "uniform":
        return 2 * ball_volume(net.d, net.cutoff) / (2 * math.pi) ** net.d
    return 2 * propagator_norm(net.d, net.mass, net.cutoff) / (2 * math.pi) ** net.d


# ---------------------------------------------------------------------------------------------
# Sampling (JAX, keyed)


def _alpha0_radius(u, d: int, mass: float, cutoff: float):
    """Inverse CDF of the radial density r^(d-1) / (r^2 + m^2) on [0, Lambda]."""
    m, lam = mass, cutoff
    if d == 1:
        return m * jnp.tan(u * jnp.arctan(lam / m))
    if d == 2:
        return m * jnp.sqrt(jnp.expm1(u * jnp.log1p((lam / m) ** 2)))
    # d = 3: solve F(r) = r - m atan(r/m) = t by Newton's method. F is increasing and convex,
    # so Newton started above the root decreases monotonically onto it. Start: t + m pi/2 when
    # the root exceeds m (F(r) > r - m pi/2), else (7.5 m^2 t)^(1/3) (F(r) >= 2 r^3/(15 m^2), r <= m).
    t = u * (lam - m * jnp.arctan(lam / m))
    small = t < m * (1 - jnp.pi / 4)
    r = jnp.where(small, jnp.cbrt(7.5 * m**2 * t), t + m * jnp.pi / 2)

    def step(_, r):
        f = r - m * jnp.arctan(r / m) - t
        return jnp.where(r > 0, r - f * (r**2 + m**2) / jnp.maximum(r**2, 1e-300), r)

    return jnp.clip(jax.lax.fori_loop(0, 40, step, r), 0.0, lam)


def sample_momenta(net: CosNet, shape, *, key, dtype=jnp.float64):
    """Momenta b of shape (*shape, d) from the parametrisation's law on the ball."""
    kdir, krad = jax.random.split(key)
    direction = jax.random.normal(kdir, (*shape, net.d), dtype=dtype)
    direction = direction / jnp.linalg.norm(direction, axis=-1, keepdims=True)
    u = jax.random.uniform(krad, shape, dtype=dtype)
    if net.parametrisation == "uniform":
        radius = net.cutoff * u ** (1.0 / net.d)
    else:
        radius = _alpha0_radius(u, net.d, net.mass, net.cutoff)
    return direction * radius[..., None]


def sample(net: CosNet, n: int, *, key, dtype=jnp.float64) -> CosNetParams:
    """Parameters of n independent networks."""
    ka, kb, kc = jax.random.split(key, 3)
    a = net.sa / math.sqrt(net.width) * jax.random.normal(ka, (n, net.width), dtype=dtype)
    b = sample_momenta(net, (n, net.width), key=kb, dtype=dtype)
    c = jax.random.uniform(kc, (n, net.width), dtype=dtype, minval=-jnp.pi, maxval=jnp.pi)
    return CosNetParams(a, b, c)


def _neuron_scale(net: CosNet, b):
    """s(b) of each neuron, shape b.shape[:-1]."""
    s2 = amplitude_scale(net) / net.sa**2
    if net.parametrisation == "uniform":
        return jnp.sqrt(s2 / (jnp.sum(b**2, axis=-1) + net.mass**2))
    return jnp.full(b.shape[:-1], math.sqrt(s2), dtype=b.dtype)


def features(net: CosNet, params: CosNetParams, x):
    """Hidden units h_i(x) = s(b_i) cos(b_i.x + c_i): shape (n, N, P) for points x (P, d)."""
    x = np.asarray(x, dtype=np.float64)
    phase = params.c[..., None]
    for k in range(net.d):  # d <= 3 broadcast multiply-adds: faster than a dot with K = d
        phase = phase + params.b[..., k, None] * x[:, k]
    return _neuron_scale(net, params.b)[..., None] * jnp.cos(phase)


def field(net: CosNet, params: CosNetParams, x):
    """phi at points x (P, d): shape (n, P)."""
    return jnp.einsum("ni,nip->np", params.a, features(net, params, x))


def conditional_kernel(net: CosNet, params: CosNetParams, x):
    """Given (b, c), phi is Gaussian with kernel Kh(x, y) = (sa^2/N) sum_i h_i(x) h_i(y): (n, P, P).

    Its Wick sums are the Rao-Blackwell estimators of the moments (docs/physics.md sec. 2).
    """
    h = features(net, params, x)
    return net.sa**2 / net.width * jnp.einsum("nip,niq->npq", h, h)


def field_on_grid(net: CosNet, params: CosNetParams, axes):
    """phi on the tensor grid axes[0] x ... x axes[d-1]: shape (n, Q_1, ..., Q_d).

    Uses e^{i b.y} = prod_k e^{i b_k y_k}, so the cost is N sum_k Q_k exponentials plus one
    batched complex contraction, instead of N prod_k Q_k cosines.
    """
    if len(axes) != net.d:
        raise ValueError(f"{len(axes)} grid axes for a d = {net.d} cos-net")
    amp = params.a * _neuron_scale(net, params.b) * jnp.exp(1j * params.c)  # (n, N)
    factors = [jnp.exp(1j * params.b[..., k, None] * jnp.asarray(ax)[None, None, :]) for k, ax in enumerate(axes)]
    letters = "jkl"[: net.d]
    spec = "ni," + ",".join(f"ni{ch}" for ch in letters) + "->n" + letters
    return jnp.real(jnp.einsum(spec, amp, *factors))


# ---------------------------------------------------------------------------------------------
# Exact theory (numpy)


def _angular(d: int, z):
    """Integral of e^{i p.r} over the unit sphere of directions, as a function of z = |p| |r|."""
    if d == 1:
        return 2 * np.cos(z)
    if d == 2:
        return 2 * np.pi * special.j0(z)
    if d == 3:
        return 4 * np.pi * np.sinc(z / np.pi)
    raise ValueError(f"d = {d}; supported: 1, 2, 3")


def _gauss_legendre_panels(cutoff: float, n_panels: int, order: int):
    x, w = np.polynomial.legendre.leggauss(order)
    edges = np.linspace(0.0, cutoff, n_panels + 1)
    half = 0.5 * np.diff(edges)
    mid = 0.5 * (edges[1:] + edges[:-1])
    nodes = (mid[:, None] + half[:, None] * x[None, :]).ravel()
    weights = (half[:, None] * w[None, :]).ravel()
    return nodes, weights


def ball_fourier(g, r, d: int, cutoff: float, *, scale: float = 1.0, tol: float = 1e-12, order: int = 24):
    """int_{|p| < Lambda} d^dp e^{i p.r} g(|p|) at each |r| (array), to absolute accuracy ``tol``.

    ``g`` maps an array of |p| to values; it must be smooth on [0, Lambda] with features no
    narrower than ``scale``. Panels of ``order`` Gauss-Legendre nodes are doubled until two
    successive results agree to ``tol`` (times the largest |value|, if larger than one).
    """
    r = np.abs(np.asarray(r, dtype=np.float64))
    shape, r = r.shape, r.ravel()
    n_panels = max(2, int(np.ceil(max(cutoff * float(r.max(initial=0.0)) / np.pi, cutoff / scale))))
    previous = None
    for _ in range(12):
        p, w = _gauss_legendre_panels(cutoff, n_panels, order)
        integrand = w * p ** (d - 1) * g(p)
        step = max(1, 2**22 // len(p))  # bound the (r, p) matrix to ~4M entries
        value = np.concatenate([_angular(d, np.multiply.outer(r[i:i + step], p)) @ integrand
                                for i in range(0, len(r), step)]) if r.size else np.zeros(0)
        if previous is not None:
            err = np.max(np.abs(value - previous), initial=0.0)
            if err <= tol * max(1.0, float(np.max(np.abs(value), initial=0.0))):
                return value.reshape(shape)
        previous, n_panels = value, 2 * n_panels
    raise RuntimeError(f"ball_fourier did not reach tol = {tol} (d = {d}, Lambda = {cutoff})")


def propagator(r, d: int, mass: float, cutoff: float, *, tol: float = 1e-12):
    """G(r) = int_{|p|<Lambda} d^dp/(2 pi)^d e^{i p.r} / (p^2 + m^2), r = |x - y| (array)."""
    g = lambda p: 1.0 / (p**2 + mass**2)  # noqa: E731
    return ball_fourier(g, r, d, cutoff, scale=mass, tol=tol * (2 * np.pi) ** d) / (2 * np.pi) ** d


def propagator_points(x, y, d: int, mass: float, cutoff: float):
    """G(x_a - y_b) for point arrays x (..., d) and y (..., d) (broadcast)."""
    r = np.linalg.norm(np.asarray(x, dtype=np.float64) - np.asarray(y, dtype=np.float64), axis=-1)
    flat, inverse = np.unique(r.ravel(), return_inverse=True)
    return propagator(flat, d, mass, cutoff)[inverse].reshape(r.shape)


def _pair_channels(points):
    """For 4-tuples of points (T, 4, d): the three pairings' separations and the v_j vectors."""
    x1, x2, x3, x4 = (points[:, k] for k in range(4))
    pairs = [(x1 - x2, x3 - x4), (x1 - x3, x2 - x4), (x1 - x4, x2 - x3)]
    v = [x1 + x2 - x3 - x4, x1 - x2 + x3 - x4, x1 - x2 - x3 + x4]
    return pairs, v


def _phase_channels(norms, d: int, mass: float, cutoff: float, parametrisation: str):
    """sum over channels j (axis 0) of (3/8) sa^4 E_b[s(b)^4 cos(b.v_j)], given |v_j| (J, T)."""
    flat, inv = np.unique(np.asarray(norms).ravel(), return_inverse=True)
    if parametrisation == "uniform":
        i2 = ball_fourier(lambda p: 1.0 / (p**2 + mass**2) ** 2, flat, d, cutoff, scale=mass)
        values = 1.5 * ball_volume(d, cutoff) / (2 * np.pi) ** (2 * d) * i2
    elif parametrisation == "alpha0":
        g0 = propagator_norm(d, mass, cutoff) / (2 * np.pi) ** d
        values = 1.5 * g0 * propagator(flat, d, mass, cutoff)
    else:
        raise ValueError(f"parametrisation {parametrisation!r}; valid: {PARAMETRISATIONS}")
    return values[inv].reshape(np.shape(norms)).sum(axis=0)


def single_neuron_4pt(points, d: int, mass: float, cutoff: float, parametrisation: str):
    """3 sa^4 E[h(x1) h(x2) h(x3) h(x4)] = N^2 E[u(x1)..u(x4)] for one neuron u = a h: (T,).

    The phases are integrated analytically, E_c prod_k cos(theta_k + c) = (1/8) sum_j cos(b.v_j);
    the momentum average is a radial integral. Width-independent: G4_c = (this - sum G G) / N.
    """
    points = np.asarray(points, dtype=np.float64).reshape(-1, 4, d)
    _, v = _pair_channels(points)
    return _phase_channels(np.linalg.norm(np.stack(v), axis=-1), d, mass, cutoff, parametrisation)


def gaussian_4pt(points, d: int, mass: float, cutoff: float):
    """sum over the 3 pairings of G G: the disconnected (Wick) 4-pt, (T,)."""
    points = np.asarray(points, dtype=np.float64).reshape(-1, 4, d)
    pairs, _ = _pair_channels(points)
    zero = np.zeros(d)
    return sum(propagator_points(p, zero, d, mass, cutoff) * propagator_points(q, zero, d, mass, cutoff)
               for p, q in pairs)


def connected_4pt(points, net: CosNet):
    """Exact connected 4-pt of the width-N cos-net at 4-tuples of points (T, 4, d): (T,)."""
    one = single_neuron_4pt(points, net.d, net.mass, net.cutoff, net.parametrisation)
    return (one - gaussian_4pt(points, net.d, net.mass, net.cutoff)) / net.width


def connected_4pt_plateau(points, net: CosNet):
    """Limit of ``connected_4pt`` when (x3, x4) are shifted together to infinity: (T,).

    Only the terms that do not depend on the shift survive: the two phase channels with
    v = (x1 - x2) +- (x3 - x4), and the pairing G(x1 - x2) G(x3 - x4).
    """
    points = np.asarray(points, dtype=np.float64).reshape(-1, 4, net.d)
    x1, x2, x3, x4 = (points[:, k] for k in range(4))
    norms = np.linalg.norm(np.stack([x1 - x2 + x3 - x4, x1 - x2 - x3 + x4]), axis=-1)
    one = _phase_channels(norms, net.d, net.mass, net.cutoff, net.parametrisation)
    zero = np.zeros(net.d)
    g12 = propagator_points(x1 - x2, zero, net.d, net.mass, net.cutoff)
    g34 = propagator_points(x3 - x4, zero, net.d, net.mass, net.cutoff)
    return (one - g12 * g34) / net.width


def kernel_variance(r, net: CosNet):
    """Exact per-network variance of the Rao-Blackwell 2-pt estimator Kh(x, y), |x - y| = r.

    Var Kh = (E[kappa^2] - G^2) / N for the single-neuron kernel kappa = sa^2 h(x) h(y), with
    E_c[cos^2 cos^2] = (2 + cos(2 b.r)) / 8:
    uniform: E kappa^2 = vol (2 pi)^(-2d) [2 I_2(0) + I_2(2r)] / 2;  alpha0: G(0)^2 + G(0) G(2r)/2.
    """
    r = np.abs(np.asarray(r, dtype=np.float64))
    d, m, lam = net.d, net.mass, net.cutoff
    g = propagator(r, d, m, lam)
    if net.parametrisation == "uniform":
        i2 = ball_fourier(lambda p: 1.0 / (p**2 + m**2) ** 2, np.concatenate([[0.0], 2 * r]), d, lam, scale=m)
        second = 0.5 * ball_volume(d, lam) / (2 * np.pi) ** (2 * d) * (2 * i2[0] + i2[1:])
    else:
        g0 = propagator_norm(d, m, lam) / (2 * np.pi) ** d
        second = g0**2 + 0.5 * g0 * propagator(2 * r, d, m, lam)
    return (second - g**2) / net.width


# ---------------------------------------------------------------------------------------------
# Per-network statistics for the block engine (``nnqft.blocks``)


def products(phi, tuples):
    """prod_k phi[..., t_k] for index tuples (..., n): phi (b, P) -> (b, ...)."""
    t = np.asarray(tuples)
    return phi[:, t].prod(axis=-1)


def kernel_moments(kh, tuples):
    """Rao-Blackwell moments: Wick sums of kernels kh (b, P, P) on index tuples (..., n)."""
    t = np.asarray(tuples)
    flat = correlators.gaussian_moments(kh, t.reshape(-1, t.shape[-1]))
    return flat.reshape(kh.shape[0], *t.shape[:-1])


def moment_statistics(net: CosNet, x, tuples: dict):
    """``(key, batch) -> {"plain": {name: (batch, ...)}, "rb": {name: (batch, ...)}}``.

    ``tuples`` maps names to index arrays (..., n) into the points x (P, d). ``plain`` holds
    products of phi; ``rb`` the Rao-Blackwell moments, the Wick sums of the conditional kernel
    Kh (phi is exactly Gaussian given (b, c)), whose connected part has relative error
    O(n^-1/2) at every width instead of O(N n^-1/2).
    """
    x = np.asarray(x, dtype=np.float64)

    def per_network(key, batch):
        params = sample(net, batch, key=key)
        h = features(net, params, x)
        phi = jnp.einsum("ni,nip->np", params.a, h)
        kh = net.sa**2 / net.width * jnp.einsum("nip,niq->npq", h, h)
        return {
            "plain": {name: products(phi, t) for name, t in tuples.items()},
            "rb": {name: kernel_moments(kh, t) for name, t in tuples.items()},
        }

    return per_network


def gp_statistics(x, d: int, mass: float, cutoff: float, tuples: dict):
    """The N -> infinity cos-net: the Gaussian field with the exact propagator, sampled at x.

    ``(key, batch) -> {name: (batch, ...)}`` products of phi on the index tuples. The square
    root of the covariance comes from its eigendecomposition (band-limited fields give nearly
    singular covariances); eigenvalues below -1e-10 of the largest are an error.
    """
    x = np.asarray(x, dtype=np.float64)
    cov = propagator_points(x[:, None], x[None], d, mass, cutoff)
    ev, vec = np.linalg.eigh(cov)
    if ev[0] < -1e-10 * ev[-1]:
        raise ValueError(f"propagator matrix not positive semi-definite: smallest eigenvalue {ev[0]:.3e}")
    root = jnp.asarray(vec * np.sqrt(np.clip(ev, 0.0, None)))

    def per_network(key, batch):
        phi = jax.random.normal(key, (batch, len(x)), dtype=jnp.float64) @ root.T
        return {name: products(phi, t) for name, t in tuples.items()}

    return per_network
