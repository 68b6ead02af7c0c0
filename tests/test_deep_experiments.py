"""The deep finite-width stage's library (nnqft.deep_experiments, nnqft.deep_summary) on small inputs."""

import numpy as np
import pandas as pd
import pytest

from nnqft import deep_exact
from nnqft import deep_experiments as dx
from nnqft import deep_replicates, deep_summary
from nnqft.blocks import Sampling

SAMPLING = Sampling(seed=3, n_networks=400, n_blocks=10)


def test_multiset_classes():
    assert [dx.multiset_class(t) for t in [(0, 0, 0, 0), (0, 0, 1, 2), (1, 1, 2, 2), (0, 1, 2, 3), (3, 3, 3, 1)]] == [
        "4", "2+1+1", "2+2", "1+1+1+1", "3+1"]


def test_input_sets():
    np.testing.assert_array_equal(dx.inputs("p1_d1", "relu", SAMPLING)[:, 0], [0.2, 0.4, 0.6, 0.8, 1.0, 1.2])
    a, b = dx.inputs("random_d3", "erf", SAMPLING), dx.inputs("random_d3", "relu", SAMPLING)
    assert a.shape == (4, 3) and np.array_equal(a, b)  # one stream of the seed, whatever the activation
    assert not np.array_equal(a, dx.inputs("random_d3", "erf", Sampling(seed=4, n_networks=400, n_blocks=10)))
    with pytest.raises(ValueError, match="input set"):
        dx.inputs("p1_d4", "erf", SAMPLING)


def test_second_order_fit_recovers_a_planted_coefficient():
    widths = np.array([32, 64, 128, 256])
    table = pd.DataFrame(dict(point="p", activation="erf", init="c", input_set="s", depth=2, n_pt=4,
                              multiset_class="4", width=widths, theory_1n=1 / widths,
                              measured=1 / widths + 3.0 / widths**2, measured_stderr=1e-6))
    fit = deep_summary.second_order_fits(pd.concat([table, table.assign(width=8, measured=5.0)]))  # n < 32 is ignored
    assert len(fit) == 1 and fit["c2"].iloc[0] == pytest.approx(3.0, rel=1e-10)
    assert fit["chi2_per_dof"].iloc[0] == pytest.approx(0.0, abs=1e-12) and fit["n_widths"].iloc[0] == 4


def test_agreement_flags_each_cell():
    table = pd.DataFrame(dict(point="p", activation="relu", init="c", input_set="s", depth=[1, 1, 2, 2],
                              width=4, depth_over_width=[0.25, 0.25, 0.5, 0.5], n_pt=[4, 2, 4, 2],
                              z_theory=[0.5, -1.0, 4.0, 0.1], exact=[1.0, np.nan, 1.0, 0.0],
                              z_exact=[0.2, np.nan, 3.5, 0.3], breakdown=[0.1, 1.0, 0.4, 1.0]))
    out = deep_summary.agreement(table, 3.0)
    assert out["theory_holds"].tolist() == [True, False]
    assert out["exact_within"].tolist() == [1.0, 0.5]
    assert out["breakdown_4pt"].tolist() == [0.1, 0.4]
    assert "exact_elements_within_4pt" not in out  # no element rows given
    # element rows: per cell and order, the share of elements within 3 errors of their exact values
    elements = pd.DataFrame(dict(point="p", depth=[1, 1, 1, 1, 2, 2, 2], width=4, n_pt=[4, 4, 4, 2, 4, 4, 2],
                                 z_exact=[0.1, -3.2, 2.9, 0.0, 5.0, 1.0, -3.0]))
    out = deep_summary.agreement(table, 3.0, elements)
    assert out["exact_elements_within_4pt"].tolist() == pytest.approx([2 / 3, 0.5])
    assert out["exact_elements_within_2pt"].tolist() == [1.0, 0.0]


def test_rows_take_the_exact_error_where_one_is_given():
    # Two perfectly correlated elements (one class) x = g * kappa with block means of kappa given.
    rng = np.random.default_rng(2)
    kappa = 1.0 + 0.1 * rng.normal(size=10)
    g = np.array([1.0, 2.0])
    point = dx.Point("relu", "critical", 2.0, 0.0, "p1_d1")
    tuples = np.array([[0, 0], [1, 1]])
    args = (point, 2, 8, 2, tuples, (np.outer(kappa, g),), lambda m: m, 0.5 * g, g, np.zeros(2), {})
    plain, = dx._rows_of(*args)
    jack = kappa.std(ddof=1) / np.sqrt(10) * g.mean()  # the jackknife of a mean is the standard error
    assert plain["measured_stderr"] == pytest.approx(jack) and plain["jackknife_stderr"] == plain["measured_stderr"]
    exact, = dx._rows_of(*args, exact_sd={"2": 0.45})
    assert exact["measured_stderr"] == pytest.approx(0.45) and exact["jackknife_stderr"] == pytest.approx(jack)
    assert exact["z_exact"] == pytest.approx((1.5 * kappa.mean() - 1.5) / 0.45)
    assert exact["z_theory"] == pytest.approx((1.5 * kappa.mean() - 0.75) / 0.45)
    assert exact["breakdown_stderr"] == pytest.approx(plain["breakdown_stderr"] * 0.45 / jack)


