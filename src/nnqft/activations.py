"""The activation registry: everything the library knows about one hidden-unit non-linearity.

One ``Activation`` entry per name holds the function h(z; q), its GP kernel, how the exact
neuron moments are integrated (``nnqft.exact``), how its propagator behaves inside the Feynman
box integrals (``nnqft.feynman``), its default scales and its input sets. Other modules look an
activation up here instead of branching on its name, so a new activation is one entry (plus
its name in the schema enums, which ``tests/test_activations.py`` checks).

Conventions: (z, z') is the zero-mean Gaussian pre-activation pair with covariance
q(x, x') = sb^2 + sw^2 x.x'/d_in; a kernel is E[h(z; qxx) h(z'; qyy)] as a function of
(qxy, qxx, qyy); a moment of order r is E[prod_s h(z_s)] on index multisets of the inputs.
"""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass
from typing import Callable

import jax
import jax.numpy as jnp
import numpy as np

from nnqft import correlators

_TOL = 1e-10  # relative tolerance of geometric decisions (inputs on a ray)
# Default nodes per dimension of nnqft.exact's quadratures (per level for Price): cone and Price reach
# ~1e-13 relative on P1's inputs, Gauss-Hermite ~1e-14 for Gauss-net (it is slow for ReLU's kinks and
# Erf). Here rather than in nnqft.exact, so that the config's validation can price a scheme without
# importing the quadrature stack.
DEFAULT_RESOLUTION = {"cone": 24, "price": 20, "hermite": 48}
# Tensor Gauss-Hermite costs ~1.5 us per node at orders 2-6 on 4 inputs (measured): 2^27 nodes,
# ~3 min, still admit Erf's 96^4 rule of the estimator variances (d_in = 3) but not tanh's 128^4.
MAX_HERMITE_NODES = 2**27


# ---------------------------------------------------------------- entry types


@dataclass(frozen=True)
class Resolution:
    """Box quadrature of ``nnqft.feynman``: Gauss-Legendre ``order`` per axis, cell side <= ``eta``
    x local length."""

    order: int
    eta: float
    kink_depth: int = 0  # extra bisections of cells that touch a non-smooth set of the kernel


@dataclass(frozen=True)
class Moments:
    """How ``exact.neuron_moments`` integrates the single-neuron moments.

    ``closed(spec, q)`` returns a function of the index multisets (T, r) giving the moments where
    a closed form applies to these pre-activation covariances q (P, P), else None. Otherwise the
    ``quadrature`` scheme of exact.py runs: "price" (Price's theorem, Erf only), "cone" (exact
    radial integral on cones, positively homogeneous h) or "hermite" (tensor Gauss-Hermite, any
    h; ``hermite_resolution`` nodes per dimension, None: DEFAULT_RESOLUTION). A scheme
    practical only up to ``max_order`` hands higher orders (the estimator variances need up to
    12) to Gauss-Hermite at ``high_order_resolution``; ``variance_resolution`` is the cheaper
    choice of the estimator-variance table (``nnqft.agreement``).
    """

    quadrature: str = "hermite"
    closed: Callable | None = None
    hermite_resolution: int | None = None
    max_order: int | None = None
    high_order_resolution: int | None = None
    variance_resolution: int | None = None


@dataclass(frozen=True)
class Propagator:
    """How the propagator P(x, y) = sw^2 E[h h'] behaves over the cutoff box (``nnqft.feynman``).

    ``growth`` p: |P(x, y)| ~ |y|^p as |y| -> inf, so I4 ~ Lambda^(d_in + 4p); None when P decays
    like exp(-sw^2 |y|^2 / (2 d_in)) (the integrals converge; cells are uniform out to the decay
    radius and the cutoff may be inf). ``length_scale(d_in, sw, sb)`` is the kernel's own length
    in y, where the geometric grading of the shells starts. ``kinks``: the kernel is only C^2 where
    the augmented inputs (sb, sw x/sqrt(d)) and (sb, sw y/sqrt(d)) are parallel (arc-cosine
    kernels), so those cells are bisected ``resolution.kink_depth`` more times.
    """

    growth: float | None
    length_scale: Callable[[int, float, float], float]
    resolution: Resolution = Resolution(order=8, eta=1.0)
    kinks: bool = False


