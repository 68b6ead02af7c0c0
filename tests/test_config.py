import copy
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from nnqft import config, networks, ntk_settings

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
    assert cfg["prng"] == "philox4x32" and cfg["deviation"]["shards"] == 1


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


def _section(*path, **values):
    """A change that sets ``values`` in the config section at ``path`` (created if the file omits it)."""
    def change(c):
        node = c
        for part in path:
            node = node.setdefault(part, {})
        node.update(values)
    return change


GAUSS_POINT = {"activation": "gauss", "init": "critical", "c_w": 1.0, "c_b": 0.0, "input_set": "p1_d1"}


@pytest.mark.parametrize("change, message", [
    (_section("deep", n_networks=4001, n_blocks=20), r"'deep\.n_networks': 4001 is not a multiple of deep\.n_blocks = 20"),
    (_section("deep", points={"g": GAUSS_POINT}), r"'deep\.points\.g\.activation': activation 'gauss' depends on"),
    (_section("ntk", activations=["gauss"]), r"'ntk\.activations': activation 'gauss' depends on"),
    (_section("ntk", activations=["tanh"]), r"'architectures\.tanh' is missing \(used by ntk\.activations\)"),
    (_section("ntk", inputs=[[1.0, 0.0], [1.0]]), r"'ntk\.inputs': points of different dimensions \[1, 2\]"),
    (_section("ntk", widths=[4, 8, 16], n_networks=[64, 64], n_blocks=8),
     r"'ntk\.n_networks': 2 entries for 3 widths \[4, 8, 16\]"),
    (_section("ntk", widths=[4, 8], n_networks=[100, 64], n_blocks=8),
     r"'ntk\.n_networks\[0\]': 100 is not a multiple of ntk\.n_blocks = 8"),
    (_section("ntk", "training", activation="gauss"), r"'ntk\.training\.activation': activation 'gauss' depends on"),
    (_section("ntk", "training", widths=[16, 64, 256], n_networks=[64, 64], n_blocks=8),
     r"'ntk\.training\.n_networks': 2 entries for 3 widths"),
    (_section("ntk", "training", widths=[16, 64], n_networks=[64, 60], n_blocks=8),
     r"'ntk\.training\.n_networks\[1\]': 60 is not a multiple of ntk\.training\.n_blocks = 8"),
    (_section("ntk", "training", steps=[32, 8]), r"'ntk\.training\.steps': \[32, 8\] must be positive and increasing"),
    (_section("ntk", "training", x_train=[[0.0, 1.0], [1.0, 0.0]], y_train=[1.0]),
     r"'ntk\.training\.y_train': 1 targets for 2 inputs"),
    (_section("ntk", "training", x_train=[[0.0, 1.0], [1.0]], y_train=[1.0, 2.0]),
     r"'ntk\.training\.x_train': points of different dimensions \[1, 2\]"),
    (_section("ntk", "training", x_train=[[0.0, 1.0], [1.0, 0.0]], y_train=[1.0, 2.0], x_test=[[1.0, 2.0, 3.0]]),
     r"'ntk\.training\.x_test': points in d_in = 3, the training inputs in d_in = 2"),
    (_section("ntk", "training", x_train=[[0.0, 1.0], [0.0, 1.0]], y_train=[1.0, 2.0], x_test=[[1.0, 2.0]]),
     r"'ntk\.training\.x_train': repeated inputs make Theta\(X, X\) singular"),
])
def test_deep_and_ntk_cross_key_rules_name_the_key(change, message):
    """Rules of the deep and NTK sections a schema cannot state: refused before any job, by key (each
    of these configs passed validation and failed, or ran, inside a job before)."""
    with pytest.raises(config.ConfigError, match=message):
        config.validate(mutate(change))


@pytest.mark.slow
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


# ------------------------------------------------------------------ finite numbers, strict integers


