"""The ``ntk`` config section's cross-key rules (docs/physics.md sec. 11), checked once before any job.

The JSON schema validates types, ranges and defaults; this adds what a schema cannot state (one
ensemble size per width, sizes that split into equal blocks, consistent input dimensions) and
raises ``ConfigError`` naming the key. The scripts read the sizes and step counts through the same
helpers, so the rule is stated once.
"""

from __future__ import annotations

import numpy as np

from nnqft.settings import ConfigError, check_architecture, check_blocks, check_h_alone, input_points

SECTION = "ntk"


def networks_per_width(widths, n_networks, n_blocks: int, key: str = SECTION) -> list[int]:
    """The ensemble size of each width of ``key`` (``ntk`` or ``ntk.training``): one per width, each a
    multiple of the section's n_blocks (wide deep networks cost ~ L n^2 each, so sizes differ)."""
    if len(n_networks) != len(widths):
        raise ConfigError(f"config key '{key}.n_networks': {len(n_networks)} entries for {len(widths)} widths "
                          f"{list(widths)} ({key}.widths); give one ensemble size per width")
    for i, n in enumerate(n_networks):
        check_blocks(f"{key}.n_networks[{i}]", n, f"{key}.n_blocks", n_blocks)
    return [int(n) for n in n_networks]


def recorded_steps(steps) -> tuple[int, ...]:
    """The recorded step counts, increasing and positive (they cut the training into segments)."""
    out = tuple(int(t) for t in steps)
    if not out or out[0] < 1 or any(b <= a for a, b in zip(out, out[1:])):
        raise ConfigError(f"config key '{SECTION}.training.steps': {list(steps)} must be positive and increasing")
    return out


def check(config: dict) -> None:
    """Cross-key rules of the section; raises ConfigError with the offending key."""
    s = config[SECTION]
    for name in s["activations"]:
        check_architecture(config, name, f"{SECTION}.activations")
        check_h_alone(name, f"{SECTION}.activations")
    input_points(s["inputs"], f"{SECTION}.inputs")
    networks_per_width(s["widths"], s["n_networks"], s["n_blocks"])
    tr = s["training"]
    check_h_alone(tr["activation"], f"{SECTION}.training.activation")
    networks_per_width(tr["widths"], tr["n_networks"], tr["n_blocks"], f"{SECTION}.training")
    recorded_steps(tr["steps"])
    x_train = input_points(tr["x_train"], f"{SECTION}.training.x_train")
    x_test = input_points(tr["x_test"], f"{SECTION}.training.x_test")
    if len(tr["y_train"]) != len(x_train):
        raise ConfigError(f"config key '{SECTION}.training.y_train': {len(tr['y_train'])} targets for "
                          f"{len(x_train)} inputs ({SECTION}.training.x_train)")
    if x_test.shape[1] != x_train.shape[1]:
        raise ConfigError(f"config key '{SECTION}.training.x_test': points in d_in = {x_test.shape[1]}, the "
                          f"training inputs in d_in = {x_train.shape[1]}")
    if len(np.unique(x_train, axis=0)) < len(x_train):
        raise ConfigError(f"config key '{SECTION}.training.x_train': repeated inputs make Theta(X, X) singular")
