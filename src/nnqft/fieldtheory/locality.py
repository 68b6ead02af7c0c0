"""Locality via cluster decomposition (docs/physics.md sec. 7).

Move two of four points a distance L away: G4_c(x1, x2, x3 + L e, x4 + L e). A local theory's
connected correlators decay with L; a finite-width cos-net's tends to a non-zero O(1/N)
constant (``cosnet.connected_4pt_plateau``: every neuron's momentum is shared by all points).

Configurations are laid out as groups of four points; the shift is split symmetrically,
(x1, x2) - L e / 2 and (x3, x4) + L e / 2, which for a translation-invariant theory is the same
correlator and for a deformation on a box V centred at the origin keeps the points inside V
as long as possible.
"""

from __future__ import annotations

import numpy as np

# The six pairs of a 4-tuple, ordered as the three Wick pairings (12)(34), (13)(24), (14)(23).
PAIRS = ((0, 1), (2, 3), (0, 2), (1, 3), (0, 3), (1, 2))


def cluster_points(base, separations, direction=None):
    """Points (n_L, 4, d): base (4, d) with (x1, x2) moved by -L e/2 and (x3, x4) by +L e/2."""
    base = np.asarray(base, dtype=np.float64)
    if base.shape[0] != 4:
        raise ValueError(f"cluster configuration needs 4 base points, got {base.shape[0]}")
    d = base.shape[1]
    e = np.eye(d)[0] if direction is None else np.asarray(direction, dtype=np.float64)
    e = e / np.linalg.norm(e)
    sign = np.array([-0.5, -0.5, 0.5, 0.5])
    shifts = np.asarray(separations, dtype=np.float64)[:, None, None] * sign[None, :, None] * e
    return base[None] + shifts


def group_tuples(n_groups: int) -> dict:
    """Index tuples into points laid out as consecutive groups of four:
    ``m4`` (n_groups, 4) and ``m2`` (n_groups, 6, 2) in the order of ``PAIRS``."""
    t4 = np.arange(4 * n_groups).reshape(n_groups, 4)
    return {"m4": t4, "m2": t4[:, np.array(PAIRS)]}


def connected_4pt(m4, m2):
    """G4_c = G4 - sum over the three pairings of G2 G2, from moments m4 (..., n) and m2 (..., n, 6)."""
    return m4 - (m2[..., 0] * m2[..., 1] + m2[..., 2] * m2[..., 3] + m2[..., 4] * m2[..., 5])


def window_mean(curve, separations, start: float):
    """Mean of a curve (..., n_L) over the separations L >= start: the plateau estimate."""
    keep = np.asarray(separations) >= start
    if not keep.any():
        raise ValueError(f"no separation >= plateau start {start}; separations: {list(separations)}")
    return np.asarray(curve)[..., keep].mean(axis=-1)
