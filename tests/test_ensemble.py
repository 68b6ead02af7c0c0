import zlib

import numpy as np
import pytest

from nnqft import bench, blocks, correlators, datasets, ensemble, estimators, inputs, kernels, networks
from nnqft.blocks import Sampling

RELU = networks.NetworkSpec("relu", 1, sb=0.0)
RELU_X = inputs.paper_inputs("relu", 1)


def run(spec, x, widths, sampling, blocks, name="test"):
    return ensemble.run_shard(spec, x, widths, sampling, ensemble=name, blocks=blocks)


def test_stable_id_is_crc32_and_process_independent():
    assert blocks.stable_id("deviation/erf/d1") == zlib.crc32(b"deviation/erf/d1") & 0x7FFFFFFF


def test_block_keys_are_seed_name_width_block_fold_ins():
    """The documented stream of a block, written out with JAX's primitives (streams must never move)."""
    import jax

    root = jax.random.key(11, impl="threefry2x32")
    by_hand = [jax.random.fold_in(jax.random.fold_in(jax.random.fold_in(root, zlib.crc32(b"sweep") & 0x7FFFFFFF), 20), b)
               for b in (0, 3)]
    engine = blocks.block_keys(11, "threefry2x32", "sweep", 20, [0, 3])
    assert [jax.random.key_data(k).tolist() for k in engine] == [jax.random.key_data(k).tolist() for k in by_hand]
    # An auxiliary stream on the same path is the same key; a different name is not.
    same = blocks.stream(11, "threefry2x32", "sweep", 20, 3)
    other = blocks.stream(11, "threefry2x32", "sweep2", 20, 3)
    assert jax.random.key_data(same).tolist() == jax.random.key_data(engine[1]).tolist()
    assert jax.random.key_data(other).tolist() != jax.random.key_data(engine[1]).tolist()


def test_shard_blocks_partition_the_blocks():
    for n_shards in (1, 2, 3, 7):
        ranges = [blocks.shard_blocks(20, n_shards, s) for s in range(n_shards)]
        assert [b for r in ranges for b in r] == list(range(20))
    with pytest.raises(ValueError, match="shard 3 outside"):
        blocks.shard_blocks(20, 3, 3)


def test_sampling_rejects_uneven_blocks():
    with pytest.raises(ValueError, match="multiple of n_blocks"):
        Sampling(seed=3, n_networks=1001, n_blocks=10)


@pytest.mark.slow
def test_correlators_are_byte_identical_for_any_sharding():
    spec = networks.NetworkSpec("erf", 1)
    x = inputs.paper_inputs("erf", 1)
    plan = Sampling(seed=3, n_networks=600, n_blocks=12, batch_elements=20_000)
    widths = [3, 50]

    def merged(n_shards):
        shards = []
        for s in range(n_shards):
            shard = blocks.shard_blocks(12, n_shards, s)
            shards.append(datasets.shard_dataset(run(spec, x, widths, plan, shard), widths, shard, plan.block_size))
        merged_blocks = datasets.merge_shards(shards, 12)
        return datasets.correlator_dataset(merged_blocks, spec, x, background_chunks=4)

    one, five = merged(1), merged(5)
    for name in one.data_vars:
        assert one[name].values.tobytes() == five[name].values.tobytes(), name


def test_batch_size_follows_the_memory_budget_not_the_ensemble():
    plan = Sampling(seed=3, n_networks=10**6, n_blocks=100, batch_elements=2**20)
    small, wide = (plan.batch_size(ensemble.footprint(RELU, width, 6, (2, 4, 6))) for width in (2, 1000))
    assert wide < small <= plan.block_size
    assert wide * (networks.n_normals(RELU, 1000) + 2 * 1000 * 6) <= 2**20


@pytest.mark.slow
def test_moments_are_float64_and_match_a_numpy_forward_pass():
    spec = networks.NetworkSpec("gauss", 2, d_out=2, sw=1.1, sb=0.7)
    x = inputs.paper_inputs("gauss", 2)
    plan = Sampling(seed=3, n_networks=64, n_blocks=2, batch_elements=10**6)
    key = blocks.block_keys(5, "philox4x32", "numpy", 7, [0])[0]
    got = ensemble.block_means(spec, x, 7, plan, [key], orders=(2, 4))
    assert got[4][0].dtype == np.float64
    # Reference: the same parameters, forward pass and products in numpy.
    batch = plan.batch_size(ensemble.footprint(spec, 7, len(x), (2, 4)))
    import jax
    w0, b0, w1, b1 = (np.asarray(a, np.float64) for a in networks.sample_params(spec, 7, batch, key=jax.random.fold_in(key, 0)))
    q = networks.preactivation_variance(spec, x)
    h = np.exp(np.einsum("bnd,pd->bnp", w0, x) + b0[..., None] - q)
    f = np.einsum("bon,bnp->bop", w1, h) + b1[..., None]
    t = correlators.multisets(len(x), 4)
    want = f[:plan.block_size][..., t].prod(-1).mean(0)
    np.testing.assert_allclose(got[4][0][0], want, rtol=2e-5)


