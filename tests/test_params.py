"""The settings channel: every config key reaches the jobs that read it as params, and every library
edit reaches the jobs that import it (nnqft.params)."""

import re
import shutil
from pathlib import Path

import pytest
import yaml

from nnqft import config, params
from nnqft.activations import ACTIVATIONS

ROOT = Path(__file__).resolve().parents[1]
SCRIPTS = ROOT / "workflow" / "scripts"
RULES = ROOT / "workflow" / "rules"


def schema_leaves(schema: dict, prefix: str = "") -> list[str]:
    """Dotted paths of every configurable value of the schema (objects are walked, the rest are leaves)."""
    if "properties" in schema:
        return [leaf for name, sub in schema["properties"].items()
                for leaf in schema_leaves(sub, f"{prefix}{name}.")]
    names = schema.get("propertyNames", {}).get("enum")
    if names and isinstance(schema.get("additionalProperties"), dict):  # a mapping keyed by, e.g., activation
        return [leaf for name in names for leaf in schema_leaves(schema["additionalProperties"], f"{prefix}{name}.")]
    return [prefix.rstrip(".")]


def wildcard_values(cfg: dict) -> dict:
    return {"activation": list(ACTIVATIONS),
            "part": ["output_rotation", "input_rotation", "translation"],
            "d_in": ["1"], "shard": ["0"], "split": ["train"], "point": list(cfg["deep"]["points"])}


def covered_paths(cfg: dict) -> set[str]:
    """Every config path some rule reads, over every value of its wildcards."""
    paths = set()
    for rule, templates in params.RULE_KEYS.items():
        for template in templates:
            names = re.findall(r"{(\w+)}", template)
            values = wildcard_values(cfg)
            options = [template]
            for name in names:
                options = [o.replace("{" + name + "}", v) for o in options for v in values[name]]
            for option in options:
                try:
                    paths.update(params._expand(option.removesuffix("?"), cfg, {}))
                except KeyError:  # an optional key this wildcard value does not have
                    assert option.endswith("?"), option
    return paths


def test_every_schema_key_reaches_a_job_or_shapes_the_dag():
    schema = config.load_schema()
    cfg = config.load(ROOT / "config" / "config.yaml")
    covered = covered_paths(cfg) | set(params.STRUCTURE_KEYS)
    # A mapping with free names (deep.points) is a schema leaf whose entries are read one per job.
    unread = [leaf for leaf in schema_leaves(schema)
              if not any(leaf == p or leaf.startswith(p + ".") or p.startswith(leaf + ".") for p in covered)]
    assert not unread, f"config keys no rule passes to its job (edits would not rerun anything): {unread}"


def test_settings_hold_exactly_the_declared_keys_with_wildcards_filled():
    cfg = config.load(ROOT / "config" / "ci.yaml")
    got = params.settings(cfg, "ensemble_shard", {"activation": "relu", "d_in": "1", "shard": "0"})
    assert got["architectures"] == {"relu": cfg["architectures"]["relu"]}  # not erf's or gauss's scales
    assert got["deviation"] == {k: cfg["deviation"][k] for k in ("widths", "n_networks", "n_blocks", "shards")}
    assert set(got) == {"seed", "prng", "sampling_dtype", "batch_elements", "deviation", "architectures"}
    # A config path in braces resolves through the config (the independence stage's activation).
    ind = params.settings(cfg, "broken_independence")
    assert set(ind["architectures"]) == {cfg["independence"]["activation"]}
    assert params.settings(cfg, "deviation_tables") == {}


def test_a_deep_point_job_reads_its_own_point_only():
    cfg = config.load(ROOT / "config" / "config.yaml")
    points = cfg["deep"]["points"]
    assert len(points) >= 2
    first, other = list(points)[:2]
    before = params.settings(cfg, "deep_point", {"point": first})
    assert before["deep"]["points"] == {first: points[first]}
    points[other] = dict(points[other], c_w=points[other]["c_w"] * 1.5)  # edit another point
    assert params.settings(cfg, "deep_point", {"point": first}) == before
    assert params.settings(cfg, "deep_point", {"point": other})["deep"]["points"][other]["c_w"] == points[other]["c_w"]
    points[first] = dict(points[first], input_set="random_d3")  # edit the job's own point
    assert params.settings(cfg, "deep_point", {"point": first}) != before