@dataclass(frozen=True)
class Activation:
    """A hidden-unit non-linearity h(z; q) with q = q(x, x) the pre-activation variance at x.

    ``h`` must accept numpy and jax arrays. Most activations ignore ``q``; Gauss-net uses it as
    the normaliser that makes its kernel translation invariant. ``kernel`` is the closed form of
    E[h(z) h(z')] or None (Gauss-Hermite quadrature of ``kernel_order`` nodes per axis).
    ``inputs(d_in)`` is the input set of the width sweep, ``fit_scale`` the scale of P1's six
    EFT fit inputs (None: no EFT fits, see ``box_integrals``). ``translation_invariant``: the GP
    kernel depends on x - x' only (so a constant quartic coupling suffices, P1 sec. 5).
    """

    name: str
    h: Callable
    description: str
    kernel: Callable | None
    moments: Moments
    propagator: Propagator
    inputs: Callable[[int], np.ndarray]
    fit_scale: float | None
    scales: tuple[float, float] = (1.0, 1.0)  # default (sw, sb)
    kernel_order: int = 64
    translation_invariant: bool = False

    @property
    def depends_on_variance(self) -> bool:
        """Whether h uses q (Gauss-net's normaliser). Such an h has no meaning in a deep network's
        later layers, whose pre-activation variance is not the first layer's, nor in the NTK stage."""
        return float(self.h(np.float64(0.3), 1.0)) != float(self.h(np.float64(0.3), 0.0))

    @property
    def box_integrals(self) -> bool:
        """Whether nnqft.feynman's box integrals are feasible: they evaluate the propagator at
        10^4-10^6 nodes out to |y| = cutoff, which needs a closed-form kernel. Gauss-Hermite of
        h(sqrt(q) g) at q ~ |y|^2 >> 1 sees a step (tanh) or a kink (gelu -> relu) and converges
        only algebraically (tests/test_activations.py measures it), and costs a 64 x 64 rule per
        node and input."""
        return self.kernel is not None


# ---------------------------------------------------------------- h(z; q)


def _erf(z, q):
    return jax.scipy.special.erf(z)


def _relu(z, q):
    return jnp.maximum(z, 0.0)


def _gauss(z, q):
    # exp(z) / exp(q(x,x)) with q(x,x) = sb^2 + sw^2 |x|^2 / d_in: the exact normaliser for any
    # d_in, sw, sb (the authors' code hard-codes sw = sb = 1; docs/physics.md sec. 9, defect 2).
    return jnp.exp(z - q)


def _tanh(z, q):
    return jnp.tanh(z)


def _gelu(z, q):
    # the exact GELU z Phi(z), not the tanh approximation; a Python float keeps the sampling dtype
    # (a numpy scalar would promote float32 networks to float64)
    return 0.5 * z * (1 + jax.scipy.special.erf(z / math.sqrt(2)))


def _sin(z, q):
    return jnp.sin(z)


def _linear(z, q):
    return jnp.asarray(z)


# ---------------------------------------------------------------- GP kernels E[h(z) h(z')]


def erf_kernel(qxy, qxx, qyy):
    """(2/pi) arcsin(2 qxy / sqrt((1 + 2 qxx)(1 + 2 qyy))); also the base case of exact's Price scheme."""
    return (2 / np.pi) * np.arcsin(2 * qxy / np.sqrt((1 + 2 * qxx) * (1 + 2 * qyy)))


def _relu_kernel(qxy, qxx, qyy):
    norm = np.sqrt(qxx * qyy)
    with np.errstate(invalid="ignore", divide="ignore"):
        cos_t = np.where(norm > 0, qxy / np.where(norm > 0, norm, 1.0), 1.0)
    t = np.arccos(np.clip(cos_t, -1.0, 1.0))
    return norm * (np.sin(t) + (np.pi - t) * np.cos(t)) / (2 * np.pi)