@pytest.mark.slow
def test_measured_point_sits_on_the_exact_deep_linear_values():
    sampling = SAMPLING.with_networks(4000)
    table, elements = dx.measure_point(dx.Point("linear", "critical", 1.0, 0.25, "p1_d2"), [2], [3], sampling)
    assert set(table["n_pt"]) == {2, 4, 6} and table["exact"].notna().all()  # 6-pt where an exact value exists
    assert (table["z_exact"].abs() < 4).all()
    # one row per element (P = 4 inputs: 10, 35 and 84 multisets), each against its own error: the
    # exact standard deviation for the 2- and 4-pt, the jackknife for the 6-pt
    assert elements.groupby("n_pt").size().to_dict() == {2: 10, 4: 35, 6: 84}
    assert list(elements.columns) == list(dx.ELEMENT_COLUMNS)
    # (single 6-pt elements at n = 3 are heavy-tailed and their 10-block jackknife errors unreliable:
    # up to |z| = 4.5 here; their class rows above are within 4)
    assert (elements.loc[elements["n_pt"] < 6, "z_exact"].abs() < 4).all()
    six = elements[elements["n_pt"] == 6]
    np.testing.assert_array_equal(six["measured_stderr"], six["jackknife_stderr"])
    four = elements[elements["n_pt"] == 4]
    x = dx.inputs("p1_d2", "linear", sampling)
    moments = deep_exact.linear_kernel_moments(x, 1.0, 0.25, [1 / 3] * 2, 4)
    exact_sd = deep_exact.linear_estimator_stderr(moments, 4000, {4: np.eye(35)})[4]
    np.testing.assert_allclose(four["measured_stderr"], exact_sd, rtol=1e-12)
    # the class rows' values are the averages of their elements'
    cls = table[(table["n_pt"] == 4) & (table["multiset_class"] == "2+1+1")]
    np.testing.assert_allclose(cls["measured"], four.loc[four["multiset_class"] == "2+1+1", "measured"].mean(), rtol=1e-12)


@pytest.mark.slow
def test_points_without_exact_values_skip_the_six_point():
    table, elements = dx.measure_point(dx.Point("erf", "critical", 1.0, 0.0, "p1_d2"), [1], [4], SAMPLING)
    assert set(table["n_pt"]) == {2, 4} and table["exact"].isna().all() and elements.empty
    # one hidden layer: the 1/n theory is exact for the 4-pt, and the RB shift of the 2-pt is zero
    assert (table["z_theory"].abs() < 4).all()


@pytest.mark.slow
def test_replicates_redraw_the_stage_and_spread_as_the_exact_error():
    # 40 seeds of a small deep-linear cell: the seed-3 replicate is the stage's own draw, the
    # replicates' spread matches the exact standard deviation (its own relative error ~12% here),
    # and no class is biased
    point, sampling = dx.Point("linear", "critical", 1.0, 0.25, "p1_d2"), SAMPLING
    classes, elements = deep_replicates.replicate_rows(point, 2, 8, sampling, range(3, 43))
    stage, _ = dx.measure_point(point, [2], [8], sampling)
    timed = "theory_seconds_all_depths"
    pd.testing.assert_frame_equal(classes[classes["seed"] == 3].drop(columns=["seed", timed]).reset_index(drop=True),
                                  stage.drop(columns=timed))
    per_class, cells = deep_replicates.summary(classes, elements)
    exact_error = per_class[per_class["n_pt"] < 6]
    np.testing.assert_allclose(exact_error["spread"], exact_error["measured_stderr"], rtol=0.35)
    assert (per_class["bias_in_errors"].abs() < 4).all() and (per_class["replicates"] == 40).all()
    # the element rule per seed, counted here from the element rows
    four = elements[elements["n_pt"] == 4].groupby("seed")["z_exact"].apply(lambda z: (z.abs() < 3).mean())
    assert cells.set_index("n_pt").loc[4, "failing"] == pytest.approx((four < 0.95).mean())
    assert cells.set_index("n_pt").loc[4, "worst"] == pytest.approx(four.min())
