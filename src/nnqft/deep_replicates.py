"""Replicate ensembles of one deep cell: is a miss against the exact values chance, or a defect?

Run ``python -m nnqft.deep_replicates --point linear_bias --depth 4 --width 128 --seeds 1000 2399``
(the point, ensemble size and blocks from ``--config``, default config/config.yaml). Every seed draws
the cell's ensemble exactly as the deep stage does (``deep_experiments.measure_point`` with that
seed), so the default seed's row is one of the replicates. Printed per (order, multiset class): the
replicates' mean against the exact value in errors of that mean (a bias shows here), their spread
against the exact standard deviation (where known) and the median jackknife error, and the share of
replicates beyond 3 errors; per order, the share of replicates whose cell fails the 95%-of-elements
rule. docs/physics.md sec. 10 quotes such studies.
"""

from __future__ import annotations

import argparse
import dataclasses
import time

import numpy as np
import pandas as pd

from nnqft import config, deep_experiments, settings

ELEMENT_SHARE = 0.95  # the acceptance's rule: a cell agrees when this share of its elements is within
SIGMA = 3.0


def replicate_rows(point: deep_experiments.Point, depth: int, width: int, sampling, seeds, log=None):
    """(class rows, element rows) of the cell (L, n) for every seed, with a ``seed`` column."""
    classes, elements = [], []
    start = time.perf_counter()
    for i, seed in enumerate(seeds):
        table, per_element = deep_experiments.measure_point(point, [depth], [width],
                                                            dataclasses.replace(sampling, seed=int(seed)))
        classes.append(table.assign(seed=seed))
        elements.append(per_element.assign(seed=seed))
        if log:
            log(f"seed {seed}: {i + 1} of {len(seeds)} in {time.perf_counter() - start:.0f} s")
    return pd.concat(classes, ignore_index=True), pd.concat(elements, ignore_index=True)


def summary(classes: pd.DataFrame, elements: pd.DataFrame, sigma: float = SIGMA,
            share: float = ELEMENT_SHARE) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Per (n_pt, class) of the replicates and, per n_pt, the share of replicates failing the
    element rule (elements within ``sigma`` of the exact values in fewer than ``share``)."""
    rows = []
    for (n_pt, cls), grp in classes[classes["exact"].notna()].groupby(["n_pt", "multiset_class"], sort=False):
        spread = grp["measured"].std(ddof=1)
        rows.append(dict(
            n_pt=n_pt, multiset_class=cls, replicates=len(grp),
            bias_in_errors=(grp["measured"].mean() - grp["exact"].iloc[0]) / (spread / np.sqrt(len(grp))),
            spread=spread, measured_stderr=grp["measured_stderr"].median(),
            jackknife_median=grp["jackknife_stderr"].median(),
            beyond=float((grp["z_exact"].abs() > sigma).mean()),
            beyond_jackknife=float(((grp["measured"] - grp["exact"]).abs() > sigma * grp["jackknife_stderr"]).mean())))
    within = (elements.assign(ok=elements["z_exact"].abs() < sigma)
              .groupby(["n_pt", "seed"])["ok"].mean().rename("within").reset_index())
    cells = within.groupby("n_pt")["within"].agg(replicates="size", failing=lambda w: float((w < share).mean()),
                                                  worst="min").reset_index()
    return pd.DataFrame(rows), cells


def main(argv=None) -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--config", default="config/config.yaml",
                   help="the config file: its deep section and sampling settings (the seeds come from --seeds)")
    p.add_argument("--point", required=True, help="a name of the config's deep.points")
    p.add_argument("--depth", type=int, required=True)
    p.add_argument("--width", type=int, required=True)
    p.add_argument("--seeds", type=int, nargs=2, required=True, metavar=("FIRST", "LAST"), help="inclusive range")
    p.add_argument("--csv", metavar="PREFIX", help="also write PREFIX_classes.csv and PREFIX_elements.csv")
    args = p.parse_args(argv)
    if args.depth < 1 or args.width < 1:
        p.error(f"--depth and --width must be positive, got {args.depth} and {args.width}")
    if args.seeds[0] > args.seeds[1]:
        p.error(f"--seeds FIRST LAST needs FIRST <= LAST, got {args.seeds[0]} {args.seeds[1]}")
    cfg = config.load(args.config)
    deep = cfg["deep"]
    if args.point not in deep["points"]:
        p.error(f"--point {args.point!r} is not in deep.points of {args.config}: {sorted(deep['points'])}")
    q = deep["points"][args.point]
    point = deep_experiments.Point(q["activation"], q["init"], float(q["c_w"]), float(q["c_b"]), q["input_set"])
    sampling = settings.sampling(cfg, deep["n_networks"], deep["n_blocks"])
    seeds = range(args.seeds[0], args.seeds[1] + 1)
    classes, elements = replicate_rows(point, args.depth, args.width, sampling, seeds,
                                       log=lambda s: print(s, flush=True))
    if args.csv:
        classes.to_csv(f"{args.csv}_classes.csv", index=False)
        elements.to_csv(f"{args.csv}_elements.csv", index=False)
    per_class, cells = summary(classes, elements)
    print(f"{args.point} L = {args.depth}, n = {args.width}: {len(seeds)} seeds of {sampling.n_networks} networks "
          f"in {sampling.n_blocks} blocks")
    print(per_class.to_string(index=False, float_format=lambda v: f"{v:.4g}"))
    print(cells.to_string(index=False, float_format=lambda v: f"{v:.4g}"))


if __name__ == "__main__":
    main()