def test_nested_templates_and_list_values_name_exactly_the_networks_a_suite_uses():
    cfg = config.load(ROOT / "config" / "config.yaml")
    sym = cfg["symmetry"]
    sym["output_rotation"]["activation"], sym["translation"]["activation"] = "relu", "erf"
    sym["input_rotation"]["activations"] = ["erf", "relu"]
    suites = {part: set(params.settings(cfg, "symmetry_invariance", {"part": part})["architectures"])
              for part in ("output_rotation", "input_rotation", "translation")}
    assert suites == {"output_rotation": {"relu"}, "input_rotation": {"erf", "relu"}, "translation": {"erf"}}
    assert set(params.settings(cfg, "symmetry_power")["architectures"]) == {"relu", sym["power"]["activation"]}


@pytest.mark.parametrize("name", ["config.yaml", "ci.yaml", "paper.yaml", "activations.yaml"])
def test_every_rule_finds_its_keys_in_every_shipped_config(name):
    cfg = config.load(ROOT / "config" / name)
    wildcards = {"d_in": "1", "shard": "0", "split": "train", "part": "translation",
                 "point": next(iter(cfg["deep"]["points"]))}
    for rule in params.RULE_KEYS:
        stage = cfg["eft"] if rule.startswith("eft") else cfg["deviation"]  # the stage that makes the job
        assert params.settings(cfg, rule, dict(wildcards, activation=stage["activations"][0])), rule
    with pytest.raises(KeyError, match="neither a wildcard nor a config key"):
        params.settings(cfg, "ensemble_shard", {})


def test_scripts_read_the_config_only_through_their_params():
    offenders = [p.name for p in SCRIPTS.glob("*.py") if "snakemake.config" in p.read_text()]
    assert not offenders


def test_every_script_rule_passes_its_code_digest_and_declared_settings():
    text = "\n".join(p.read_text() for p in RULES.glob("*.smk"))
    for rule in re.split(r"\n(?=rule )", text)[1:]:
        name = rule.split(":")[0].removeprefix("rule ").strip()
        script = re.search(r'script:\s*"\.\./scripts/(\w+)\.py"', rule)
        if script is None:
            continue
        assert f'code=code_of("{script.group(1)}")' in rule, name
        settings = re.search(r'settings=settings_of\("(\w+)"\)', rule)
        if settings:
            assert settings.group(1) == name and name in params.RULE_KEYS, name
        else:
            assert name not in params.RULE_KEYS, f"{name} declares config keys but does not pass them"
    for rule in params.RULE_KEYS:
        assert f'settings=settings_of("{rule}")' in text, rule


def test_library_modules_follow_imports_transitively():
    mods = params.library_modules(str(SCRIPTS / "eft_fits.py"))
    # eft_fits imports eft, which imports ensemble, which imports networks and blocks.
    assert {"nnqft", "nnqft.eft", "nnqft.ensemble", "nnqft.networks", "nnqft.blocks", "nnqft.io"} <= set(mods)
    figures = params.library_modules(str(SCRIPTS / "deviation_figures.py"))
    assert "nnqft.plots" in figures and "nnqft.ensemble" not in figures


def test_code_digest_changes_with_an_imported_module_only(tmp_path, monkeypatch):
    package = tmp_path / "nnqft"
    shutil.copytree(params.PACKAGE_DIR, package, ignore=shutil.ignore_patterns("__pycache__"))
    monkeypatch.setattr(params, "PACKAGE_DIR", package)
    fits, figures = str(SCRIPTS / "eft_fits.py"), str(SCRIPTS / "deviation_figures.py")

    def digests():
        params.library_modules.cache_clear()
        params.code_digest.cache_clear()
        return params.code_digest(fits), params.code_digest(figures)

    before = digests()
    (package / "feynman.py").write_text((package / "feynman.py").read_text() + "\n# edited\n")
    after = digests()
    assert after[0] != before[0] and after[1] == before[1]
    params.library_modules.cache_clear()
    params.code_digest.cache_clear()


def test_settings_do_not_depend_on_the_order_of_keys_in_the_yaml():
    cfg = config.load(ROOT / "config" / "ci.yaml")
    shuffled = yaml.safe_load(yaml.safe_dump(cfg, sort_keys=True))
    for rule in ("broken_independence", "fieldtheory_phi4", "symmetry_invariance"):
        wc = {"part": "translation"}
        assert repr(params.settings(shuffled, rule, wc)) == repr(params.settings(cfg, rule, wc)), rule
