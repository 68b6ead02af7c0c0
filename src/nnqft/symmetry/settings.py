"""The ``symmetry`` config section, checked once and turned into plain typed values.

The JSON schema validates types, ranges and defaults; ``check`` adds the rules a schema cannot
state and raises ``ConfigError`` naming the key. Library functions never see the config dict.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from nnqft import settings as nnqft_settings
from nnqft.settings import ConfigError, check_architecture, check_blocks, input_points
from nnqft.symmetry import imagedata
from nnqft.blocks import Sampling
from nnqft.activations import activation
from nnqft.blocks import stream

# The stage's modules are imported by the helpers that build their types, not here: the config's
# validation runs ``check`` at every workflow start, and invariance pulls in scipy.stats (a second).
if TYPE_CHECKING:
    from nnqft.symmetry.invariance import Plan, Whitening
    from nnqft.symmetry.training import Grid, Setup

SECTION = "symmetry"
# The last step-down t-statistic of the largest (combined 2+4) row keeps at least this many
# degrees of freedom: n_blocks >= contrasts + MIN_DOF.
MIN_DOF = 10


def _key(*parts) -> str:
    return ".".join((SECTION,) + parts)


def max_contrasts(sym: dict) -> int:
    """Contrasts of the largest combined (2+4) row: per order and transform, one group sum per
    output component (output rotations; one for input transforms) plus the random contrasts."""
    groups = max([*sym["output_rotation"]["d_out"], sym["power"]["d_out"], 1])
    return 2 * sym["n_transforms"] * (groups + sym["random_contrasts"])


def check(config: dict) -> None:
    """Cross-key rules of the section; raises ConfigError with the offending key."""
    sym = config[SECTION]
    n_blocks = sym["n_blocks"]
    counts = [(_key("n_networks"), sym["n_networks"])]
    counts += [(_key("power", "n_networks") + f"[{i}]", n) for i, n in enumerate(sym["power"]["n_networks"])]
    for key, value in counts:
        check_blocks(key, value, _key("n_blocks"), n_blocks)
    need = max_contrasts(sym) + MIN_DOF
    if n_blocks < need:
        raise ConfigError(
            f"config key '{_key('n_blocks')}': {n_blocks} blocks cannot whiten {max_contrasts(sym)} contrasts "
            f"(2 orders x {_key('n_transforms')} x (components + {_key('random_contrasts')})) with {MIN_DOF} "
            f"degrees of freedom left; need n_blocks >= {need}")
    k = sym["controls"]["k"]
    smallest = min([*sym["output_rotation"]["d_out"], sym["power"]["d_out"]])
    if k > smallest:
        raise ConfigError(f"config key '{_key('controls', 'k')}': {k} rows exceed d_out = {smallest}")
    input_points(sym["output_rotation"]["inputs"], _key("output_rotation", "inputs"))
    tr = sym["training"]
    if 0 not in tr["k"]:
        raise ConfigError(f"config key '{_key('training', 'k')}': {tr['k']} must contain 0 (the unbroken baseline)")
    used = {sym["output_rotation"]["activation"], sym["translation"]["activation"], sym["power"]["activation"],
            *sym["input_rotation"]["activations"]}
    for name in sorted(used):
        check_architecture(config, name, f"the {SECTION} section")


def sampling(config: dict, n_networks: int | None = None) -> Sampling:
    sym = config[SECTION]
    return nnqft_settings.sampling(config, n_networks or sym["n_networks"], sym["n_blocks"])


def whitening(config: dict) -> Whitening:
    from nnqft.symmetry.invariance import Whitening

    sym = config[SECTION]
    return Whitening(n_random=int(sym["random_contrasts"]), detection_sigma=float(sym["detection_sigma"]),
                     ks_alpha=float(sym["ks_alpha"]))


def spec(config: dict, activation: str, d_in: int, d_out: int = 1):
    return nnqft_settings.network_spec(config, activation, d_in, d_out)


def training_setup(config: dict) -> Setup:
    from nnqft.symmetry.training import Setup

    tr = config[SECTION]["training"]
    # P2 trains ReLU networks: the configured ReLU scale, else the registry's default.
    sw = float(config.get("architectures", {}).get("relu", {}).get("sw", activation("relu").scales[0]))
    return Setup(hidden=int(tr["hidden"]), epochs=int(tr["epochs"]), batch_size=int(tr["batch_size"]),
                 learning_rate=float(tr["learning_rate"]), lr_decay=float(tr["lr_decay"]), sw=sw)


def training_grid(config: dict) -> Grid:
    from nnqft.symmetry.training import Grid

    tr = config[SECTION]["training"]
    return Grid(k=tuple(int(k) for k in tr["k"]), mu=tuple(float(m) for m in tr["mu"]), n_seeds=int(tr["seeds"]))


def plan(config: dict) -> Plan:
    from nnqft.symmetry.invariance import Plan

    sym = config[SECTION]
    return Plan(widths=tuple(int(w) for w in sym["widths"]), n_transforms=int(sym["n_transforms"]),
                controls_mu=tuple(float(m) for m in sym["controls"]["mu"]), k=int(sym["controls"]["k"]),
                sampling=sampling(config), whiten=whitening(config))


def training_data(config: dict) -> imagedata.Dataset:
    """Fashion-MNIST from ``symmetry.training.fashion_mnist_dir`` when set, else scikit-learn's
    digits split by the keyed stream "symmetry/training/split"."""
    tr = config[SECTION]["training"]
    if tr["fashion_mnist_dir"]:
        return imagedata.fashion_mnist(tr["fashion_mnist_dir"])
    key = stream(int(config["seed"]), config.get("prng", "philox4x32"), "symmetry/training/split")
    return imagedata.digits(float(tr["test_fraction"]), key=key)


def training_key(config: dict):
    return stream(int(config["seed"]), config.get("prng", "philox4x32"), "symmetry/training/runs")
