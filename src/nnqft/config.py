"""Configuration: validation against the JSON schema (filling defaults) and typed views.

The Snakefile calls ``validate`` once, before any job is scheduled; library functions never
see the config dict, only the plain values these helpers extract.
"""

from __future__ import annotations

import copy
import json
import math
import os
import warnings
from dataclasses import dataclass
from pathlib import Path

import jsonschema
import yaml

from nnqft import activations, deep_settings, ntk_settings
from nnqft.fieldtheory import aho_settings
from nnqft.fieldtheory import settings as fieldtheory_settings
from nnqft.networks import ACTIVATIONS, NetworkSpec
from nnqft.settings import ConfigError, check_architecture, check_blocks
from nnqft.symmetry import settings as symmetry_settings

SCHEMA_PATH = Path(__file__).resolve().parents[2] / "workflow" / "schemas" / "config.schema.yaml"

# libyaml's parser where PyYAML has it (the same documents, a tenth of the pure-Python parser's time):
# the schema is read at every workflow start.
_YAML_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def _read_yaml(text: str):
    return yaml.load(text, Loader=_YAML_LOADER)


# Seeds must fit the PRNG: with jax_enable_x64 (nnqft enables it) ``jax.random.key(seed, impl)``
# takes a signed 64-bit integer for every implementation (philox4x32, threefry2x32, threefry4x32,
# rbg, unsafe_rbg) and raises OverflowError from 2**63 on (tests/test_config.py checks this).
SEED_MAX = 2**63 - 1
# Every integer of the config becomes a numpy/JAX int64 somewhere (widths, counts, seeds).
INT64_MAX = 2**63 - 1


class ConfigWarning(UserWarning):
    """A valid config that is very likely beyond this machine (time or memory); names the key."""


def _strict_integer(checker, instance) -> bool:
    """JSON Schema draft 6+ counts 2.0 as an integer; the workflow does not (JAX crashes on it)."""
    return isinstance(instance, int) and not isinstance(instance, bool)


def _finite_type(base_type):
    """The ``type`` keyword, plus: every number is finite (NaN never; +-inf only where the schema
    says ``allowInfinite: true``), every integer is a Python int within int64, and a float given for
    an integer key is named as such."""

    def check(validator, types, instance, schema):
        errors = list(base_type(validator, types, instance, schema))
        wanted = [types] if isinstance(types, str) else list(types)
        if errors:
            if "integer" in wanted and isinstance(instance, float):
                hint = (f" (write {int(instance)}, without a decimal point or exponent)"
                        if math.isfinite(instance) and instance.is_integer() else "")
                yield jsonschema.ValidationError(f"{instance!r} is a float, not an integer{hint}")
            else:
                yield from errors
            return
        if isinstance(instance, float) and not math.isfinite(instance):
            if math.isnan(instance):
                yield jsonschema.ValidationError(f"{instance!r} is not a number (NaN); a finite number is required")
            elif not schema.get("allowInfinite", False):
                yield jsonschema.ValidationError(f"{instance!r} is not finite; a finite number is required here")
        if _strict_integer(None, instance) and "integer" in wanted and abs(instance) > INT64_MAX:
            yield jsonschema.ValidationError(f"{instance!r} does not fit a 64-bit integer (|value| <= 2**63 - 1)")

    return check


def _with_defaults(validator_class):
    """A validator that also fills ``default`` values of the schema into the instance, and whose
    numbers are finite and integers strict (see ``_finite_type``)."""
    validate_properties = validator_class.VALIDATORS["properties"]

    def set_defaults(validator, properties, instance, schema):
        if isinstance(instance, dict):
            for name, sub in properties.items():
                if "default" in sub:
                    instance.setdefault(name, copy.deepcopy(sub["default"]))
        yield from validate_properties(validator, properties, instance, schema)

    type_checker = validator_class.TYPE_CHECKER.redefine("integer", _strict_integer)
    return jsonschema.validators.extend(
        validator_class,
        {"properties": set_defaults, "type": _finite_type(validator_class.VALIDATORS["type"])},
        type_checker=type_checker,
    )


def _key_path(error: jsonschema.ValidationError) -> str:
    path = ""
    for part in error.absolute_path:
        path += f"[{part}]" if isinstance(part, int) else (f".{part}" if path else str(part))
    return path or "<top level>"


def _error_line(error: jsonschema.ValidationError) -> str:
    path = _key_path(error)
    if error.validator == "required" and isinstance(error.instance, dict):
        missing = [name for name in error.validator_value if name not in error.instance]
        if missing:
            key = missing[0] if path == "<top level>" else f"{path}.{missing[0]}"
            return f"config key '{key}' is missing: {error.message}"
    return f"config key '{path}': {error.message}"


