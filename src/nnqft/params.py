"""The data channel from the config to the workflow's jobs: what each rule reads, and its code.

Snakemake reruns a job when its ``params`` change, not when a config key its script happens to
read changes, nor when a library module its script imports changes. So every rule gets exactly
two params, built here:

* ``settings``: the part of the validated config its script reads (``RULE_KEYS``), with the
  wildcards filled in, as a nested dict of the same shape as the config. Scripts read nothing
  else, so a key missing here fails loudly in the first run instead of going stale silently.
* ``code``: a digest of the source of every ``nnqft`` module the script imports, directly or
  through other modules, so an edit of the library reruns exactly the jobs that run it.

Pure Python, no JAX: the Snakefile imports it before any job is scheduled.
"""

from __future__ import annotations

import ast
import functools
import hashlib
import re
from pathlib import Path

PACKAGE_DIR = Path(__file__).resolve().parent

# Settings every ensemble job needs: the root of its random streams and how it samples.
SAMPLING = ("seed", "prng", "sampling_dtype", "batch_elements")

_DEVIATION_ENSEMBLE = ("deviation.widths", "deviation.n_networks", "deviation.n_blocks")
_EFT_ENSEMBLE = ("eft.widths.{activation}", "eft.train_factor", "eft.n_networks", "eft.n_blocks")
_FIELDTHEORY = ("fieldtheory.mass", "fieldtheory.parametrisation", "fieldtheory.n_blocks")
_SYMMETRY_ENSEMBLE = ("symmetry.widths", "symmetry.n_networks", "symmetry.n_blocks", "symmetry.n_transforms",
                      "symmetry.random_contrasts", "symmetry.detection_sigma", "symmetry.ks_alpha",
                      "symmetry.controls")
_AHO_OBSERVABLES = ("aho.mass", "aho.couplings", "aho.boxes", "aho.separations", "aho.four_point",
                    "aho.gap_separations")

# Dotted config paths each rule's script reads; "{name}" is filled from the job's wildcards, and a
# trailing "?" marks a key the script reads only where present (it has a default of its own).
# Rules absent here read no config: they are functions of their input files alone (theory computed
# downstream of an ensemble takes the network's parameter law from the dataset's attributes).
RULE_KEYS: dict[str, tuple[str, ...]] = {
    "ensemble_shard": SAMPLING + _DEVIATION_ENSEMBLE + ("deviation.shards", "architectures.{activation}"),
    "exact_correlators": ("deviation.widths", "architectures.{activation}"),
    "correlators": ("seed", "deviation.n_blocks", "deviation.background_chunks", "architectures.{activation}"),
    "broken_independence": SAMPLING + ("independence", "architectures.{independence.activation}"),
    "eft_ensemble": SAMPLING + _EFT_ENSEMBLE + ("architectures.{activation}",),
    "eft_vertices": ("eft.propagator", "eft.cutoffs.{activation}", "eft.train_factor", "architectures.{activation}"),
    "rg_running": ("eft.propagator", "eft.rg"),
    "fieldtheory_propagator": SAMPLING + _FIELDTHEORY + ("fieldtheory.propagator",),
    "fieldtheory_phi4": SAMPLING + _FIELDTHEORY + ("fieldtheory.phi4",),
    "fieldtheory_cluster": SAMPLING + _FIELDTHEORY + ("fieldtheory.cluster",),
    "fieldtheory_action": SAMPLING + _FIELDTHEORY + ("fieldtheory.action",),
    "fieldtheory_os": SAMPLING + _FIELDTHEORY + ("fieldtheory.os",),
    "fieldtheory_figures": ("fieldtheory.phi4.perturbative_max",),
    # A suite names its network(s) as "activation" (output_rotation, translation) or "activations"
    # (input_rotation): each suite has exactly one of the two keys.
    "symmetry_invariance": SAMPLING + _SYMMETRY_ENSEMBLE + ("symmetry.{part}",
                                                            "architectures.{symmetry.{part}.activation}?",
                                                            "architectures.{symmetry.{part}.activations}?"),
    "symmetry_power": SAMPLING + _SYMMETRY_ENSEMBLE + ("symmetry.power", "symmetry.output_rotation",
                                                       "symmetry.input_rotation",
                                                       "architectures.{symmetry.output_rotation.activation}",
                                                       "architectures.{symmetry.power.activation}"),
    "symmetry_training": ("seed", "prng", "symmetry.training", "architectures.relu?"),
    "symmetry_figures": ("symmetry.detection_sigma", "symmetry.ks_alpha"),
    "aho_exact": _AHO_OBSERVABLES + ("aho.exact_tolerance",),
    "aho_lattice": ("seed", "prng") + _AHO_OBSERVABLES + ("aho.chains", "aho.lattice"),
    "aho_network": ("seed", "prng") + _AHO_OBSERVABLES + ("aho.chains", "aho.network.box", "aho.network.widths",
                                                          "aho.network.cutoffs", "aho.network.extra_nodes",
                                                          "aho.network.reweighting_draws"),
}

# Deep networks at finite width (docs/physics.md sec. 10): each deep_point job reads only its own point,
# so an edit of one point reruns that point alone.
RULE_KEYS.update({
    "deep_point": SAMPLING + ("deep.points.{point}", "deep.depths", "deep.widths", "deep.n_networks", "deep.n_blocks"),
    "deep_tables": ("deep.breakdown_sigma",),
})

