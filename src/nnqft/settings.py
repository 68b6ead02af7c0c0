"""Typed values built from the part of the validated config a rule receives (``nnqft.params``).

Scripts turn their ``snakemake.params.settings`` into these objects and pass them to the library;
library functions never see a config dict. The stage sections have their own builders
(``nnqft.fieldtheory.settings``, ``nnqft.symmetry.settings``) on top of these.
"""

from __future__ import annotations

import numpy as np

from nnqft.activations import require_h_alone
from nnqft.blocks import Sampling
from nnqft.networks import NetworkSpec


class ConfigError(ValueError):
    """A config value that is missing, unknown or out of range; the message names the key."""


def check_blocks(key: str, n_networks: int, blocks_key: str, n_blocks: int) -> None:
    """An ensemble of ``n_networks`` (config key ``key``) must split into the ``n_blocks`` equal blocks of
    config key ``blocks_key`` (the blocks are the unit of the random streams and of the errors)."""
    if n_networks % n_blocks:
        raise ConfigError(f"config key '{key}': {n_networks} is not a multiple of {blocks_key} = {n_blocks}")


def check_architecture(config: dict, name: str, used_by: str) -> None:
    """The activation ``name`` that ``used_by`` names must have an ``architectures`` entry (its sw, sb)."""
    if name not in config["architectures"]:
        raise ConfigError(f"config key 'architectures.{name}' is missing (used by {used_by})")


def input_points(points, key: str) -> np.ndarray:
    """The input points of config key ``key`` as a (P, d_in) float64 array: every point of one dimension."""
    dims = sorted({len(p) for p in points})
    if len(dims) != 1:
        raise ConfigError(f"config key '{key}': points of different dimensions {dims}")
    return np.asarray(points, dtype=np.float64)


def check_h_alone(name: str, key: str) -> None:
    """``activations.require_h_alone`` for the activation chosen by config key ``key``."""
    try:
        require_h_alone(name, "deep networks and the NTK")
    except ValueError as exc:
        raise ConfigError(f"config key '{key}': {exc}") from None


def network_spec(config: dict, activation: str, d_in: int, d_out: int = 1) -> NetworkSpec:
    """The NetworkSpec of an activation as configured under ``architectures``."""
    arch = config["architectures"][activation]
    return NetworkSpec(activation, d_in, d_out, sw=float(arch["sw"]), sb=float(arch["sb"]))


def sampling(config: dict, n_networks: int, n_blocks: int) -> Sampling:
    """An ensemble of n_networks in n_blocks, with the top-level seed, memory budget, PRNG and dtype."""
    return Sampling(seed=int(config["seed"]), n_networks=int(n_networks), n_blocks=int(n_blocks),
                    batch_elements=int(config["batch_elements"]), prng=config["prng"], dtype=config["sampling_dtype"])