def _set(path, value):
    """A mutation setting the config key at ``path`` (dotted, [i] for list items) to ``value``."""
    def change(cfg):
        node, parts = cfg, path.replace("[", ".[").split(".")
        for part in parts[:-1]:
            node = node[int(part[1:-1])] if part.startswith("[") else node.setdefault(part, {})
        last = parts[-1]
        if last.startswith("["):
            node[int(last[1:-1])] = value
        else:
            node[last] = value
    return change


@pytest.mark.parametrize(
    "key, value, message",
    [
        ("architectures.erf.sb", float("nan"), "nan is not a number (NaN)"),
        ("architectures.gauss.sw", float("inf"), "inf is not finite"),
        ("architectures.relu.sb", float("-inf"), "-inf is not finite"),
        ("independence.eps[1]", float("nan"), "nan is not a number (NaN)"),
        ("fieldtheory.mass", float("inf"), "inf is not finite"),
        ("eft.rg.cutoffs[2]", float("inf"), "inf is not finite"),
        ("symmetry.output_rotation.inputs", [[float("nan")]], "nan is not a number (NaN)"),
        ("deviation.widths[0]", 2.0, "2.0 is a float, not an integer (write 2, without a decimal point or exponent)"),
        ("deviation.n_networks", 1e15, "1000000000000000.0 is a float, not an integer"),
        ("seed", 3.0, "3.0 is a float, not an integer"),
        ("seed", 2**70, f"{2**70} is greater than the maximum of {2**63 - 1}"),
        ("seed", 2**63, f"{2**63} is greater than the maximum of {2**63 - 1}"),
        ("deviation.widths[1]", 2**64, f"{2**64} does not fit a 64-bit integer"),
        ("batch_elements", True, "True is not of type 'integer'"),
    ],
)
def test_non_finite_numbers_and_non_integers_are_rejected_by_key_and_value(key, value, message):
    with pytest.raises(config.ConfigError) as err:
        config.validate(mutate(_set(key, value)))
    assert f"config key '{key}" in str(err.value) and message in str(err.value)


@pytest.mark.parametrize("text, key, message", [
    ("sb: .nan", "architectures.erf.sb", "nan is not a number"),
    ("sb: .inf", "architectures.erf.sb", "inf is not finite"),
    ("sb: .NaN", "architectures.erf.sb", "nan is not a number"),
])
def test_yaml_nan_and_inf_are_rejected(tmp_path, text, key, message):
    raw = (ROOT / "config" / "ci.yaml").read_text().replace("erf:   {sw: 1.0, sb: 1.0}", "erf:   {sw: 1.0, " + text + "}")
    path = tmp_path / "c.yaml"
    path.write_text(raw)
    with pytest.raises(config.ConfigError, match=f"config key '{key}': {message}"):
        config.load(path)
    # the Snakefile's check of the user's own file (test_snakemake_refuses_* show that it runs)
    with pytest.raises(config.ConfigError, match=f"config key '{key}': {message}"):
        config.validate_user_configfiles([path])


def test_yaml_float_for_an_integer_key_is_rejected(tmp_path):
    raw = (ROOT / "config" / "ci.yaml").read_text().replace("widths: [2, 5, 20, 100]", "widths: [2.0, 5, 20, 100]")
    path = tmp_path / "c.yaml"
    path.write_text(raw)
    with pytest.raises(config.ConfigError, match=r"config key 'deviation\.widths\[0\]': 2\.0 is a float, not an integer"):
        config.load(path)


@pytest.mark.slow
def test_seed_bound_is_the_prng_range():
    """SEED_MAX is what jax.random.key accepts with x64 enabled, for every PRNG the schema allows."""
    import jax

    import nnqft.ensemble  # noqa: F401 (enables jax_enable_x64)

    assert jax.config.jax_enable_x64
    schema = config.load_schema()
    assert schema["properties"]["seed"]["maximum"] == config.SEED_MAX
    for impl in schema["properties"]["prng"]["enum"]:
        jax.random.key(config.SEED_MAX, impl=impl)
        with pytest.raises(OverflowError):
            jax.random.key(config.SEED_MAX + 1, impl=impl)
    config.validate(mutate(_set("seed", config.SEED_MAX)))


