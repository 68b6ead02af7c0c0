"""Experiments as tables, config cross-key rules, and figures from tiny tables."""

import copy

import pandas as pd

import numpy as np
import pytest

from nnqft import inputs
from nnqft.blocks import Sampling
from nnqft.config import ConfigError
from nnqft.fieldtheory import cosnet, experiments, figures, locality, phi4, settings

SECTION = {
    "mass": 1.0, "parametrisation": "alpha0", "n_blocks": 10,
    "propagator": {"d": [1], "parametrisations": ["uniform", "alpha0"], "widths": [10], "cutoff": 10.0,
                   "separations": [0.0, 0.5, 1.5, 4.0], "n_networks": 2000},
    "phi4": {"d": [1], "width": 20, "cutoff": 5.0, "box_half_width": 1.0, "quadrature_nodes": 12,
             "points": [[-0.3, 0.0], [0.0, 0.0], [0.3, 0.4]], "couplings": [0.1, 1.0], "perturbative_max": 0.1,
             "n_networks": 2000},
    "cluster": {"cutoff": 5.0, "widths": [10], "base_points": [0.0, 0.5, 0.0, 0.5], "separations": [0.0, 1.0, 4.0],
                "plateau_from": 4.0, "n_networks": 2000, "gp_samples": 2000, "phi4_widths": [20], "phi4_coupling": 1.0,
                "phi4_box_half_width": 3.0, "phi4_quadrature_nodes": 40, "phi4_networks": 2000},
    "action": {"d": [1], "n_sites": [5], "cutoff": 3.0, "spacing_factor": 1.0, "conditioning_factors": [0.5, 1.0],
               "couplings": [0.2], "width": 100, "cosnet_width": 10, "n_networks": 2000},
    "os": {"d": [1], "width": 20, "cutoff": 5.0, "n_points": 3, "n_transforms": 2, "translation_scale": 2.0,
           "reflection_cutoffs": [2.0], "reflection_times": [0.5, 1.0], "n_networks": 2000},
}


def config(**changes):
    cfg = {"seed": 1, "prng": "philox4x32", "batch_elements": 2**22, "sampling_dtype": "float32",
           "fieldtheory": copy.deepcopy(SECTION)}
    for path, value in changes.items():
        node = cfg["fieldtheory"]
        *parents, leaf = path.split("__")
        for p in parents:
            node = node[p]
        node[leaf] = value
    return cfg


def test_settings_accept_the_tiny_config_and_build_objects():
    cfg = config()
    settings.check(cfg)
    s = settings.sampling(cfg, "cluster", "phi4_networks")
    assert (s.seed, s.n_networks, s.n_blocks) == (1, 2000, 10)
    net = settings.net(cfg, 2, 5.0, 30)
    assert net == cosnet.CosNet(2, 1.0, 5.0, 30, "alpha0")
    np.testing.assert_array_equal(inputs.points([[1.0, 2.0]], 1), [[1.0]])
    np.testing.assert_array_equal(inputs.points([[1.0, 2.0]], 3), [[1.0, 2.0, 0.0]])


@pytest.mark.parametrize("changes,key", [
    ({"phi4__n_networks": 2005}, "fieldtheory.phi4.n_networks"),
    ({"action__n_sites": [5, 3]}, "fieldtheory.action.n_sites"),
    ({"cluster__plateau_from": 9.0}, "fieldtheory.cluster.plateau_from"),
    ({"cluster__phi4_box_half_width": 1.0}, "fieldtheory.cluster.phi4_box_half_width"),
])
def test_settings_errors_name_the_key(changes, key):
    with pytest.raises(ConfigError, match=key.replace(".", r"\.")):
        settings.check(config(**changes))


def test_sampling_rejects_uneven_blocks():
    with pytest.raises(ValueError, match="multiple of n_blocks"):
        Sampling(seed=0, n_networks=1001, n_blocks=10)


@pytest.mark.slow
def test_tiny_experiments_and_figures(tmp_path):
    s = Sampling(seed=1, n_networks=3000, n_blocks=15)
    out = [experiments.propagator_check(cosnet.CosNet(1, 1.0, 10.0, 10, p), [0.0, 0.5, 1.5, 4.0], s)
           for p in cosnet.PARAMETRISATIONS]
    prop = np.concatenate([o["propagator"]["z"] for o in out])
    assert np.abs(prop).max() < 4.5
    var = experiments.variance_ratios(
        pd.concat([o["variance"] for o in out], ignore_index=True), 1.0)
    rb = var[var["estimator"] == "rao_blackwell"]
    assert len(rb) == 2 and np.all(rb["ratio"] + 3 * rb["stderr"] < 1) and np.all(rb["exact"] < 1)
    fig = figures.cosnet_propagator(*(
        pd.concat([o[k] for o in out], ignore_index=True) for k in ("propagator", "connected4", "variance")))
    fig.savefig(tmp_path / "p.png")

    net = cosnet.CosNet(1, 1.0, 5.0, 20, "alpha0")
    table, ess = experiments.phi4_check(net, phi4.gauss_box(1, 1.0, 12), np.array([[-0.3], [0.0]]), [0.1, 1.0], s)
    assert set(table["quantity"]) == {"dG2", "dG4c"} and len(ess) == 3
    figures.phi4_first_order(table, ess, 0.1).savefig(tmp_path / "q.png")

    sep = np.array([0.0, 1.0, 4.0, 5.0])
    configs = locality.cluster_points(np.array([[0.0], [0.5], [0.0], [0.5]]), sep)
    parts = [experiments.cluster_cosnet(cosnet.CosNet(1, 1.0, 5.0, 10, "alpha0"), configs, sep, 4.0, s),
             experiments.cluster_gp(configs, sep, 4.0, 1.0, 5.0, s),
             experiments.cluster_phi4(net, phi4.gauss_box(1, 3.0, 40), 1.0, configs, sep, 4.0, s)]
    curves = pd.concat([p[0] for p in parts], ignore_index=True)
    plateaus = pd.concat([p[1] for p in parts], ignore_index=True)
    assert list(plateaus["case"]) == ["cosnet", "gaussian", "phi4"]
    cos = plateaus.iloc[0]
    assert abs(cos["z"]) < 4.5 and cos["measured"] > 5 * cos["stderr"]
    figures.cluster_decomposition(curves, plateaus).savefig(tmp_path / "c.png")
