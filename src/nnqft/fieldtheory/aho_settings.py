"""The ``aho`` config section, checked once and turned into plain typed values (docs/physics.md sec. 12).

The JSON schema validates types, ranges and defaults; this adds the cross-key rules a schema cannot
state and raises ``ConfigError`` naming the key. Scripts call these helpers; the library never sees
the config dict.
"""

from __future__ import annotations

import numpy as np

from nnqft.settings import ConfigError
from nnqft.fieldtheory import aho_experiments, hmc, lattice

SECTION = "aho"


def observables(config: dict) -> aho_experiments.Observables:
    a = config[SECTION]
    obs = aho_experiments.Observables(tuple(float(s) for s in a["separations"]),
                                      tuple(tuple(float(t) for t in q) for q in a["four_point"]),
                                      tuple(float(s) for s in a["gap_separations"]))
    try:
        obs.check()
    except ValueError as exc:
        raise ConfigError(f"config keys '{SECTION}.gap_separations' / '{SECTION}.four_point': {exc}") from exc
    return obs


def chains(config: dict) -> hmc.ChainSettings:
    c = config[SECTION]["chains"]
    settings = hmc.ChainSettings(int(c["n_chains"]), int(c["n_warmup"]), int(c["n_samples"]), int(c["n_steps"]),
                                 float(c["step_size"]), float(c["target_acceptance"]), int(c["blocks_per_chain"]))
    try:
        settings.check()
    except ValueError as exc:
        raise ConfigError(f"config key '{SECTION}.chains': {exc}") from exc
    return settings


def check(config: dict) -> None:
    """Cross-key rules: every measured time inside every box and on every lattice; the network box
    among the boxes."""
    a = config[SECTION]
    times = observables(config).times
    chains(config)
    for box in a["boxes"]:
        if np.max(np.abs(times)) > box / 2:
            raise ConfigError(f"config key '{SECTION}.boxes': box {box} does not contain the measured times "
                              f"(up to |t| = {np.max(np.abs(times)):g}); shorten '{SECTION}.separations' or widen the box")
        for spacing in a["lattice"]["spacings"]:
            try:
                lattice.site_index(lattice.Lattice(float(a["mass"]), float(spacing), float(box)), times)
            except ValueError as exc:
                raise ConfigError(f"config key '{SECTION}.lattice.spacings': {spacing}: {exc}") from exc
    if a["network"]["box"] not in a["boxes"]:
        raise ConfigError(f"config key '{SECTION}.network.box': {a['network']['box']} is not one of "
                          f"'{SECTION}.boxes' = {a['boxes']} (its exact values come from there)")
