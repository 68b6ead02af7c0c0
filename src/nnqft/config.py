"""Configuration: validation against the JSON schema (filling defaults) and typed views.

The Snakefile calls ``validate`` once, before any job is scheduled; library functions never
see the config dict, only the plain values these helpers extract.
"""

from __future__ import annotations

from pathlib import Path

import jsonschema
import yaml

from nnqft.blocks import Sampling
from nnqft.networks import ACTIVATIONS, NetworkSpec

SCHEMA_PATH = Path(__file__).resolve().parents[2] / "workflow" / "schemas" / "config.schema.yaml"


class ConfigError(ValueError):
    """A config value that is missing, unknown or out of range; the message names the key."""


def _with_defaults(validator_class):
    """A validator that also fills ``default`` values of the schema into the instance."""
    validate_properties = validator_class.VALIDATORS["properties"]

    def set_defaults(validator, properties, instance, schema):
        if isinstance(instance, dict):
            for name, sub in properties.items():
                if "default" in sub:
                    instance.setdefault(name, sub["default"])
        yield from validate_properties(validator, properties, instance, schema)

    return jsonschema.validators.extend(validator_class, {"properties": set_defaults})


def _key_path(error: jsonschema.ValidationError) -> str:
    path = ""
    for part in error.absolute_path:
        path += f"[{part}]" if isinstance(part, int) else (f".{part}" if path else str(part))
    return path or "<top level>"


def validate(config: dict, schema_path: Path = SCHEMA_PATH) -> dict:
    """Validate ``config`` in place (defaults filled) and check the cross-key rules.

    Raises ConfigError naming the offending key and value.
    """
    schema = yaml.safe_load(Path(schema_path).read_text())
    validator = _with_defaults(jsonschema.Draft7Validator)(schema)
    errors = sorted(validator.iter_errors(config), key=lambda e: list(e.absolute_path))
    if errors:
        lines = [f"config key '{_key_path(e)}': {e.message}" for e in errors]
        raise ConfigError("invalid configuration:\n  " + "\n  ".join(lines))
    _check_cross_keys(config)
    _check_eft(config)
    # Imported here: the stage settings import ConfigError from this module.
    from nnqft.fieldtheory import settings as fieldtheory_settings
    from nnqft.symmetry import settings as symmetry_settings

    fieldtheory_settings.check(config)
    symmetry_settings.check(config)
    return config


def _check_cross_keys(config: dict) -> None:
    dev = config["deviation"]
    if dev["n_networks"] % dev["n_blocks"]:
        raise ConfigError(
            f"config key 'deviation.n_networks': {dev['n_networks']} is not a multiple of "
            f"deviation.n_blocks = {dev['n_blocks']}"
        )
    if dev["n_blocks"] % dev["background_chunks"]:
        raise ConfigError(
            f"config key 'deviation.background_chunks': {dev['background_chunks']} does not divide "
            f"deviation.n_blocks = {dev['n_blocks']}"
        )
    if dev["shards"] > dev["n_blocks"]:
        raise ConfigError(
            f"config key 'deviation.shards': {dev['shards']} shards for only {dev['n_blocks']} blocks"
        )
    ind = config["independence"]
    if ind["n_networks"] % ind["n_blocks"]:
        raise ConfigError(
            f"config key 'independence.n_networks': {ind['n_networks']} is not a multiple of "
            f"independence.n_blocks = {ind['n_blocks']}"
        )
    if ind["activation"] not in config["architectures"]:
        raise ConfigError(f"config key 'architectures.{ind['activation']}' is missing (used by independence.activation)")
    for name in dev["activations"]:
        if name not in config["architectures"]:
            raise ConfigError(f"config key 'architectures.{name}' is missing (used by deviation.activations)")
        if name not in ACTIVATIONS:  # schema and registry must agree
            raise ConfigError(f"config key 'deviation.activations': unknown activation {name!r}")


def _check_eft(config: dict) -> None:
    eft, dev = config["eft"], config["deviation"]
    if eft["n_networks"] % eft["n_blocks"]:
        raise ConfigError(
            f"config key 'eft.n_networks': {eft['n_networks']} is not a multiple of eft.n_blocks = {eft['n_blocks']}"
        )
    for name in eft["activations"]:
        if name not in config["architectures"]:
            raise ConfigError(f"config key 'architectures.{name}' is missing (used by eft.activations)")
        for key in ("widths", "cutoffs"):
            if name not in eft[key]:
                raise ConfigError(f"config key 'eft.{key}.{name}' is missing (used by eft.activations)")
    rg = eft["rg"]
    for name in rg["activations"]:
        if name not in dev["activations"]:
            raise ConfigError(
                f"config key 'eft.rg.activations': {name!r} has no width sweep (deviation.activations = {dev['activations']})"
            )
        if name not in rg["widths"]:
            raise ConfigError(f"config key 'eft.rg.widths.{name}' is missing (used by eft.rg.activations)")
        if rg["widths"][name] not in dev["widths"]:
            raise ConfigError(
                f"config key 'eft.rg.widths.{name}': {rg['widths'][name]} is not one of deviation.widths = {dev['widths']}"
            )
    from nnqft.rg import ASYMPTOTIC_TERMS  # here, not at the top: only this check needs the fitting stack

    asymptotic = [c for c in rg["cutoffs"] if c >= rg["asymptotic_min_cutoff"]]
    if len(asymptotic) < len(ASYMPTOTIC_TERMS):
        raise ConfigError(
            f"config key 'eft.rg.asymptotic_min_cutoff': {rg['asymptotic_min_cutoff']} leaves {len(asymptotic)} of "
            f"eft.rg.cutoffs at or above it; the asymptotic fit needs {len(ASYMPTOTIC_TERMS)}"
        )


def load(path) -> dict:
    """Read and validate a YAML config file."""
    return validate(yaml.safe_load(Path(path).read_text()) or {})


def network_spec(config: dict, activation: str, d_in: int, d_out: int = 1) -> NetworkSpec:
    """The NetworkSpec of an activation as configured under ``architectures``."""
    arch = config["architectures"][activation]
    return NetworkSpec(activation, d_in, d_out, sw=float(arch["sw"]), sb=float(arch["sb"]))


def sampling(config: dict, n_networks: int, n_blocks: int) -> Sampling:
    """An ensemble of n_networks in n_blocks, with the top-level seed, memory budget, PRNG and dtype."""
    return Sampling(seed=int(config["seed"]), n_networks=int(n_networks), n_blocks=int(n_blocks),
                    batch_elements=int(config["batch_elements"]), prng=config["prng"], dtype=config["sampling_dtype"])
