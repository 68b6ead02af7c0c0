"""Input sets by activation and d_in (docs/physics.md sec. 1): P1's sets for P1's activations, and the
registry's choice (``nnqft.activations``, with its reasons) for the others."""

from __future__ import annotations

import numpy as np

from nnqft.activations import ACTIVATIONS, INPUT_DIMS, activation


def paper_inputs(name: str, d_in: int) -> np.ndarray:
    """The width-sweep inputs of an activation and input dimension, shape (P, d_in)."""
    entry = activation(name)
    if d_in not in INPUT_DIMS:
        raise ValueError(f"P1 has no input set for d_in = {d_in}; have {list(INPUT_DIMS)}")
    return entry.inputs(d_in).astype(np.float64)


# P1's EFT fits (docs/physics.md sec. 4): six points on a line, scaled to each activation's regime.
_FIT_BASE = np.array([0.2, 0.4, 0.6, 0.8, 1.0, 1.2])
SPLITS = ("train", "test")


def fit_inputs(name: str, split: str, train_factor: float = np.sqrt(2) / 2) -> np.ndarray:
    """P1's coupling-fit inputs, shape (6, 1): test = scale x {0.2, ..., 1.2}, train = train_factor x test."""
    scale = activation(name).fit_scale
    if scale is None:
        raise ValueError(
            f"activation {name!r} has no EFT fit inputs (its box integrals are infeasible); have "
            f"{sorted(n for n, a in ACTIVATIONS.items() if a.fit_scale is not None)}"
        )
    if split not in SPLITS:
        raise ValueError(f"unknown split {split!r}; have {SPLITS}")
    x = scale * _FIT_BASE[:, None]
    return x * train_factor if split == "train" else x


def points(coords, d: int) -> np.ndarray:
    """Config points given with up to three coordinates, truncated (or zero-padded) to d dimensions."""
    arr = np.atleast_2d(np.asarray(coords, dtype=np.float64))
    out = np.zeros((len(arr), d))
    k = min(d, arr.shape[1])
    out[:, :k] = arr[:, :k]
    return out