@pytest.mark.parametrize("activation", ["erf", "relu"])
def test_infinite_cutoff_where_the_integrals_diverge_is_rejected(activation):
    cutoffs = {"erf": 100.0, "gauss": float("inf"), "relu": 100.0, activation: float("inf")}
    with pytest.raises(config.ConfigError,
                       match=rf"config key 'eft\.cutoffs\.{activation}': inf: the Feynman-rule integrals diverge"):
        config.validate(mutate(_set("eft.cutoffs", cutoffs)))


def test_infinite_gauss_cutoff_needs_a_decaying_propagator():
    cfg = config.validate(mutate(lambda c: None))
    assert cfg["eft"]["cutoffs"]["gauss"] == float("inf")  # the default: K - sb^2 decays
    with pytest.raises(config.ConfigError, match=r"config key 'eft\.cutoffs\.gauss': inf.*propagator = 'K'"):
        config.validate(mutate(_set("eft.propagator", "K")))
    # K with sb = 0 decays too
    config.validate(mutate(lambda c: (c["eft"].__setitem__("propagator", "K"), c["architectures"]["gauss"].__setitem__("sb", 0.0))))


def test_missing_nested_key_is_named_with_its_path():
    with pytest.raises(config.ConfigError, match=r"config key 'deviation\.widths' is missing"):
        config.validate(mutate(lambda c: c["deviation"].pop("widths")))


# ------------------------------------------------------------------ the user's config files, on their own


def _write(tmp_path, name, cfg):
    path = tmp_path / name
    path.write_text(yaml.safe_dump(cfg))
    return path


@pytest.mark.parametrize("drop, key", [
    (lambda c: c.pop("seed"), "seed"),
    (lambda c: c.pop("deviation"), "deviation"),
    (lambda c: c["deviation"].pop("n_networks"), "deviation.n_networks"),
])
def test_user_configfile_must_be_complete_on_its_own(tmp_path, drop, key):
    path = _write(tmp_path, "mine.yaml", mutate(drop))
    with pytest.raises(config.ConfigError) as err:
        config.validate_user_configfiles([path])
    assert f"config file {path}" in str(err.value) and f"config key '{key}' is missing" in str(err.value)


def test_user_configfiles_are_merged_with_each_other_and_the_overrides(tmp_path):
    base = _write(tmp_path, "base.yaml", mutate(lambda c: c.pop("seed")))
    extra = _write(tmp_path, "extra.yaml", {"seed": 7, "deviation": {"shards": 1}})
    cfg = config.validate_user_configfiles([base, extra])
    assert cfg["seed"] == 7 and cfg["deviation"]["shards"] == 1 and cfg["deviation"]["n_networks"] == 4000
    assert config.validate_user_configfiles([base], overrides={"seed": 9})["seed"] == 9
    with pytest.raises(config.ConfigError, match=r"(?s)with --config seed=.*'seed': 9\.0 is a float"):
        config.validate_user_configfiles([base], overrides={"seed": 9.0})
    assert config.validate_user_configfiles([]) is None


def test_user_configfile_unreadable_or_not_a_mapping(tmp_path):
    with pytest.raises(config.ConfigError, match=r"config file .*absent\.yaml: cannot be read"):
        config.validate_user_configfiles([tmp_path / "absent.yaml"])
    path = tmp_path / "list.yaml"
    path.write_text("- 1\n- 2\n")
    with pytest.raises(config.ConfigError, match=r"list\.yaml: the top level must be a mapping"):
        config.validate_user_configfiles([path])


def test_json_configfile_nan_is_rejected(tmp_path):
    import json

    path = tmp_path / "c.json"
    path.write_text(json.dumps(mutate(_set("architectures.erf.sw", float("nan")))))  # json writes NaN
    with pytest.raises(config.ConfigError, match=r"config key 'architectures\.erf\.sw': nan is not a number"):
        config.validate_user_configfiles([path])


