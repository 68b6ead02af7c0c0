"""Networks: the parameter law and the forward pass (docs/physics.md sec. 1; deep: sec. 10).

    f(x) = W1 . h(W0 x + b0) + b1,   W0 ~ N(mu0, sw^2/d_in), b0 ~ N(0, sb^2),
                                      W1 ~ N(mu1, sw^2/N),    b1 ~ N(0, sb^2).

A deep network (``depth`` L > 1 hidden layers) inserts L - 1 layers h <- h(W h + b) with
W ~ N(0, sw^2 / fan_in), b ~ N(0, sb^2), i.e. C_W = sw^2 and C_b = sb^2; ``mean_w0`` stays on the
first layer, the output means and the shared scale on the output layer. The width N passed
around is the last hidden layer's; earlier layers have ``width_multipliers`` x N (equal by default).

An activation is registered once in ``nnqft.activations.ACTIVATIONS`` (re-exported here);
everything else (sampling, kernels, exact moments, Feynman integrals, inputs) looks it up by
name, so a new architecture is one ``Activation`` entry.
"""

from __future__ import annotations

from dataclasses import dataclass

import jax
import jax.numpy as jnp
import numpy as np

from nnqft.activations import ACTIVATIONS, Activation, activation, require_h_alone  # noqa: F401 (re-exported)


@dataclass(frozen=True)
class NetworkSpec:
    """Everything that defines the parameter law of a network, except its width."""

    activation: str
    d_in: int
    d_out: int = 1
    sw: float = 1.0
    sb: float = 1.0
    mean_w0: float = 0.0
    mean_w1: tuple[float, ...] = ()  # one mean per output row; () means all zero
    # P3's broken independence: the output layer (W1, b1) of each network is multiplied by one
    # shared scale s with s^2 = 1 + eps * (+-1), so all output weights are correlated; E[s^2] = 1
    # keeps the GP kernel, eps = 0 is the i.i.d. network.
    shared_scale_eps: float = 0.0
    depth: int = 1  # hidden layers L
    # widths of hidden layers 1..L-1 as multiples of the last hidden layer's width; () means equal
    width_multipliers: tuple[int, ...] = ()

    def __post_init__(self):
        activation(self.activation)  # raises for a name the registry lacks
        if self.depth < 1:
            raise ValueError(f"depth must be >= 1, got {self.depth}")
        if self.width_multipliers and (len(self.width_multipliers) != self.depth - 1
                                       or min(self.width_multipliers) < 1):
            raise ValueError(f"width_multipliers needs depth - 1 = {self.depth - 1} integers >= 1, "
                             f"got {self.width_multipliers}")
        if self.depth > 1:
            require_h_alone(self.activation, f"deep networks (depth = {self.depth})")
        if self.d_in < 1 or self.d_out < 1:
            raise ValueError(f"d_in and d_out must be >= 1, got {self.d_in}, {self.d_out}")
        if self.sw <= 0 or self.sb < 0:
            raise ValueError(f"need sw > 0 and sb >= 0, got sw={self.sw}, sb={self.sb}")
        if not 0.0 <= self.shared_scale_eps <= 1.0:
            raise ValueError(f"shared_scale_eps must lie in [0, 1], got {self.shared_scale_eps}")
        if self.mean_w1 and len(self.mean_w1) != self.d_out:
            raise ValueError(
                f"mean_w1 has {len(self.mean_w1)} entries, expected d_out = {self.d_out}"
            )

    @property
    def output_means(self) -> np.ndarray:
        """Mean of each row of W1, shape (d_out,)."""
        return np.asarray(self.mean_w1 or (0.0,) * self.d_out, dtype=np.float64)

    def scale_moment(self, n: int) -> float:
        """E[s^n] of the shared output scale: ((1 + eps)^(n/2) + (1 - eps)^(n/2)) / 2."""
        eps = self.shared_scale_eps
        return 0.5 * ((1 + eps) ** (n / 2) + (1 - eps) ** (n / 2))

    @property
    def zero_mean(self) -> bool:
        return self.mean_w0 == 0.0 and not np.any(self.output_means)


def preactivation_variance(spec: NetworkSpec, x) -> np.ndarray:
    """q(x, x) = sb^2 + sw^2 |x|^2 / d_in for each row of x, shape (P,)."""
    x = np.asarray(x, dtype=np.float64)
    return spec.sb**2 + spec.sw**2 * np.sum(x * x, axis=-1) / spec.d_in


def hidden_widths(spec: NetworkSpec, width: int) -> tuple[int, ...]:
    """Widths n_1..n_L of the hidden layers; the last is ``width``."""
    return tuple(m * width for m in spec.width_multipliers or (1,) * (spec.depth - 1)) + (width,)


def n_normals(spec: NetworkSpec, width: int) -> int:
    """Standard normals one network consumes (one more for the sign of a shared scale)."""
    sizes = (spec.d_in,) + hidden_widths(spec, width) + (spec.d_out,)
    return sum(a * b + b for a, b in zip(sizes[:-1], sizes[1:])) + (spec.shared_scale_eps > 0)


