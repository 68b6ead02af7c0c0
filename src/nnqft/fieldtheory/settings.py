"""The ``fieldtheory`` config section, checked once and turned into plain typed values.

The JSON schema validates types, ranges and defaults; this module adds the rules a schema
cannot state (multiples, matching list lengths) and raises ``ConfigError`` naming the key.
Library functions never see the config dict: scripts call these helpers and pass the results.
"""

from __future__ import annotations

from nnqft import settings as nnqft_settings
from nnqft.settings import ConfigError, check_blocks
from nnqft.fieldtheory import cosnet, phi4
from nnqft.blocks import Sampling

SECTION = "fieldtheory"
EXPERIMENTS = ("propagator", "phi4", "cluster", "action", "os")


def _key(*parts) -> str:
    return ".".join((SECTION,) + parts)


def check(config: dict) -> None:
    """Cross-key rules of the section; raises ConfigError with the offending key."""
    ft = config[SECTION]
    n_blocks = ft["n_blocks"]
    for part, count in [("propagator", "n_networks"), ("phi4", "n_networks"), ("cluster", "n_networks"),
                        ("cluster", "phi4_networks"), ("cluster", "gp_samples"), ("action", "n_networks"), ("os", "n_networks")]:
        check_blocks(_key(part, count), ft[part][count], _key("n_blocks"), n_blocks)
    act = ft["action"]
    if len(act["n_sites"]) != len(act["d"]):
        raise ConfigError(f"config key '{_key('action', 'n_sites')}': {act['n_sites']} needs one entry per "
                          f"dimension in {_key('action', 'd')} = {act['d']}")
    clu = ft["cluster"]
    if not any(s >= clu["plateau_from"] for s in clu["separations"]):
        raise ConfigError(f"config key '{_key('cluster', 'plateau_from')}': {clu['plateau_from']} exceeds every "
                          f"separation in {_key('cluster', 'separations')}")
    half = clu["phi4_box_half_width"]
    reach = max(clu["separations"]) / 2 + max(abs(x) for x in clu["base_points"])
    if reach > half:
        raise ConfigError(f"config key '{_key('cluster', 'phi4_box_half_width')}': {half} does not contain the "
                          f"cluster points (they reach {reach}); raise it or shorten {_key('cluster', 'separations')}")
    if any(t <= 0 for t in ft["os"]["reflection_times"]):
        raise ConfigError(f"config key '{_key('os', 'reflection_times')}': times must be > 0 (half-space)")


def sampling(config: dict, part: str, n_networks_key: str = "n_networks") -> Sampling:
    """The ensemble of one experiment: ``fieldtheory.<part>.<n_networks_key>`` networks."""
    ft = config[SECTION]
    return nnqft_settings.sampling(config, ft[part][n_networks_key], ft["n_blocks"])


def net(config: dict, d: int, cutoff: float, width: int, parametrisation: str | None = None) -> cosnet.CosNet:
    ft = config[SECTION]
    return cosnet.CosNet(d=int(d), mass=float(ft["mass"]), cutoff=float(cutoff), width=int(width),
                         parametrisation=parametrisation or ft["parametrisation"])


def phi4_box(config: dict, d: int) -> phi4.Quadrature:
    p = config[SECTION]["phi4"]
    return phi4.gauss_box(d, float(p["box_half_width"]), int(p["quadrature_nodes"]))
