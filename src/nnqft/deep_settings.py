"""The ``deep`` config section's cross-key rules (docs/physics.md sec. 10), checked once before any job.

The JSON schema validates types, ranges and defaults; this adds what a schema cannot state and
raises ``ConfigError`` naming the key.
"""

from __future__ import annotations

from nnqft.settings import check_blocks, check_h_alone

SECTION = "deep"


def check(config: dict) -> None:
    """Equal blocks, and activations of z alone at every point; raises ConfigError with the offending key."""
    d = config[SECTION]
    check_blocks(f"{SECTION}.n_networks", d["n_networks"], f"{SECTION}.n_blocks", d["n_blocks"])
    for name, point in d["points"].items():
        check_h_alone(point["activation"], f"{SECTION}.points.{name}.activation")