def _const(v, z):  # keep the sampling dtype: a float64 constant would promote the whole network
    return jnp.asarray(v, dtype=z.dtype)


def _first_layer(spec: NetworkSpec, width: int, z):
    """W0 (b, N, d_in), b0 (b, N) from the first N (d_in + 1) columns of a block of normals."""
    n0 = width * spec.d_in
    w0 = _const(spec.mean_w0, z) + _const(spec.sw / np.sqrt(spec.d_in), z) * z[:, :n0].reshape(-1, width, spec.d_in)
    return w0, _const(spec.sb, z) * z[:, n0 : n0 + width]


def _output_layer(spec: NetworkSpec, width: int, z):
    """W1 (b, d_out, N), b1 (b, d_out) from the columns after the hidden layers (the last column is
    the sign of a shared scale)."""
    n2 = width * spec.d_out
    w1 = _const(spec.output_means, z)[None, :, None] + _const(spec.sw / np.sqrt(width), z) * z[:, :n2].reshape(
        -1, spec.d_out, width)
    b1 = _const(spec.sb, z) * z[:, n2 : n2 + spec.d_out]
    if spec.shared_scale_eps > 0:
        scale = jnp.sqrt(1 + _const(spec.shared_scale_eps, z) * jnp.sign(z[:, -1:]))
        w1, b1 = w1 * scale[:, :, None], b1 * scale
    return w1, b1


def params_from_normals(spec: NetworkSpec, width: int, z):
    """Map a (batch, n_normals) block of standard normals to single-layer parameters.

    Drawing one flat block and slicing it is several times faster on CPU than drawing four
    shaped arrays (measured with JAX 0.10, philox4x32).
    """
    first = width * (spec.d_in + 1)
    return (*_first_layer(spec, width, z), *_output_layer(spec, width, z[:, first:]))


def _normals(spec: NetworkSpec, width: int, n: int, key, dtype):
    return jax.random.normal(key, (n * n_normals(spec, width),), dtype).reshape(n, -1)


def sample_params(spec: NetworkSpec, width: int, n: int, *, key, dtype=jnp.float32):
    """Draw n networks of the given width: (W0 (n,N,d_in), b0 (n,N), W1 (n,d_out,N), b1 (n,d_out))."""
    if spec.depth != 1:
        raise ValueError(f"sample_params draws single-hidden-layer networks; depth = {spec.depth}: use sample_forward")
    return params_from_normals(spec, width, _normals(spec, width, n, key, dtype))


def forward_from_normals(spec: NetworkSpec, width: int, z, x):
    """Last hidden layer (b, N, P) and outputs (b, d_out, P) from a (b, n_normals) block of normals.

    The block is sliced layer by layer, [W (fan_out x fan_in), b (fan_out)] from the first layer to
    the output; at depth 1 these are the slices and operations of ``params_from_normals``,
    ``hidden`` and ``outputs``, so single-layer results are unchanged bit for bit."""
    b, widths = z.shape[0], hidden_widths(spec, width)
    w0, b0 = _first_layer(spec, widths[0], z)
    h = hidden(spec, w0, b0, x)
    act, start = activation(spec.activation), widths[0] * (spec.d_in + 1)
    for fan_in, fan_out in zip(widths[:-1], widths[1:]):
        stop = start + fan_in * fan_out
        w = _const(spec.sw / np.sqrt(fan_in), z) * z[:, start:stop].reshape(b, fan_out, fan_in)
        bias = _const(spec.sb, z) * z[:, stop : stop + fan_out]
        # q (the first layer's variance) is not defined deeper; NetworkSpec admits only h(z) alone
        h = act.h(jnp.einsum("bij,bjp->bip", w, h) + bias[..., None], 0.0)
        start = stop + fan_out
    w1, b1 = _output_layer(spec, width, z[:, start:])
    return h, outputs(w1, b1, h)


def sample_forward(spec: NetworkSpec, width: int, x, n: int, *, key, dtype=jnp.float32):
    """Draw n networks and evaluate them on x: (last hidden layer (n, N, P), outputs (n, d_out, P)).
    Depth 1 consumes the same normals in the same order as ``sample_params``."""
    return forward_from_normals(spec, width, _normals(spec, width, n, key, dtype), x)


def hidden(spec: NetworkSpec, w0, b0, x):
    """Hidden units h_i(x) for a batch of networks, shape (n, N, P)."""
    q = jnp.asarray(preactivation_variance(spec, x), dtype=w0.dtype)
    z = jnp.einsum("bnd,pd->bnp", w0, jnp.asarray(x, dtype=w0.dtype)) + b0[..., None]
    return activation(spec.activation).h(z, q)


def outputs(w1, b1, h):
    """Network outputs f(x), shape (n, d_out, P)."""
    return jnp.einsum("bon,bnp->bop", w1, h) + b1[..., None]
