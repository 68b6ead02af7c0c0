import dataclasses

import numpy as np
import pytest

from nnqft import correlators, datasets, ensemble, independence, inputs, kernels, networks
from nnqft.blocks import Sampling

X = inputs.paper_inputs("erf", 1)[:4]
SPEC = networks.NetworkSpec("erf", 1)


def test_scale_moments_are_those_of_a_two_point_law():
    spec = dataclasses.replace(SPEC, shared_scale_eps=0.3)
    s2 = np.array([0.7, 1.3])
    for n in (2, 4, 6):
        assert spec.scale_moment(n) == pytest.approx(np.mean(s2 ** (n / 2)), rel=1e-14)
    with pytest.raises(ValueError, match="shared_scale_eps must lie in"):
        dataclasses.replace(SPEC, shared_scale_eps=1.5)


def test_infinite_width_connected_four_point_is_eps_squared_times_wick():
    eps = np.array([0.0, 0.2, 0.7])
    gc = independence.exact_connected(SPEC, X, [np.inf], eps)[:, 0]
    wick = correlators.gaussian_moments(kernels.gp_kernel(SPEC, X), correlators.multisets(4, 4))
    np.testing.assert_allclose(gc, eps[:, None] ** 2 * wick[None], atol=1e-14)


@pytest.mark.slow
def test_ensembles_match_the_exact_family():
    by_eps = {}
    for eps in (0.0, 0.5):
        family = dataclasses.replace(SPEC, shared_scale_eps=eps)
        sampling = Sampling(seed=4, n_networks=20_000, n_blocks=20)
        means = ensemble.run_shard(family, X, [50], sampling, ensemble=f"eps{eps}", blocks=range(20), orders=(2, 4))
        blocks = datasets.shard_dataset(means, [50], range(20), sampling.block_size)
        by_eps[eps] = datasets.correlator_dataset(blocks, family, X, background_chunks=2)
    table = independence.summary(by_eps, SPEC, X)
    measured = table[table["estimator"] != "exact"]
    assert np.abs(measured["z"]).max() < 4
    exact_inf = table[(table["estimator"] == "exact") & np.isinf(table["width"])].set_index("eps")["value"]
    assert exact_inf.loc[0.5] == pytest.approx(0.25, rel=1e-12) and abs(exact_inf.loc[0.0]) < 1e-14
