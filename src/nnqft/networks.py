"""Single-hidden-layer networks: the parameter law and the forward pass (docs/physics.md sec. 1).

    f(x) = W1 . h(W0 x + b0) + b1,   W0 ~ N(mu0, sw^2/d_in), b0 ~ N(0, sb^2),
                                      W1 ~ N(mu1, sw^2/N),    b1 ~ N(0, sb^2).

An activation is registered once in ``nnqft.activations.ACTIVATIONS`` (re-exported here);
everything else (sampling, kernels, exact moments, Feynman integrals, inputs) looks it up by
name, so a new architecture is one ``Activation`` entry.
"""

from __future__ import annotations

from dataclasses import dataclass

import jax
import jax.numpy as jnp
import numpy as np

from nnqft.activations import ACTIVATIONS, Activation, activation  # noqa: F401 (re-exported)


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

    def __post_init__(self):
        activation(self.activation)
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


def n_normals(spec: NetworkSpec, width: int) -> int:
    """Standard normals one network consumes (one more for the sign of a shared scale)."""
    return width * (spec.d_in + 1 + spec.d_out) + spec.d_out + (spec.shared_scale_eps > 0)


def params_from_normals(spec: NetworkSpec, width: int, z):
    """Map a (batch, n_normals) block of standard normals to parameters.

    Drawing one flat block and slicing it is several times faster on CPU than drawing four
    shaped arrays (measured with JAX 0.10, philox4x32).
    """
    b = z.shape[0]
    n0, n1 = width * spec.d_in, width
    n2 = width * spec.d_out

    def const(v):  # keep the sampling dtype: a float64 constant would promote the whole network
        return jnp.asarray(v, dtype=z.dtype)

    w0 = const(spec.mean_w0) + const(spec.sw / np.sqrt(spec.d_in)) * z[:, :n0].reshape(b, width, spec.d_in)
    b0 = const(spec.sb) * z[:, n0 : n0 + n1]
    w1 = const(spec.output_means)[None, :, None] + const(spec.sw / np.sqrt(width)) * z[
        :, n0 + n1 : n0 + n1 + n2
    ].reshape(b, spec.d_out, width)
    b1 = const(spec.sb) * z[:, n0 + n1 + n2 : n0 + n1 + n2 + spec.d_out]
    if spec.shared_scale_eps > 0:
        scale = jnp.sqrt(1 + const(spec.shared_scale_eps) * jnp.sign(z[:, -1:]))
        w1, b1 = w1 * scale[:, :, None], b1 * scale
    return w0, b0, w1, b1


def sample_params(spec: NetworkSpec, width: int, n: int, *, key, dtype=jnp.float32):
    """Draw n networks of the given width: (W0 (n,N,d_in), b0 (n,N), W1 (n,d_out,N), b1 (n,d_out))."""
    z = jax.random.normal(key, (n * n_normals(spec, width),), dtype).reshape(n, -1)
    return params_from_normals(spec, width, z)


def hidden(spec: NetworkSpec, w0, b0, x):
    """Hidden units h_i(x) for a batch of networks, shape (n, N, P)."""
    q = jnp.asarray(preactivation_variance(spec, x), dtype=w0.dtype)
    z = jnp.einsum("bnd,pd->bnp", w0, jnp.asarray(x, dtype=w0.dtype)) + b0[..., None]
    return activation(spec.activation).h(z, q)


def outputs(w1, b1, h):
    """Network outputs f(x), shape (n, d_out, P)."""
    return jnp.einsum("bon,bnp->bop", w1, h) + b1[..., None]