def _nonfinite_anywhere(node, path=""):
    """Key paths of NaN or infinite numbers anywhere in the config (a net under the schema)."""
    if isinstance(node, dict):
        for k, v in node.items():
            yield from _nonfinite_anywhere(v, f"{path}.{k}" if path else str(k))
    elif isinstance(node, (list, tuple)):
        for i, v in enumerate(node):
            yield from _nonfinite_anywhere(v, f"{path}[{i}]")
    elif isinstance(node, float) and not math.isfinite(node):
        yield path, node


def registry_enums() -> dict[str, list[str]]:
    """The activation enums of the schema, from the registry: a new activation is one registry entry.

    The schema writes ``enum: ACTIVATIONS`` (every entry), ``BOX_INTEGRAL_ACTIVATIONS`` (those with
    Feynman box integrals: the EFT stages) or ``TRANSLATION_INVARIANT_ACTIVATIONS``.
    """
    return {"ACTIVATIONS": list(ACTIVATIONS), "BOX_INTEGRAL_ACTIVATIONS": activations.with_box_integrals(),
            "TRANSLATION_INVARIANT_ACTIVATIONS": [n for n, a in ACTIVATIONS.items() if a.translation_invariant]}


def load_schema(schema_path: Path = SCHEMA_PATH) -> dict:
    """The JSON schema of the config with the registry's activation enums filled in."""
    enums = registry_enums()

    def fill(node):
        if isinstance(node, dict):
            return {k: (enums[v] if k == "enum" and isinstance(v, str) else fill(v)) for k, v in node.items()}
        return [fill(v) for v in node] if isinstance(node, list) else node

    return fill(_read_yaml(Path(schema_path).read_text()))


def validate(config: dict, schema_path: Path = SCHEMA_PATH) -> dict:
    """Validate ``config`` in place (defaults filled) and check the cross-key rules.

    Raises ConfigError naming the offending key and value.
    """
    schema = load_schema(schema_path)
    validator = _with_defaults(jsonschema.Draft7Validator)(schema)
    errors = sorted(validator.iter_errors(config), key=lambda e: [str(p) for p in e.absolute_path])
    if errors:
        lines = [_error_line(e) for e in errors]
        raise ConfigError("invalid configuration:\n  " + "\n  ".join(lines))
    # NaN is never valid; the schema's type rule catches it where a number is typed, this anywhere.
    nan = [(k, v) for k, v in _nonfinite_anywhere(config) if math.isnan(v)]
    if nan:
        raise ConfigError("invalid configuration:\n  " + "\n  ".join(f"config key '{k}': {v!r} is not a number"
                                                                       for k, v in nan))
    _check_cross_keys(config)
    _check_eft(config)
    fieldtheory_settings.check(config)
    symmetry_settings.check(config)
    aho_settings.check(config)
    deep_settings.check(config)
    ntk_settings.check(config)
    warn_if_heavy(config)
    return config


def _check_cross_keys(config: dict) -> None:
    dev = config["deviation"]
    check_blocks("deviation.n_networks", dev["n_networks"], "deviation.n_blocks", dev["n_blocks"])
    if dev["n_blocks"] % dev["background_chunks"]:
        raise ConfigError(
            f"config key 'deviation.background_chunks': {dev['background_chunks']} does not divide "
            f"deviation.n_blocks = {dev['n_blocks']}"
        )
    if dev["shards"] > dev["n_blocks"]:
        raise ConfigError(
            f"config key 'deviation.shards': {dev['shards']} shards for only {dev['n_blocks']} blocks"
        )
    for name in dev["activations"]:
        for d_in in dev["d_in"]:
            nodes = activations.hermite_nodes(name, d_in)
            if nodes > activations.MAX_HERMITE_NODES:
                raise ConfigError(
                    f"config key 'deviation.d_in': {d_in} needs {nodes:.2e} Gauss-Hermite "
                    f"nodes for the exact moments of {name!r}, over the budget {activations.MAX_HERMITE_NODES:.2e}; "
                    f"drop {d_in} or {name!r} from deviation.activations"
                )
    ind = config["independence"]
    check_blocks("independence.n_networks", ind["n_networks"], "independence.n_blocks", ind["n_blocks"])
    check_architecture(config, ind["activation"], "independence.activation")
    for name in dev["activations"]:
        check_architecture(config, name, "deviation.activations")
        if name not in ACTIVATIONS:  # schema and registry must agree
            raise ConfigError(f"config key 'deviation.activations': unknown activation {name!r}")