def _gauss_kernel(qxy, qxx, qyy):
    return np.exp(qxy - 0.5 * (qxx + qyy))


def _sin_kernel(qxy, qxx, qyy):
    # E[sin z sin z'] = (E[cos(z - z')] - E[cos(z + z')]) / 2 = exp(-(qxx + qyy)/2) sinh(qxy), as two
    # exponents <= 0 (|qxy| <= (qxx + qyy)/2): sinh alone overflows at the box's |y| ~ 1e3.
    half = 0.5 * (qxx + qyy)
    return 0.5 * (np.exp(qxy - half) - np.exp(-qxy - half))


def _linear_kernel(qxy, qxx, qyy):
    return qxy * np.ones_like(qxx * qyy)  # broadcast like the other kernels


# ---------------------------------------------------------------- closed-form neuron moments


def slot_covariance(q: np.ndarray, tuples: np.ndarray) -> np.ndarray:
    """Covariance of the pre-activations in the slots of each multiset, shape (T, r, r)."""
    return q[tuples[:, :, None], tuples[:, None, :]]


def _gauss_moments(spec, q):
    def moments(tuples):
        c = slot_covariance(q, tuples)
        # E[exp(sum_s z_s - sum_s q_ss)] = exp(sum_{s<t} C_st - sum_s C_ss / 2)
        return np.exp(0.5 * c.sum(axis=(-2, -1)) - np.trace(c, axis1=-2, axis2=-1))

    return moments


def _relu_ray_moments(spec, q):
    """sb = 0 and all inputs non-negative multiples of one direction (q_ab = sqrt(q_aa q_bb)):
    h(x_a) = sqrt(q_aa) relu(g) with one standard normal g, and E[relu(g)^r] = (r-1)!!/2."""
    s = np.sqrt(np.diag(q))
    if spec.sb != 0 or not np.allclose(q, np.outer(s, s), rtol=0, atol=_TOL * q.max()):
        return None

    def moments(tuples):
        r = tuples.shape[1]
        return np.prod(s[tuples], axis=1) * math.prod(range(r - 1, 0, -2)) / 2

    return moments


