"""The input sets of P1's code (docs/physics.md sec. 1), by activation and d_in."""

from __future__ import annotations

import numpy as np

_ERF = {
    1: [[-1.0], [-0.6], [-0.2], [0.2], [0.6], [1.0]],
    2: [[-1.0, -1.0], [-1.0, 1.0], [1.0, -1.0], [1.0, 1.0]],
    3: [[-1.0, -1.0, -1.0], [1.0, 1.0, -1.0], [-1.0, 1.0, 1.0], [1.0, -1.0, 1.0]],
}
_RELU = {
    1: [[0.2], [0.4], [0.6], [0.8], [1.0], [1.2]],
    2: [[0.5, 0.5], [0.5, 1.0], [1.0, 0.5], [1.0, 1.0]],
    3: [[0.2, 0.2, 0.2], [1.0, 1.0, 0.2], [0.2, 1.0, 1.0], [1.0, 0.2, 1.0]],
}
# Gauss-net inputs are 0.01 x the Erf set: close points, so that finite-width effects of the
# log-normal hidden units are visible above noise.
_SETS = {
    "erf": lambda d: np.array(_ERF[d]),
    "gauss": lambda d: 0.01 * np.array(_ERF[d]),
    "relu": lambda d: np.array(_RELU[d]),
}


def paper_inputs(activation: str, d_in: int) -> np.ndarray:
    """P1's inputs for an activation and input dimension, shape (P, d_in)."""
    if activation not in _SETS:
        raise ValueError(f"P1 has no input set for activation {activation!r}; have {sorted(_SETS)}")
    if d_in not in _ERF:
        raise ValueError(f"P1 has no input set for d_in = {d_in}; have {sorted(_ERF)}")
    return _SETS[activation](d_in).astype(np.float64)


# P1's EFT fits (docs/physics.md sec. 4): six points on a line, scaled to each activation's regime.
_FIT_BASE = np.array([0.2, 0.4, 0.6, 0.8, 1.0, 1.2])
_FIT_SCALE = {"erf": 0.01, "gauss": 0.01, "relu": 1.0}
SPLITS = ("train", "test")


def fit_inputs(activation: str, split: str, train_factor: float = np.sqrt(2) / 2) -> np.ndarray:
    """P1's coupling-fit inputs, shape (6, 1): test = scale x {0.2, ..., 1.2}, train = train_factor x test."""
    if activation not in _FIT_SCALE:
        raise ValueError(f"P1 has no fit inputs for activation {activation!r}; have {sorted(_FIT_SCALE)}")
    if split not in SPLITS:
        raise ValueError(f"unknown split {split!r}; have {SPLITS}")
    x = _FIT_SCALE[activation] * _FIT_BASE[:, None]
    return x * train_factor if split == "train" else x


def points(coords, d: int) -> np.ndarray:
    """Config points given with up to three coordinates, truncated (or zero-padded) to d dimensions."""
    arr = np.atleast_2d(np.asarray(coords, dtype=np.float64))
    out = np.zeros((len(arr), d))
    k = min(d, arr.shape[1])
    out[:, :k] = arr[:, :k]
    return out
