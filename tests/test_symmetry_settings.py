"""The symmetry config section: schema defaults and cross-key errors naming the key."""

import copy
from pathlib import Path

import pytest
import yaml

from nnqft import config
from nnqft.symmetry import settings

ROOT = Path(__file__).resolve().parents[1]


def ci_config():
    return yaml.safe_load((ROOT / "config" / "ci.yaml").read_text())


def test_empty_section_gets_every_default():
    cfg = ci_config()
    cfg["symmetry"] = {}
    config.validate(cfg)
    sym = cfg["symmetry"]
    assert sym["widths"] == [5, 10, 50, 100, 1000] and sym["output_rotation"]["d_out"] == [3, 5]
    assert sym["training"]["mu"][-1] == 0.2 and len(sym["training"]["mu"]) == 21
    assert sym["training"]["fashion_mnist_dir"] is None
    settings.check(cfg)
    plan = settings.plan(cfg)
    assert plan.sampling.n_networks == 300000 and plan.controls_mu == (0.1,)
    assert settings.training_setup(cfg).hidden == 50


@pytest.mark.parametrize("edit, key", [
    (lambda s: s.update(n_networks=20001), "symmetry.n_networks"),
    (lambda s: s["power"].update(n_networks=[10001]), "symmetry.power.n_networks[0]"),
    (lambda s: s.update(n_blocks=20), "symmetry.n_blocks"),
    (lambda s: s["controls"].update(k=4), "symmetry.controls.k"),
    (lambda s: s["training"].update(k=[2, 4]), "symmetry.training.k"),
    (lambda s: s["output_rotation"].update(inputs=[[0.0], [0.1, 0.2]]), "symmetry.output_rotation.inputs"),
])
def test_cross_key_errors_name_the_key(edit, key):
    cfg = ci_config()
    config.validate(cfg)
    cfg = copy.deepcopy(cfg)
    edit(cfg["symmetry"])
    with pytest.raises(config.ConfigError, match=key.replace("[", "\\[").replace("]", "\\]")):
        settings.check(cfg)


def test_schema_rejects_unknown_keys():
    cfg = ci_config()
    cfg["symmetry"]["training"]["epoch"] = 3
    with pytest.raises(config.ConfigError, match="symmetry.training"):
        config.validate(cfg)
