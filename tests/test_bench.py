"""Smoke test of the benchmark: tiny cases run in-process and the naive moment tensors are right."""

import pytest
import numpy as np

from nnqft import bench


def test_naive_n_point_matches_einsum():
    f = np.random.default_rng(0).standard_normal((5, 6))
    assert np.allclose(bench.naive_n_point(f, 2), np.einsum("ma,mb->mab", f, f))
    assert np.allclose(bench.naive_n_point(f, 4), np.einsum("ma,mb,mc,md->mabcd", f, f, f, f))


@pytest.mark.slow
def test_tiny_cases_report_rates_and_memory():
    res = {kind: bench.measure(kind, 3, n, n_blocks=2, repeats=2)
           for kind, n in (("compare", 40), ("naive", 10), ("rng-jax", 1000), ("rng-numpy", 1000), ("gemm", 64))}
    for r in res.values():
        assert r["peak_mib"] > 0 and r["delta_mib"] >= 0
    cmp = res["compare"]
    assert all(cmp[k] > 0 for k in ("engine_s", "reference_s", "forward_s")) and cmp["repeats"] == 2
    assert cmp["max_rel_diff"] < 1e-12  # width 3: the float64 kernel, so only the summation order differs
    assert res["gemm"]["flops"] == 2 * 64**3 * 5
    rows = bench.rows_for([cmp, res["naive"]], 1e8, 6)
    assert [r["case"] for r in rows] == ["engine", "old", "naive"]
    for row in rows:
        assert row["neuron_evals_per_s"] == row["networks_per_s"] * 3 * 6
    assert rows[0]["normals_per_s"] == rows[0]["networks_per_s"] * 10  # n_normals = N (d_in + 1 + d_out) + d_out
    # The bound fractions from fixed timings: measured ones on a loaded machine can make the engine
    # faster than its own forward pass (the statistics' time is then clamped to 1e-12 s).
    timed = dict(cmp, engine_s=2.0, forward_s=0.5, reference_s=5.0, engine_cpu_s=3.0, forward_cpu_s=1.0,
                 reference_cpu_s=6.0)
    (bound,) = bench.bound_rows([timed], {"normals": 1e8, "seconds": 1.0, "cpu_s": 2.0},
                                {"flops": 1e9, "seconds": 1.0, "cpu_s": 0.5})
    assert bound["wall_speedup"] == pytest.approx(2.5) and bound["cpu_speedup"] == pytest.approx(2.0)
    assert bound["wall_statistics_gemm_fraction"] == pytest.approx(40 * cmp["statistics_flops"] / 1.5 / 1e9)
    assert bound["cpu_statistics_gemm_fraction"] == pytest.approx(40 * cmp["statistics_flops"] / 2.0 / 2e9)
    assert bound["wall_forward_rng_fraction"] == pytest.approx(40 * 10 / 0.5 / 1e8)
    assert bound["cpu_forward_rng_fraction"] == pytest.approx(40 * 10 / 1.0 / 5e7)


def test_statistics_flops_count_the_kernel_and_the_gram_products():
    """Erf-net, six points: Kh 2 N 36; plain 6^2 + 21^2 + 56^2 and Wick 21 + 21^2 + 21 x 231 multiply-adds."""
    assert bench.statistics_flops(bench.SPEC, 10, 6) == 2 * 10 * 36 + 2 * (36 + 441 + 3136) + 2 * (21 + 441 + 21 * 231)


def test_integrals_flag_times_the_feynman_workload(capsys):
    """``--integrals`` runs only the Feynman-rule integral benchmark (here its d_in = 1 part)."""
    bench.main(["--integrals", "--integrals-d-in", "1"])
    out = capsys.readouterr().out
    assert "(a) RG, 21 cutoffs x d_in [1]" in out and "(b) fits" in out and "total" in out
    rows = bench.integral_cases(d_ins=(1,), activations=("relu",))
    assert [r["part"] for r in rows] == ["rg", "fit-train", "fit-test"]
    assert all(r["seconds"] > 0 and r["nodes"] > 0 for r in rows)
