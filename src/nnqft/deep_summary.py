"""Summaries of the deep finite-width table (docs/physics.md sec. 10): where the 1/n theory holds,
and the fitted O(1/n^2) remainder. Pure pandas: table jobs do not import JAX."""

from __future__ import annotations

import numpy as np
import pandas as pd

# the widths where the O(1/n^2) remainder is fitted (issue 13: erf and tanh at n >= 32)
SECOND_ORDER_MIN_WIDTH = 32


def agreement(table: pd.DataFrame, sigma: float, elements: pd.DataFrame | None = None) -> pd.DataFrame:
    """Per (point, L, n): does the 1/n theory hold (|z_theory| < sigma on every 4-pt and 2-pt class),
    the share of classes (2-, 4- and 6-pt) within sigma of the exact values where they exist, and
    from ``elements`` (the per-element rows of ``deep_exact_elements.csv``) the share of each order's
    elements within sigma of their exact values (``exact_elements_within_{n}pt``)."""
    keys = ["point", "activation", "init", "input_set", "depth", "width", "depth_over_width"]
    orders = sorted(elements["n_pt"].unique()) if elements is not None and len(elements) else []
    shares = (elements.assign(within=elements["z_exact"].abs() < sigma)
              .groupby(["point", "depth", "width", "n_pt"])["within"].mean() if orders else None)
    rows = []
    for key, grp in table.groupby(keys, sort=False):
        has_exact = grp["exact"].notna()
        leading = grp[grp["n_pt"] < 6]  # the 1/n theory predicts the 2- and 4-pt (the connected 6-pt is 1/n^2)
        row = dict(zip(keys, key), theory_holds=bool((leading["z_theory"].abs() < sigma).all()),
                   max_abs_z_theory=float(leading["z_theory"].abs().max()),
                   exact_within=float((grp.loc[has_exact, "z_exact"].abs() < sigma).mean())
                   if has_exact.any() else np.nan,
                   breakdown_4pt=float(grp.loc[grp["n_pt"] == 4, "breakdown"].max()))
        for n in orders:
            row[f"exact_elements_within_{n}pt"] = float(shares.get((key[0], key[4], key[5], n), np.nan))
        rows.append(row)
    out = pd.DataFrame(rows)
    # NaN where no exact result exists
    out.attrs["allow_nonfinite"] = ["exact_within"] + [f"exact_elements_within_{n}pt" for n in orders]
    return out


def second_order_fits(table: pd.DataFrame, min_width: int = SECOND_ORDER_MIN_WIDTH) -> pd.DataFrame:
    """Weighted fit of measured - theory = c2 / n^2 over widths >= min_width, per (point, L, n-pt,
    class): the O(1/n^2) coefficient, its error and the fit's chi^2 per degree of freedom."""
    keys = ["point", "activation", "init", "input_set", "depth", "n_pt", "multiset_class"]
    rows = []
    for key, grp in table[(table["width"] >= min_width) & (table["n_pt"] < 6)].groupby(keys, sort=False):
        a = 1.0 / grp["width"].to_numpy(float) ** 2
        y = (grp["measured"] - grp["theory_1n"]).to_numpy()
        w = 1.0 / grp["measured_stderr"].to_numpy() ** 2
        c2 = np.sum(w * a * y) / np.sum(w * a * a)
        chi2 = float(np.sum(w * (y - c2 * a) ** 2))
        rows.append(dict(zip(keys, key), n_widths=len(grp), c2=float(c2), c2_stderr=float(1 / np.sqrt(np.sum(w * a * a))),
                         chi2_per_dof=chi2 / max(len(grp) - 1, 1)))
    # The columns stay when no width reaches min_width (a small config), so readers see a header.
    return pd.DataFrame(rows, columns=[*keys, "n_widths", "c2", "c2_stderr", "chi2_per_dof"])