# The neural tangent kernel (docs/physics.md sec. 11): one ensemble job per (activation, depth).
RULE_KEYS.update({
    "ntk_ensemble": SAMPLING + ("ntk.inputs", "ntk.widths", "ntk.n_networks", "ntk.n_blocks",
                                "architectures.{activation}"),
    "ntk_training": SAMPLING + ("ntk.training",),
})

# Keys that decide which jobs exist (read by the rules' target functions, not by scripts): an edit
# adds or removes jobs and inputs, and Snakemake's input trigger reruns every consumer.
STRUCTURE_KEYS = ("deviation.activations", "deviation.d_in", "eft.activations", "eft.replicates",
                  "aho.network.parametrisations",
                  "ntk.activations", "ntk.depths")


_MISSING = object()


def _lookup(config: dict, path: str):
    """The config value at a dotted path, or _MISSING."""
    node = config
    for part in path.split("."):
        if not isinstance(node, dict) or part not in node:
            return _MISSING
        node = node[part]
    return node


def _expand(template: str, config: dict, wildcards: dict) -> list[str]:
    """The config paths a template names: each "{name}" is replaced by the wildcard of that name or
    the config value at that path, innermost first (so "{a.{part}.b}" works); a list value gives one
    path per element."""
    match = re.search(r"\{([^{}]*)\}", template)
    if match is None:
        return [template]
    name = match.group(1)
    value = wildcards[name] if name in wildcards else _lookup(config, name)
    if value is _MISSING:
        raise KeyError(f"{template!r}: {name!r} is neither a wildcard nor a config key")
    head, tail = template[: match.start()], template[match.end():]
    return [path for v in (value if isinstance(value, list) else [value])
            for path in _expand(f"{head}{v}{tail}", config, wildcards)]


def settings(config: dict, rule: str, wildcards: dict | None = None) -> dict:
    """The part of the validated ``config`` that ``rule`` reads, nested like the config.

    Validation fills every default, so a declared key missing here is a defect of ``RULE_KEYS``.
    """
    wildcards = dict(wildcards or {})
    out: dict = {}
    for template in RULE_KEYS.get(rule, ()):
        optional = template.endswith("?")
        try:
            paths = _expand(template.removesuffix("?"), config, wildcards)
        except KeyError:
            if optional:
                continue
            raise
        for path in paths:
            value = _lookup(config, path)
            if value is _MISSING and optional:
                continue
            if value is _MISSING:
                raise KeyError(f"rule {rule!r} reads config key {path!r} ({template!r}), which the config lacks")
            *parents, leaf = path.split(".")
            node = out
            for part in parents:
                node = node.setdefault(part, {})
            node[leaf] = value
    return _canonical(out)


def _canonical(value):
    """Mappings with sorted keys, recursively: the params Snakemake compares must not depend on the
    order of keys in the user's YAML."""
    if isinstance(value, dict):
        return {k: _canonical(value[k]) for k in sorted(value)}
    return [_canonical(v) for v in value] if isinstance(value, list) else value


def _module_path(name: str) -> Path | None:
    """The source file of an nnqft module (None for anything outside the package)."""
    if name != "nnqft" and not name.startswith("nnqft."):
        return None
    parts = name.split(".")[1:]
    base = PACKAGE_DIR.joinpath(*parts)
    for candidate in (base.with_suffix(".py"), base / "__init__.py"):
        if candidate.is_file():
            return candidate
    return None


@functools.lru_cache(maxsize=None)
def _import_names(source: str, package: str) -> frozenset[str]:
    """Names a source imports (``from nnqft import a`` gives nnqft and nnqft.a). Cached on the text:
    the Snakefile digests some 40 scripts whose imports share the same modules, and parsing each
    module once instead of once per script cuts the workflow's start-up by seconds."""
    found = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:  # relative import inside the package
                base = package.rsplit(".", node.level - 1)[0] if node.level > 1 else package
                module = f"{base}.{node.module}" if node.module else base
            else:
                module = node.module or ""
            found.add(module)
            found.update(f"{module}.{alias.name}" for alias in node.names)
    return frozenset(found)


def _imported_modules(source: str, package: str) -> set[str]:
    """Names of the nnqft modules a source imports."""
    return {name for name in _import_names(source, package) if _module_path(name) is not None}


@functools.lru_cache(maxsize=None)
def library_modules(script: str) -> tuple[str, ...]:
    """Every nnqft module a script imports, directly or through other nnqft modules, sorted."""
    seen: set[str] = set()
    todo = sorted(_imported_modules(Path(script).read_text(), "nnqft"))
    while todo:
        name = todo.pop()
        if name in seen:
            continue
        seen.add(name)
        path = _module_path(name)
        package = name if path.name == "__init__.py" else name.rpartition(".")[0]
        todo += sorted(_imported_modules(path.read_text(), package) - seen)
        # Importing nnqft.a.b runs nnqft/__init__.py and nnqft/a/__init__.py first.
        parent = name.rpartition(".")[0]
        if parent and parent not in seen:
            todo.append(parent)
    return tuple(sorted(seen))


@functools.lru_cache(maxsize=None)
def code_digest(script: str) -> str:
    """SHA-256 of the sources of the script's library modules: changes whenever one of them does."""
    digest = hashlib.sha256()
    for name in library_modules(script):
        digest.update(name.encode() + b"\0" + _module_path(name).read_bytes() + b"\0")
    return digest.hexdigest()[:16]