def _sin_moments(spec, q, chunk: int = 256):
    """E[prod_s sin z_s] = (2i)^-r sum_{e in {+-1}^r} prod(e) exp(-e.C e / 2) (sin = Im exp(iz)).

    e and -e give equal terms, so half the signs suffice. The terms are O(1) and alternate; the
    sum is O(q^(r/2)) for small q, so the form loses digits when q << 1 (inputs near the origin
    with sb << 1): the sin inputs keep q >= sb^2 = 1.
    """

    def moments(tuples):
        r = tuples.shape[1]
        signs = np.array([(1,) + e for e in itertools.product((1, -1), repeat=r - 1)], dtype=np.float64)
        parity = np.prod(signs, axis=1)
        out = []
        for start in range(0, len(tuples), chunk):  # bounds the (chunk, signs, r) intermediate
            c = slot_covariance(q, tuples[start : start + chunk])
            quad = np.einsum("ke,tef,kf->tk", signs, c, signs)
            out.append(np.exp(-0.5 * quad) @ parity)
        return (-1) ** (r // 2) * 2.0 ** (1 - r) * np.concatenate(out)

    return moments


def _linear_moments(spec, q):
    """Isserlis: E[prod_s z_s] is the sum over perfect matchings of products of q."""
    return lambda tuples: correlators.gaussian_moments(q, tuples)


# ---------------------------------------------------------------- input sets

INPUT_DIMS = (1, 2, 3)
# P1's code: the Erf set (points of [-1, 1]^d) and the ReLU set (positive points, where ReLU
# units are active).
_ERF_SET = {
    1: [[-1.0], [-0.6], [-0.2], [0.2], [0.6], [1.0]],
    2: [[-1.0, -1.0], [-1.0, 1.0], [1.0, -1.0], [1.0, 1.0]],
    3: [[-1.0, -1.0, -1.0], [1.0, 1.0, -1.0], [-1.0, 1.0, 1.0], [1.0, -1.0, 1.0]],
}
_RELU_SET = {
    1: [[0.2], [0.4], [0.6], [0.8], [1.0], [1.2]],
    2: [[0.5, 0.5], [0.5, 1.0], [1.0, 0.5], [1.0, 1.0]],
    3: [[0.2, 0.2, 0.2], [1.0, 1.0, 0.2], [0.2, 1.0, 1.0], [1.0, 0.2, 1.0]],
}


def _erf_set(d: int) -> np.ndarray:
    return np.array(_ERF_SET[d])


def _relu_set(d: int) -> np.ndarray:
    return np.array(_RELU_SET[d])


def _gauss_set(d: int) -> np.ndarray:
    # 0.01 x the Erf set: close points, so that finite-width effects of the log-normal hidden
    # units are visible above noise.
    return 0.01 * np.array(_ERF_SET[d])


# ---------------------------------------------------------------- length scales in y


def _erf_length(d, sw, sb):
    # the complex zero of 1 + 2 q(y, y) lies at |y| = sqrt(d (1 + 2 sb^2) / 2) / sw
    return np.sqrt(d * (1 + 2 * sb**2) / 2) / sw


def _relu_length(d, sw, sb):
    # q(y, y) vanishes at |y| = sb sqrt(d) / sw (0 for sb = 0: the kernel is homogeneous)
    return sb * np.sqrt(d) / sw


def _gaussian_width(d, sw, sb):
    # the width sqrt(d) / sw of exp(-sw^2 |y|^2 / (2 d)) (Gauss-net: of exp(-sw^2 |x - y|^2 / (2 d)))
    return np.sqrt(d) / sw


def _generic_length(d, sw, sb):
    # where sw^2 |y|^2 / d overtakes the bias part 1 + sb^2 of q(y, y)
    return np.sqrt(d * (1 + sb**2)) / sw


# ---------------------------------------------------------------- the registry

# The decaying propagators (Gauss, sin) share the box rule: uniform cells out to the decay radius.
_DECAYING = Propagator(growth=None, length_scale=_gaussian_width, resolution=Resolution(order=20, eta=4.0))

ACTIVATIONS: dict[str, Activation] = {
    a.name: a
    for a in (
        Activation(
            "erf", _erf, "Erf-net: h = erf(z)", erf_kernel,
            # Price's cost grows like resolution^(r/2 - 1): beyond order 6, Gauss-Hermite, which
            # converges slowly for erf: 96 nodes give ~1e-9 relative at orders 6-12 on P1's inputs
            # (48: ~1e-4). The variance table takes 32 (d_in = 3: 13 s instead of ~200 s at 48;
            # within 5e-4 relative of 64-96 nodes for Var(RB), 7e-5 for Var(plain)).
            Moments(quadrature="price", max_order=6, high_order_resolution=96, variance_resolution=32),
            Propagator(growth=0, length_scale=_erf_length, resolution=Resolution(order=12, eta=1.0)),
            _erf_set, fit_scale=0.01,
        ),
        Activation(
            "relu", _relu, "ReLU-net: h = max(0, z)", _relu_kernel,
            Moments(quadrature="cone", closed=_relu_ray_moments),
            Propagator(growth=1, length_scale=_relu_length, kinks=True,
                       resolution=Resolution(order=8, eta=1.0, kink_depth=2)),
            _relu_set, fit_scale=1.0, scales=(1.0, 0.0),  # P1: ReLU without biases
        ),
        Activation(
            "gauss", _gauss, "Gauss-net: h = exp(z) / exp(q(x, x))", _gauss_kernel,
            Moments(closed=_gauss_moments), _DECAYING, _gauss_set, fit_scale=0.01, translation_invariant=True,
        ),
        # tanh: odd and saturating like erf, so P1's Erf inputs. No closed-form kernel: no EFT.
        # Gauss-Hermite converges geometrically but slowly: the poles of tanh(sqrt(q) g) lie at
        # |g| = pi / (2 sqrt(q)), 1.1 for q = 2 (Erf set, sw = sb = 1). Measured against 200 nodes
        # (d_in = 1): 128 nodes give 3e-10 relative at order 6 and 7e-8 at order 12 (96: 2e-8 and
        # 1e-6); the kernel, ~1e-9 at 128 nodes where 64 leave 3e-7 for strongly correlated pairs.
        Activation(
            "tanh", _tanh, "tanh-net: h = tanh(z)", None,
            Moments(hermite_resolution=128), Propagator(growth=0, length_scale=_generic_length),
            _erf_set, fit_scale=None, kernel_order=128,
        ),
        # GELU: a smoothed ReLU (z Phi(z) -> relu(z) for |z| >> 1), so P1's ReLU inputs, where
        # the units are mostly active. No closed-form kernel: no EFT. Measured against 200 nodes
        # (d_in = 1, 2): 96 Gauss-Hermite nodes give <= 5e-12 relative at orders 2-12 (64: 1e-9);
        # the kernel's default 64 nodes, 4e-14.
        Activation(
            "gelu", _gelu, "GELU-net: h = z Phi(z)", None,
            Moments(hermite_resolution=96), Propagator(growth=1, length_scale=_generic_length),
            _relu_set, fit_scale=None,
        ),
        # sin: odd, so P1's Erf inputs (q >= sb^2 = 1 keeps the closed-form moments well
        # conditioned). Its propagator decays like Gauss-net's, so it takes Gauss-net's box rule
        # (cutoff inf allowed) and fit scale 0.01.
        Activation(
            "sin", _sin, "sin-net: h = sin(z)", _sin_kernel,
            Moments(closed=_sin_moments), _DECAYING, _erf_set, fit_scale=0.01,
        ),
        # linear: f is a sum of products of Gaussians; every integrand is a polynomial of degree
        # <= 6 in y, so order-4 Gauss-Legendre cells are exact. Its propagator grows like |y|, as
        # ReLU's: P1's ReLU fit scale 1. Inputs: the Erf set (any set works for a polynomial).
        Activation(
            "linear", _linear, "linear net: h = z", _linear_kernel,
            Moments(closed=_linear_moments),
            Propagator(growth=1, length_scale=_generic_length, resolution=Resolution(order=4, eta=1.0)),
            _erf_set, fit_scale=1.0,
        ),
    )
}


def activation(name: str) -> Activation:
    try:
        return ACTIVATIONS[name]
    except KeyError:
        raise ValueError(
            f"unknown activation {name!r}; registered: {sorted(ACTIVATIONS)}"
        ) from None


def require_h_alone(name: str, user: str) -> None:
    """Raise ValueError if the activation's h uses q (``Activation.depends_on_variance``): ``user`` (deep
    networks, the NTK) needs h(z) alone."""
    if activation(name).depends_on_variance:
        raise ValueError(f"activation {name!r} depends on the first layer's pre-activation variance q(x, x); "
                         f"{user} need an h(z) of z alone")


def with_box_integrals() -> list[str]:
    """Activations whose Feynman box integrals (hence the EFT stage) are feasible."""
    return [name for name, a in ACTIVATIONS.items() if a.box_integrals]


def hermite_nodes(name: str, d_in: int) -> int:
    """Tensor Gauss-Hermite nodes the exact moments of an activation need on d_in-dimensional inputs
    (rank d_in + 1 pre-activations with a bias); 0 where its scheme is not Gauss-Hermite."""
    moments = activation(name).moments
    if moments.closed is not None or moments.quadrature != "hermite":
        return 0
    return (moments.hermite_resolution or DEFAULT_RESOLUTION["hermite"]) ** (d_in + 1)