@pytest.mark.slow
def test_relu_ray_m4_is_five_over_n():
    """ReLU, sb = 0, inputs on a ray: every element of m_4 equals 5/N (docs/physics.md sec. 3)."""
    widths = [2, 5, 20, 100]
    plan = Sampling(seed=3, n_networks=40_000, n_blocks=40)
    res = run(RELU, RELU_X, widths, plan, range(40))
    gp4 = correlators.gaussian_moments(kernels.gp_kernel(RELU, RELU_X), correlators.multisets(6, 4))
    for plain_or_rb in res[4]:
        mean, se = estimators.mean_and_stderr(plain_or_rb, axis=1)
        for i, n in enumerate(widths):
            z = (mean[i, 0] / gp4 - 1 - 5 / n) / (se[i, 0] / gp4)
            assert np.abs(z).max() < 4, (n, np.abs(z).max())


@pytest.mark.slow
@pytest.mark.parametrize("name", ["erf", "gauss"])
def test_two_point_function_is_the_gp_kernel_at_every_width(name):
    spec = networks.NetworkSpec(name, 1)
    x = inputs.paper_inputs(name, 1)
    plan = Sampling(seed=3, n_networks=20_000, n_blocks=20)
    res = run(spec, x, [2, 50], plan, range(20))
    k = kernels.gp_kernel(spec, x)[tuple(correlators.multisets(6, 2).T)]
    for est in res[2]:
        mean, se = estimators.mean_and_stderr(est, axis=1)
        z = (mean[:, 0] - k) / se[:, 0]
        assert np.abs(z).max() < 4.5


@pytest.mark.slow
def test_rao_blackwell_with_output_means_agrees_with_plain_estimator():
    """With a non-zero W1 mean the conditional law has a mean: partial Wick pairings."""
    spec = networks.NetworkSpec("erf", 1, d_out=2, mean_w1=(0.0, 0.3))
    x = inputs.paper_inputs("erf", 1)[:3]
    plan = Sampling(seed=3, n_networks=40_000, n_blocks=40)
    res = run(spec, x, [4], plan, range(40))
    for n in (2, 4, 6):
        (pm, pse), (rm, rse) = (estimators.mean_and_stderr(e, axis=1) for e in res[n])
        z = (pm - rm) / np.hypot(pse, rse)
        assert np.abs(z).max() < 4.5, n
        assert np.all(rse <= 1.05 * pse)


@pytest.mark.slow
@pytest.mark.parametrize("spec, n_points, width, orders", [
    (networks.NetworkSpec("erf", 1), 6, 20, (2, 4, 6)),
    (networks.NetworkSpec("gauss", 2, d_out=2, sw=1.1, sb=0.7), 6, 7, (2, 4)),
    (networks.NetworkSpec("erf", 1, d_out=2, mean_w1=(0.0, 0.3), shared_scale_eps=0.5), 3, 4, (2, 4, 6)),
])
def test_engine_equals_the_per_network_gathers_to_1e_12(spec, n_points, width, orders):
    """The matrix-product statistics against the previous engine (per-network products and Wick sums,
    kept in nnqft.bench): same streams and batches, so only the summation order differs. Three blocks
    of 100 in batches of 34 (the last one padded)."""
    x = inputs.paper_inputs(spec.activation, spec.d_in)[:n_points]
    plan = Sampling(seed=3, n_networks=300, n_blocks=3, batch_elements=34 * ensemble.footprint(spec, width, n_points, orders))
    assert plan.batch_size(ensemble.footprint(spec, width, n_points, orders)) == 34
    keys = plan.block_keys("test/reference", width)
    got = ensemble.block_means(spec, x, width, plan, keys, orders)
    want = bench.reference_block_means(spec, x, width, plan, keys, orders)
    for n in orders:
        for g, w in zip(got[n], want[n]):
            np.testing.assert_allclose(g, w, rtol=1e-12, atol=1e-12 * np.abs(w).max())


@pytest.mark.slow
def test_float32_kernel_moves_rao_blackwell_moments_by_rounding_only():
    """Above EXACT_KERNEL_MAX_WIDTH the kernel is a float32 product: plain moments are untouched and
    the Rao-Blackwell ones move by float32 rounding (~1e-7), far below their standard error."""
    width = ensemble.EXACT_KERNEL_MAX_WIDTH + 1
    plan = Sampling(seed=3, n_networks=200, n_blocks=2)
    keys = plan.block_keys("test/kernel", width)
    exact, fast = (ensemble.block_means(RELU, RELU_X, width, plan, keys, exact_kernel=e) for e in (True, False))
    default = ensemble.block_means(RELU, RELU_X, width, plan, keys)
    for n in (2, 4, 6):
        assert exact[n][0].tobytes() == fast[n][0].tobytes()
        assert default[n][1].tobytes() == fast[n][1].tobytes()
        np.testing.assert_allclose(fast[n][1], exact[n][1], rtol=1e-5)
        assert np.abs(fast[n][1] - exact[n][1]).max() > 0
