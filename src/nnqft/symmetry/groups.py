"""Group elements for the invariance tests: Haar-random rotations and random translations.

Every sampler takes an explicit JAX key, so the transforms of a test are a pure function of the
config seed and the test's stable name. scipy's ``special_ortho_group`` (a maintained Haar
sampler on SO(d)) draws from a numpy generator seeded by the key's raw bits.
"""

from __future__ import annotations

import jax
import numpy as np
from scipy.stats import special_ortho_group


def numpy_rng(key) -> np.random.Generator:
    """A numpy generator whose stream is a pure function of a JAX key (its raw key data)."""
    data = np.asarray(jax.random.key_data(key), dtype=np.uint32).ravel()
    return np.random.default_rng(np.random.SeedSequence([int(v) for v in data]))


def haar_rotations(d: int, n: int, *, key) -> np.ndarray:
    """n Haar-random rotations R in SO(d), shape (n, d, d): R^T R = 1, det R = +1."""
    if d < 2:
        raise ValueError(f"SO(d) needs d >= 2 (SO(1) is trivial), got d = {d}")
    if n < 1:
        raise ValueError(f"need at least one rotation, got n = {n}")
    rot = special_ortho_group.rvs(dim=d, size=n, random_state=numpy_rng(key))
    return np.asarray(rot, dtype=np.float64).reshape(n, d, d)


def gaussian_translations(d: int, n: int, scale: float, *, key) -> np.ndarray:
    """n translations a in R^d, each component N(0, scale^2), shape (n, d)."""
    if scale <= 0:
        raise ValueError(f"translation scale must be > 0, got {scale}")
    return scale * np.asarray(jax.random.normal(key, (n, d), dtype=np.float64))


def anisotropy(d_in: int, strength: float) -> np.ndarray:
    """First-layer column scales (1 + strength, 1, ..., 1): the weight std along input axis 0 is
    multiplied by 1 + strength, so the first-layer density is no longer SO(d_in) invariant."""
    if strength <= -1:
        raise ValueError(f"anisotropy strength must be > -1, got {strength}")
    scale = np.ones(d_in)
    scale[0] += strength
    return scale
