"""The correlator datasets of the output contract (conventions.md), built from block means.

Shard files hold block means only; the merged dataset per (activation, d_in) adds estimates,
batch-means standard errors, P1's chunk background, the GP prediction, the Rao-Blackwell
estimates and jackknifed connected correlators. Variables (dims):

    G{n}, G{n}_stderr, G{n}_background      (width, out, t{n})   plain Monte Carlo
    G{n}_rb, G{n}_rb_stderr                 (width, out, t{n})   Rao-Blackwell
    G{n}_gp                                 (t{n})               GP (Wick) prediction
    G{n}_exact, G{n}_connected_exact        (width, t{n})        exact finite-N values (if given)
    G{n}_connected[_rb][_stderr]            (width, out, t{n})   connected, n = 4, 6 (jackknife)
    G{n}_block_mean, G{n}_rb_block_mean     (width, block, out, t{n})
    t{n}_points                             (t{n}, slot{n})      input indices of each multiset
    x                                       (point, dim)         the inputs
"""

from __future__ import annotations

import numpy as np
import xarray as xr

from nnqft import correlators, estimators, kernels
from nnqft.networks import NetworkSpec


def _tdim(n: int) -> str:
    return f"t{n}"


def shard_dataset(block_means: dict, widths, blocks: range, block_size: int) -> xr.Dataset:
    """Wrap ``ensemble.run_shard`` output: {n: (plain, rb)} arrays (width, block, out, T_n)."""
    data = {}
    for n, (plain, rb) in block_means.items():
        dims = ("width", "block", "out", _tdim(n))
        data[f"G{n}_block_mean"] = (dims, plain)
        data[f"G{n}_rb_block_mean"] = (dims, rb)
    coords = {"width": list(widths), "block": list(blocks)}
    return xr.Dataset(data, coords=coords, attrs={"block_size": block_size})


def merge_shards(shards: list[xr.Dataset], n_blocks: int) -> xr.Dataset:
    """Concatenate shards along ``block`` in block order; every block must appear exactly once."""
    merged = xr.concat(shards, dim="block").sortby("block")
    found = merged["block"].values
    if not np.array_equal(found, np.arange(n_blocks)):
        missing = sorted(set(range(n_blocks)) - set(found.tolist()))
        raise ValueError(f"shards do not cover blocks 0..{n_blocks - 1} once each (missing {missing[:10]})")
    return merged


def orders_of(ds: xr.Dataset) -> list[int]:
    return sorted(int(name[1:].split("_")[0]) for name in ds.data_vars if name.endswith("_rb_block_mean"))


def correlator_dataset(blocks: xr.Dataset, spec: NetworkSpec, x: np.ndarray, background_chunks: int,
                       exact: xr.Dataset | None = None) -> xr.Dataset:
    """Estimates, errors, background, GP and connected correlators from merged block means.

    ``exact`` (from ``exact_dataset``, same widths and inputs) adds the exact values.
    """
    x = np.asarray(x, dtype=np.float64)
    n_points = len(x)
    orders = orders_of(blocks)
    gp_kernel = kernels.gp_kernel(spec, x)
    ds = xr.Dataset(coords={"width": blocks["width"].values, "x": (("point", "dim"), x)})
    axis = blocks[f"G{orders[0]}_block_mean"].get_axis_num("block")
    for n in orders:
        tdim = _tdim(n)
        tuples = correlators.multisets(n_points, n)
        ds.coords[f"{tdim}_points"] = ((tdim, f"slot{n}"), tuples)
        dims = ("width", "out", tdim)
        for suffix in ("", "_rb"):
            bm = blocks[f"G{n}{suffix}_block_mean"].values
            mean, stderr = estimators.mean_and_stderr(bm, axis=axis)
            ds[f"G{n}{suffix}"] = (dims, mean)
            ds[f"G{n}{suffix}_stderr"] = (dims, stderr)
            ds[f"G{n}{suffix}_block_mean"] = (("width", "block", "out", tdim), bm)
        ds[f"G{n}_background"] = (dims, estimators.chunk_background(
            blocks[f"G{n}_block_mean"].values, background_chunks, axis=axis))
        ds[f"G{n}_gp"] = ((tdim,), correlators.gaussian_moments(gp_kernel, tuples))
    for n in (4, 6):
        if n not in orders:
            continue
        needed = [k for k in orders if k <= n]
        for suffix in ("", "_rb"):
            moments = [blocks[f"G{k}{suffix}_block_mean"].values for k in needed]

            def connected(*ms, n=n):
                return correlators.cumulants_from_moments(dict(zip(needed, ms)), n_points, n)

            est, err = estimators.jackknife(connected, *moments, axis=axis)
            ds[f"G{n}_connected{suffix}"] = (("width", "out", _tdim(n)), est)
            ds[f"G{n}_connected{suffix}_stderr"] = (("width", "out", _tdim(n)), err)
    if exact is not None:
        if not np.array_equal(exact["width"].values, ds["width"].values) or not np.allclose(exact["x"].values, x):
            raise ValueError("the exact dataset was computed for other widths or inputs")
        ds.update(exact.drop_vars(["x"]))
    ds.attrs.update(
        activation=spec.activation, d_in=spec.d_in, d_out=spec.d_out, sw=spec.sw, sb=spec.sb,
        n_blocks=blocks.sizes["block"], block_size=blocks.attrs["block_size"],
        n_networks=blocks.sizes["block"] * blocks.attrs["block_size"], background_chunks=background_chunks,
        standard_error="batch means over equal blocks (connected: delete-one-block jackknife)",
        background="P1: std over background_chunks equal chunks of the chunk means",
    )
    return ds


def network_spec(ds: xr.Dataset) -> NetworkSpec:
    """The parameter law a correlator dataset was generated with (from its attributes), so theory
    computed downstream always describes the networks that were measured."""
    a = ds.attrs
    return NetworkSpec(str(a["activation"]), int(a["d_in"]), int(a["d_out"]), sw=float(a["sw"]), sb=float(a["sb"]))


def exact_dataset(exact: dict, widths, x: np.ndarray) -> xr.Dataset:
    """Wrap ``exact.exact_correlators`` output as G{n}_exact, G{n}_connected_exact (width, t{n})."""
    data = {}
    for key, value in exact.items():
        if key.endswith("_coef"):
            continue
        n = int(key[1:].split("_")[0])
        data[f"{key}_exact"] = (("width", _tdim(n)), value)
    coords = {"width": list(widths), "x": (("point", "dim"), np.asarray(x, dtype=np.float64))}
    return xr.Dataset(data, coords=coords)
