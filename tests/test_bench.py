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
    res = {kind: bench.measure(kind, 3, n, n_blocks=2)
           for kind, n in (("engine", 40), ("naive", 10), ("rng-jax", 1000), ("rng-numpy", 1000))}
    for r in res.values():
        assert r["seconds"] > 0 and r["peak_mib"] > 0 and r["delta_mib"] >= 0
    rows = bench.rows_for([res["engine"], res["naive"]], 1e8, 6)
    for row in rows:
        assert row["neuron_evals_per_s"] == row["networks_per_s"] * 3 * 6
    assert rows[0]["normals_per_s"] == rows[0]["networks_per_s"] * 10  # n_normals = N (d_in + 1 + d_out) + d_out


def test_integrals_flag_times_the_feynman_workload(capsys):
    """``--integrals`` runs only the Feynman-rule integral benchmark (here its d_in = 1 part)."""
    bench.main(["--integrals", "--integrals-d-in", "1"])
    out = capsys.readouterr().out
    assert "(a) RG, 21 cutoffs x d_in [1]" in out and "(b) fits" in out and "total" in out
    rows = bench.integral_cases(d_ins=(1,), activations=("relu",))
    assert [r["part"] for r in rows] == ["rg", "fit-train", "fit-test"]
    assert all(r["seconds"] > 0 and r["nodes"] > 0 for r in rows)