def _check_eft(config: dict) -> None:
    eft, dev = config["eft"], config["deviation"]
    check_blocks("eft.n_networks", eft["n_networks"], "eft.n_blocks", eft["n_blocks"])
    for name in eft["activations"]:
        check_architecture(config, name, "eft.activations")
        for key in ("widths", "cutoffs"):
            if name not in eft[key]:
                raise ConfigError(f"config key 'eft.{key}.{name}' is missing (used by eft.activations)")
        cutoff = eft["cutoffs"][name]
        if math.isinf(cutoff):
            from nnqft import feynman  # the one rule of where the box integrals converge
            from nnqft.networks import NetworkSpec as Spec

            arch = config["architectures"][name]
            spec = Spec(name, 1, 1, sw=float(arch["sw"]), sb=float(arch["sb"]))
            if not math.isfinite(feynman.decay_radius(spec, [[0.0]], eft["propagator"])):
                raise ConfigError(
                    f"config key 'eft.cutoffs.{name}': {cutoff!r}: the Feynman-rule integrals diverge for "
                    f"activation {name!r} with eft.propagator = {eft['propagator']!r} "
                    f"(architectures.{name}.sb = {arch['sb']}); .inf is valid only for gauss with propagator "
                    f"'K-sb2' (or 'K' with sb = 0); give a finite cutoff such as 100.0")
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


# ---------------------------------------------------------------------------- user config files


def _read_config_file(path: Path) -> dict:
    """A config file as Snakemake reads it: JSON if it parses as JSON, else YAML."""
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigError(f"config file {path}: cannot be read ({exc})") from None
    try:
        data = json.loads(text)
    except ValueError:
        try:
            data = _read_yaml(text)
        except yaml.YAMLError as exc:
            raise ConfigError(f"config file {path}: not valid YAML or JSON ({exc})") from None
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise ConfigError(f"config file {path}: the top level must be a mapping of config keys, "
                          f"got {type(data).__name__}")
    return data


def _merge(base: dict, update: dict) -> dict:
    """Recursive update, as Snakemake merges config files (nested mappings merge, the rest replaces)."""
    for key, value in update.items():
        if isinstance(value, dict) and isinstance(base.get(key), dict):
            _merge(base[key], value)
        else:
            base[key] = copy.deepcopy(value)
    return base


def validate_user_configfiles(paths, overrides=None) -> dict | None:
    """Validate the config files given with ``--configfile`` on their own, before Snakemake's merge.

    Snakemake merges the user's files over the Snakefile's ``configfile:`` (config/config.yaml),
    key by key, so a user file that lacks ``seed`` or ``deviation`` would silently run with the
    defaults of config/config.yaml. Here the user's files (merged with each other in the order
    given, then with the ``--config`` ``overrides`` if any) must form a complete, valid config by
    themselves: required keys are required. Returns the validated copy (None when no file was
    given); raises ConfigError naming the file(s) and the key.
    """
    paths = [Path(p) for p in (paths or [])]
    if not paths:
        return None
    merged: dict = {}
    for path in paths:
        _merge(merged, _read_config_file(path))
    if overrides:
        _merge(merged, copy.deepcopy(dict(overrides)))
    names = ("config file " if len(paths) == 1 else "config files ") + ", ".join(str(p) for p in paths)
    if overrides:
        names += " with --config " + " ".join(f"{k}=..." for k in overrides)
    try:
        return validate(merged)
    except ConfigError as exc:
        raise ConfigError(
            f"{names}: {exc}\n(--configfile files are checked on their own, before Snakemake merges them over "
            f"the workflow's config/config.yaml, where a missing key would silently take its default)"
        ) from None


# ---------------------------------------------------------------------------- cost estimates

# Ensemble throughput of this project's 2-core CPU: README "make bench", Erf-net width 20, P1's
# six inputs, orders 2, 4, 6, float32 sampling: 1.46e5 networks/s, i.e. networks x width x points
# per second. Estimates use max(width, 20): below width 20 the per-network moment sums dominate.
NEURON_EVALS_PER_S = 1.46e5 * 20 * 6
MIN_COST_WIDTH = 20
# Warn (ConfigWarning) beyond this many seconds of one stage's ensembles on that machine.
WARN_SECONDS = 24 * 3600.0
BYTES_PER_ELEMENT = 8  # float64 moment sums and intermediates of one vectorised call


@dataclass(frozen=True)
class CostEstimate:
    """Rough time and peak memory of one config section's ensembles at NEURON_EVALS_PER_S."""

    key: str  # the config key that sets the size (named in the warning)
    value: int
    seconds: float
    peak_bytes: float
    widths_key: str = ""  # the config key of the widths (a network wider than the batch budget sets the memory)
    max_width: int = 0
    one_network_bytes: float = 0.0


