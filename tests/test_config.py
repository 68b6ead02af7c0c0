import copy
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from nnqft import config, networks

ROOT = Path(__file__).resolve().parents[1]
GOOD = yaml.safe_load((ROOT / "config" / "ci.yaml").read_text())


@pytest.mark.parametrize("name", ["config.yaml", "ci.yaml", "paper.yaml"])
def test_shipped_configs_are_valid(name):
    cfg = config.load(ROOT / "config" / name)
    assert cfg["deviation"]["n_blocks"] % cfg["deviation"]["background_chunks"] == 0


def test_validation_fills_defaults():
    cfg = copy.deepcopy(GOOD)
    del cfg["prng"]
    del cfg["deviation"]["shards"]
    config.validate(cfg)
    assert cfg["prng"] == "philox4x32" and cfg["deviation"]["shards"] == 2


def mutate(fn):
    cfg = copy.deepcopy(GOOD)
    fn(cfg)
    return cfg


@pytest.mark.parametrize(
    "change, message",
    [
        (lambda c: c["deviation"]["activations"].append("softplus"), r"deviation\.activations\[3\]': 'softplus' is not one of"),
        (lambda c: c["deviation"]["widths"].__setitem__(1, -5), r"deviation\.widths\[1\]': -5 is less than the minimum of 1"),
        (lambda c: c.pop("seed"), r"'seed' is a required property"),
        (lambda c: c.__setitem__("seeed", 3), r"'seeed' was unexpected"),
        (lambda c: c["architectures"].__setitem__("softplus", {}), r"architectures'.*'softplus' is not one of"),
        (lambda c: c["deviation"].__setitem__("n_networks", 4001), r"deviation\.n_networks': 4001 is not a multiple"),
        (lambda c: c["deviation"].__setitem__("background_chunks", 3), r"deviation\.background_chunks': 3 does not divide"),
        (lambda c: c["fieldtheory"]["propagator"].__setitem__("n_networks", 2001),
         r"fieldtheory\.propagator\.n_networks': 2001 is not a multiple"),
        (lambda c: c["eft"].__setitem__("n_networks", 4001), r"eft\.n_networks': 4001 is not a multiple"),
        (lambda c: c["eft"]["rg"]["widths"].__setitem__("relu", 7), r"eft\.rg\.widths\.relu': 7 is not one of deviation\.widths"),
        (lambda c: c["eft"]["rg"].__setitem__("asymptotic_min_cutoff", 5e4),
         r"eft\.rg\.asymptotic_min_cutoff': 50000.0 leaves 1 of eft\.rg\.cutoffs at or above it; the asymptotic fit needs 5"),
        (lambda c: c["eft"].__setitem__("propagator", "K+sb2"), r"eft\.propagator': 'K\+sb2' is not one of"),
        (lambda c: c["eft"].__setitem__("cutoffs", {"erf": 0, "gauss": 1.0, "relu": 1.0}), r"eft\.cutoffs\.erf': 0 is less than or equal to the minimum"),
    ],
)
def test_bad_configs_name_the_key(change, message):
    with pytest.raises(config.ConfigError, match=message):
        config.validate(mutate(change))


def test_schema_activations_match_the_registry():
    schema = yaml.safe_load(config.SCHEMA_PATH.read_text())
    enum = schema["properties"]["architectures"]["propertyNames"]["enum"]
    assert sorted(enum) == sorted(networks.ACTIVATIONS)
    assert sorted(schema["properties"]["deviation"]["properties"]["activations"]["items"]["enum"]) == sorted(enum)


def test_snakemake_refuses_a_bad_config_before_any_job(tmp_path):
    bad = mutate(lambda c: c["deviation"]["widths"].__setitem__(0, -2))
    path = tmp_path / "bad.yaml"
    path.write_text(yaml.safe_dump(bad))
    out = subprocess.run(
        [sys.executable, "-m", "snakemake", "-n", "--cores", "1", "--configfile", str(path)],
        cwd=ROOT, capture_output=True, text=True,
    )
    assert out.returncode != 0
    assert "deviation.widths[0]': -2 is less than the minimum of 1" in out.stdout + out.stderr
