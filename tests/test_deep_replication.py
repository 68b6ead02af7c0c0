"""Verdicts of the deep-network claims (nnqft.replication.DEEP_CLAIMS) on planted tables."""

import itertools

import numpy as np
import pandas as pd
import pytest

from nnqft import replication


def _claim(claim_id):
    return next(c for c in replication.CLAIMS if c.claim_id == claim_id)


@pytest.mark.parametrize("holds, verdict", [([True] * 10, "reproduced"), ([True] * 8 + [False] * 2, "differs")])
def test_small_ratio_claim_counts_agreeing_cells(holds, verdict):
    cells = pd.DataFrame(dict(depth_over_width=[0.01] * 10 + [0.5], theory_holds=holds + [False],
                              max_abs_z_theory=[1.0] * 11))
    row = replication.evaluate([_claim("PDLT-1 1/n theory at small L/n")], {"deep_agreement.csv": cells}).iloc[0]
    assert row["verdict"] == verdict and "of 10 cells" in row["ours"]


@pytest.mark.parametrize("depth_power, verdict", [(1.0, "reproduced"), (2.0, "differs")])
def test_expansion_parameter_claim_compares_the_exponents(depth_power, verdict):
    rng = np.random.default_rng(0)
    rows = []
    for point, depth, width in itertools.product(["a", "b"], [1, 2, 4, 8], [8, 16, 32, 64]):
        breakdown = (0.3 if point == "a" else 0.7) * depth**depth_power / width * (1 + 0.01 * rng.normal())
        rows.append(dict(point=point, depth=depth, width=width, n_pt=4, multiset_class="4",
                         breakdown=breakdown, breakdown_stderr=0.01 * breakdown))
    table = pd.DataFrame(rows)
    row = replication.evaluate([_claim("PDLT-2 expansion parameter L/n")], {"deep_finite_width.csv": table}).iloc[0]
    assert row["verdict"] == verdict, row["ours"]


def test_expansion_parameter_is_untestable_without_resolved_cells():
    table = pd.DataFrame(dict(point="a", depth=[1, 2], width=[8, 8], n_pt=4, multiset_class="4",
                              breakdown=[0.01, 0.02], breakdown_stderr=[0.1, 0.1]))
    row = replication.evaluate([_claim("PDLT-2 expansion parameter L/n")], {"deep_finite_width.csv": table}).iloc[0]
    assert row["verdict"] == "untestable"