def _physical_memory() -> float:
    try:
        return float(os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES"))
    except (ValueError, OSError, AttributeError):
        return math.inf


def _cost(key, n_networks, widths, points, batch_elements, repeats=1, widths_key="") -> CostEstimate:
    """n_networks networks at each width, ``repeats`` times, on ``points`` inputs."""
    evals = float(n_networks) * float(repeats) * sum(max(w, MIN_COST_WIDTH) for w in widths) * points
    # One vectorised call holds batch_elements elements, or a single network if that is larger:
    # its parameters (~width x (d_in + 3)) and hidden layer (2 x width x points).
    one_network = max(widths) * (2 * points + 6)
    return CostEstimate(key, int(n_networks), evals / NEURON_EVALS_PER_S,
                        float(max(batch_elements, one_network)) * BYTES_PER_ELEMENT,
                        widths_key, int(max(widths)), float(one_network) * BYTES_PER_ELEMENT)


def estimate_costs(config: dict) -> list[CostEstimate]:
    """Time and memory estimates of the width-sweep, independence and EFT ensembles, and a
    generic lower bound (6 inputs, one repeat) for every other ``n_networks`` key with widths
    beside it. Takes a validated config."""
    from nnqft import inputs  # the input sets decide the point counts

    batch = config["batch_elements"]
    out = []
    dev = config["deviation"]
    points = sum(len(inputs.paper_inputs(a, d)) for a in dev["activations"] for d in dev["d_in"])
    out.append(_cost("deviation.n_networks", dev["n_networks"], dev["widths"], points, batch,
                     widths_key="deviation.widths"))
    ind = config["independence"]
    out.append(_cost("independence.n_networks", ind["n_networks"], ind["widths"],
                     len(inputs.paper_inputs(ind["activation"], ind["d_in"])), batch, repeats=len(ind["eps"]),
                     widths_key="independence.widths"))
    eft = config["eft"]
    if eft.get("activations"):
        widths = [eft["widths"][a] for a in eft["activations"]]
        out.append(_cost("eft.n_networks", eft["n_networks"], widths, 6, batch, repeats=2 + eft["replicates"],
                         widths_key="eft.widths"))

    def walk(node, path):
        if not isinstance(node, dict):
            return
        for key, value in node.items():
            if key in ("n_networks", "phi4_networks") and isinstance(value, int):
                name = "phi4_widths" if key == "phi4_networks" else "widths" if "widths" in node else "width"
                widths = node.get(name)
                widths = widths if isinstance(widths, list) else [widths] if isinstance(widths, int) else []
                if widths:
                    out.append(_cost(f"{path}.{key}", value, widths, 6, batch, widths_key=f"{path}.{name}"))
            walk(value, f"{path}.{key}")

    for section in ("fieldtheory", "symmetry"):
        walk(config.get(section, {}), section)
    return out


def _human_time(seconds: float) -> str:
    for unit, size in (("years", 3.156e7), ("days", 86400.0), ("h", 3600.0), ("min", 60.0)):
        if seconds >= size:
            return f"{seconds / size:.3g} {unit}"
    return f"{seconds:.3g} s"


def warn_if_heavy(config: dict, *, max_seconds: float = WARN_SECONDS, memory_bytes: float | None = None) -> list[str]:
    """Warn (ConfigWarning, not an error) for every ensemble far beyond this machine: estimated time
    above ``max_seconds`` at NEURON_EVALS_PER_S, or peak memory above the physical memory.
    Returns the messages (empty when everything fits)."""
    memory = _physical_memory() if memory_bytes is None else memory_bytes
    messages = []
    batch_bytes = float(config["batch_elements"]) * BYTES_PER_ELEMENT
    if batch_bytes > memory:
        messages.append(f"config key 'batch_elements': {config['batch_elements']} elements need "
                        f"{batch_bytes / 2**30:.3g} GiB per vectorised call, this machine has {memory / 2**30:.3g} GiB; "
                        f"reduce it")
    for c in estimate_costs(config):
        if c.seconds > max_seconds:
            messages.append(
                f"config key '{c.key}': {c.value} networks take an estimated {_human_time(c.seconds)} at "
                f"{NEURON_EVALS_PER_S:.3g} networks x width x inputs per second (the 2-core CPU rate of "
                f"nnqft.config.NEURON_EVALS_PER_S); reduce it, or run on a GPU or cluster")
        if c.one_network_bytes > max(memory, batch_bytes):
            messages.append(
                f"config key '{c.widths_key}': one network of width {c.max_width} needs "
                f"{c.one_network_bytes / 2**30:.3g} GiB (its parameters and hidden layer), this machine has "
                f"{memory / 2**30:.3g} GiB")
    for message in messages:
        warnings.warn(message, ConfigWarning, stacklevel=2)
    return messages


def load(path) -> dict:
    """Read and validate a YAML config file."""
    return validate(_read_yaml(Path(path).read_text()) or {})