def _snakemake_dry_run(*args):
    return subprocess.run([sys.executable, "-m", "snakemake", "-n", "--cores", "1", *args],
                          cwd=ROOT, capture_output=True, text=True)


@pytest.mark.slow
def test_snakemake_refuses_a_configfile_without_seed(tmp_path):
    path = _write(tmp_path, "noseed.yaml", mutate(lambda c: c.pop("seed")))
    out = _snakemake_dry_run("--configfile", str(path))
    assert out.returncode != 0
    assert f"config file {path}" in out.stdout + out.stderr
    assert "config key 'seed' is missing" in out.stdout + out.stderr


# ------------------------------------------------------------------ cost warnings


@pytest.mark.slow
def test_shipped_configs_do_not_warn():
    import warnings

    for name in ("config.yaml", "ci.yaml", "paper.yaml"):
        with warnings.catch_warnings():
            warnings.simplefilter("error", config.ConfigWarning)
            config.load(ROOT / "config" / name)


def test_an_ensemble_far_beyond_the_machine_warns_with_an_estimate():
    cfg = mutate(lambda c: (c["deviation"].__setitem__("n_networks", 10**15), c["deviation"].__setitem__("n_blocks", 100)))
    with pytest.warns(config.ConfigWarning, match=r"config key 'deviation\.n_networks': 1000000000000000 networks take an "
                                                  r"estimated [0-9.e+]+ years"):
        config.validate(cfg)
    # The estimate follows the documented rate: 4000 networks x sum(max(w, 20)) x points / rate.
    est = {c.key: c for c in config.estimate_costs(config.validate(mutate(lambda c: None)))}["deviation.n_networks"]
    points = 3 * (6 + 4)  # erf, gauss, relu at d_in 1 (6 inputs) and 2 (4 inputs)
    assert est.seconds == pytest.approx(4000 * (20 + 20 + 20 + 100) * points / config.NEURON_EVALS_PER_S)
    assert config.NEURON_EVALS_PER_S == pytest.approx(1.46e5 * 20 * 6)


def test_memory_beyond_the_machine_warns():
    cfg = config.validate(mutate(lambda c: None))
    with pytest.warns(config.ConfigWarning, match=r"config key 'batch_elements': 16777216 elements need 0\.125 GiB"):
        messages = config.warn_if_heavy(cfg, memory_bytes=1e6)
    assert len(messages) == 1
    # One network wider than the batch budget sets the memory: its width key is named.
    cfg = config.validate(mutate(lambda c: c["independence"].__setitem__("widths", [100, 10**9])))
    with pytest.warns(config.ConfigWarning, match=r"config key 'independence\.widths': one network of width 1000000000 "
                                                  r"needs 134 GiB"):
        config.warn_if_heavy(cfg, memory_bytes=64 * 2**30, max_seconds=float("inf"))


def test_an_exact_stage_beyond_the_quadrature_budget_is_rejected_before_any_job():
    # tanh has no closed-form moments: tensor Gauss-Hermite needs 128^4 nodes at d_in = 3.
    def use_tanh(c):
        c["deviation"].update(activations=["tanh"], d_in=[1, 3])
        c["architectures"]["tanh"] = {"sw": 1.0, "sb": 1.0}

    with pytest.raises(config.ConfigError, match=r"config key 'deviation\.d_in': 3 needs 2\.68e\+08 Gauss-Hermite"):
        config.validate(mutate(use_tanh))


def test_shipped_overlay_is_a_complete_config_over_the_default():
    """config/ntk_erf_depth.yaml, passed after config.yaml as its comment says: valid, one ensemble size
    per width, each a multiple of the blocks."""
    cfg = config.validate_user_configfiles([ROOT / "config" / "config.yaml", ROOT / "config" / "ntk_erf_depth.yaml"])
    section = cfg["ntk"]
    sizes = ntk_settings.networks_per_width(section["widths"], section["n_networks"], section["n_blocks"])
    assert all(n % section["n_blocks"] == 0 for n in sizes)
    assert section["activations"] == ["erf"] and min(section["depths"]) >= 2
