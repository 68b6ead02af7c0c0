"""The activation registry: schema enums against the registry, and every new activation's kernel,
exact moments and propagator treatment against independent references."""

import jax
import numpy as np
import pytest
import yaml
from scipy import integrate, special

from nnqft import activations, config, deep, exact, feynman, inputs, kernels, networks, ntk, rg
from nnqft.activations import ACTIVATIONS

NEW = ("tanh", "gelu", "sin", "linear")


def spec_of(name, d_in, **kw):
    sw, sb = ACTIVATIONS[name].scales
    return networks.NetworkSpec(name, d_in, **{"sw": sw, "sb": sb, **kw})


# ---------------------------------------------------------------- schema enums


def _activation_enums(node, path=""):
    """Every enum of the schema that names a registered activation, as {path: set(names)}."""
    out = {}
    if isinstance(node, dict):
        enum = node.get("enum")
        if isinstance(enum, list) and set(enum) & set(ACTIVATIONS):
            out[path] = set(enum)
        for key, value in node.items():
            out.update(_activation_enums(value, f"{path}/{key}"))
    elif isinstance(node, list):
        for i, value in enumerate(node):
            out.update(_activation_enums(value, f"{path}/{i}"))
    return out


SCHEMA = config.load_schema()
EFT = SCHEMA["properties"]["eft"]["properties"]
# Enums that may list a subset of the registry, and the subset: the EFT stages need box integrals;
# translations are a symmetry only of a translation-invariant kernel (checked numerically below).
SUBSET_ENUMS = {
    "/properties/eft/properties/activations/items": set(activations.with_box_integrals()),
    "/properties/eft/properties/rg/properties/activations/items": set(activations.with_box_integrals()),
    "/properties/eft/properties/widths/propertyNames": set(activations.with_box_integrals()),
    "/properties/eft/properties/cutoffs/propertyNames": set(activations.with_box_integrals()),
    "/properties/eft/properties/rg/properties/widths/propertyNames": set(activations.with_box_integrals()),
    "/properties/symmetry/properties/translation/properties/activation":
        {n for n, a in ACTIVATIONS.items() if a.translation_invariant},
}


def test_schema_enums_list_the_registry():
    enums = _activation_enums(SCHEMA)
    assert len(enums) == 15  # every activation enum is classified below; a new one must be too
    assert set(SUBSET_ENUMS) <= set(enums)
    for path, names in enums.items():
        assert names == SUBSET_ENUMS.get(path, set(ACTIVATIONS)), path


def test_schema_per_activation_eft_keys_cover_the_eft_activations():
    box = set(activations.with_box_integrals())
    assert set(EFT["widths"]["propertyNames"]["enum"]) == box
    assert set(EFT["cutoffs"]["propertyNames"]["enum"]) == box
    assert set(EFT["rg"]["properties"]["widths"]["propertyNames"]["enum"]) == box


def test_the_schema_file_names_no_activation_itself():
    """Its activation enums are the registry's (config.registry_enums): a new activation is one entry."""
    raw = yaml.safe_load(config.SCHEMA_PATH.read_text())
    assert _activation_enums(raw) == {}
    assert "BOX_INTEGRAL_ACTIVATIONS" in config.SCHEMA_PATH.read_text()


def test_box_integrals_are_exactly_the_closed_form_kernels():
    assert activations.with_box_integrals() == ["erf", "relu", "gauss", "sin", "linear"]


def test_eft_config_with_tanh_is_rejected_naming_the_key():
    cfg = yaml.safe_load((config.SCHEMA_PATH.parents[2] / "config" / "activations.yaml").read_text())
    cfg["eft"]["activations"] = ["sin", "tanh"]
    with pytest.raises(config.ConfigError, match=r"eft\.activations\[1\]': 'tanh' is not one of"):
        config.validate(cfg)


def test_activations_config_is_valid():
    cfg = config.load(config.SCHEMA_PATH.parents[2] / "config" / "activations.yaml")
    assert set(cfg["deviation"]["activations"]) == set(NEW)


@pytest.mark.parametrize("name", sorted(ACTIVATIONS))
def test_translation_invariance_is_as_registered(name):
    spec = spec_of(name, 2, sw=1.3, sb=0.7)
    rng = np.random.default_rng(1)
    x, y, shift = 0.5 * rng.normal(size=(3, 2)), 0.5 * rng.normal(size=(3, 2)), rng.normal(size=2)
    k, moved = kernels.gp_kernel(spec, x, y), kernels.gp_kernel(spec, x + shift, y + shift)
    invariant = np.allclose(moved, k, rtol=1e-9, atol=0)
    assert invariant == ACTIVATIONS[name].translation_invariant


@pytest.mark.parametrize("name", sorted(ACTIVATIONS))
def test_activations_keep_the_sampling_dtype(name):
    z = jax.numpy.linspace(-2, 2, 5, dtype=jax.numpy.float32)
    assert ACTIVATIONS[name].h(z, jax.numpy.ones(5, jax.numpy.float32)).dtype == jax.numpy.float32


# ---------------------------------------------------------------- kernels


# The activations written independently of the registry (scipy/numpy, scalar arguments).
REFERENCE_H = {"tanh": np.tanh, "gelu": lambda z: z * special.ndtr(z), "sin": np.sin, "linear": lambda z: z}


def dblquad_pair(name, qxy, qxx, qyy):
    """E[h(z) h(z')] by scipy's adaptive cubature in Cholesky coordinates (an independent rule)."""
    h = REFERENCE_H[name]
    a = np.sqrt(qxx)
    c = qxy / a
    d = np.sqrt(qyy - c * c)

    def f(v, u):
        return h(a * u) * h(c * u + d * v) * np.exp(-(u * u + v * v) / 2) / (2 * np.pi)

    return integrate.dblquad(f, -12, 12, -12, 12, epsabs=1e-12, epsrel=1e-12)[0]


# (qxy, qxx, qyy): weakly correlated, and strongly anti-correlated at q = 2, the largest q of the
# Erf set with sw = sb = 1 (where tanh's poles are closest to the real axis).
PAIRS = [(0.5, 1.0, 2.0), (-1.9, 2.0, 2.0), (1.3, 1.36, 1.36)]


@pytest.mark.parametrize("name", ["tanh", "gelu", "sin", "linear"])
@pytest.mark.parametrize("qxy, qxx, qyy", PAIRS)
def test_kernel_matches_adaptive_cubature(name, qxy, qxx, qyy):
    pair = ACTIVATIONS[name].kernel or (lambda *q: kernels._quadrature_pair(name, *map(np.asarray, q)))
    assert abs(pair(qxy, qxx, qyy) - dblquad_pair(name, qxy, qxx, qyy)) < 1e-9


def test_sin_and_linear_kernels_are_the_closed_forms():
    qxy, qxx, qyy = 0.7, 1.2, 1.9
    assert ACTIVATIONS["sin"].kernel(qxy, qxx, qyy) == pytest.approx(np.exp(-(qxx + qyy) / 2) * np.sinh(qxy), rel=1e-15)
    spec = spec_of("linear", 2, sw=1.4, sb=0.6)
    x = inputs.paper_inputs("linear", 2)
    np.testing.assert_allclose(kernels.gp_kernel(spec, x), 0.36 + 1.96 * kernels.preactivation_covariance(spec, x),
                               rtol=1e-14)


@pytest.mark.slow
@pytest.mark.parametrize("name", ["tanh", "gelu"])
def test_quadrature_kernel_order_is_converged(name):
    q = np.array([[2.0, -1.9], [-1.9, 2.0]])
    d = np.diag(q)
    default = kernels._quadrature_pair(name, q, d[:, None], d[None, :])
    finer = kernels._quadrature_pair(name, q, d[:, None], d[None, :], order=ACTIVATIONS[name].kernel_order + 64)
    np.testing.assert_allclose(default, finer, rtol=0, atol=2e-9)


def test_gauss_hermite_kernel_fails_at_box_scale_so_no_box_integrals():
    # At |y| = 100 (q = 1e4) tanh(sqrt(q) g) is nearly sign(g): E = (2/pi) arcsin(rho) + O(1/sqrt(q)).
    # Gauss-Hermite misses it by ~1e-2, far above what the box integrals need (1e-9).
    q = 1e4
    limit = 2 / np.pi * np.arcsin(0.5)
    got = kernels._quadrature_pair("tanh", np.array(0.5 * q), np.array(q), np.array(q))
    assert abs(got - limit) > 1e-3
    for name in ("tanh", "gelu"):
        with pytest.raises(ValueError, match="no closed-form kernel"):
            feynman.vertex_integrals(spec_of(name, 1), [[0.1], [0.2]], [10.0])
        with pytest.raises(ValueError, match="no EFT fit inputs"):
            inputs.fit_inputs(name, "test")


# ---------------------------------------------------------------- exact neuron moments


@pytest.mark.slow
@pytest.mark.parametrize("name", ["sin", "linear"])
@pytest.mark.parametrize("d_in", [1, 2])
def test_closed_form_moments_match_dense_gauss_hermite(name, d_in):
    # Gauss-Hermite is exact for linear's polynomials and converges spectrally for the entire sin.
    spec, x = spec_of(name, d_in, sw=1.2, sb=0.9), inputs.paper_inputs(name, d_in)
    orders = (2, 4, 6, 8)
    closed = exact.neuron_moments(spec, x, orders, method="closed")
    dense = exact.neuron_moments(spec, x, orders, method="hermite", resolution=80)
    for r in orders:
        np.testing.assert_allclose(closed[r], dense[r], rtol=0, atol=1e-12 * np.abs(dense[r]).max())


@pytest.mark.slow
@pytest.mark.parametrize("name", ["tanh", "gelu"])
@pytest.mark.parametrize("d_in", [1, 2])
def test_default_gauss_hermite_resolution_is_converged(name, d_in):
    spec, x = spec_of(name, d_in), inputs.paper_inputs(name, d_in)
    default = exact.neuron_moments(spec, x)
    finer = exact.neuron_moments(spec, x, resolution=ACTIVATIONS[name].moments.hermite_resolution + 40)
    for r in default:
        assert np.max(np.abs(default[r] - finer[r])) < 1e-8 * np.max(np.abs(finer[r])), r


@pytest.mark.slow
@pytest.mark.parametrize("name", NEW)
def test_exact_moments_agree_with_neuron_monte_carlo(name):
    spec, x = spec_of(name, 2), inputs.paper_inputs(name, 2)
    want = exact.neuron_moments(spec, x)
    mean, stderr = exact.neuron_moments_mc(spec, x, n_samples=4 * 10**5, key=jax.random.key(3))
    for r in want:
        z = (mean[r] - want[r]) / stderr[r]
        assert np.max(np.abs(z)) < 4.5, (r, np.max(np.abs(z)))


def test_sin_moment_of_one_input_is_the_one_dimensional_integral():
    # E[sin(z)^4] for z ~ N(0, q): (3 - 4 exp(-2q) + exp(-8q)) / 8
    spec = spec_of("sin", 1, sw=1.0, sb=0.5)
    x = np.array([[0.8]])
    q = 0.25 + 0.64
    got = exact.neuron_moments(spec, x, (4,))[4][0]
    assert got == pytest.approx((3 - 4 * np.exp(-2 * q) + np.exp(-8 * q)) / 8, rel=1e-13)


def test_gauss_hermite_beyond_the_node_budget_is_refused():
    with pytest.raises(ValueError, match=r"needs 128\^4 = 2.68e\+08 nodes"):
        exact.neuron_moments(spec_of("tanh", 3), inputs.paper_inputs("tanh", 3))


# ---------------------------------------------------------------- propagators


@pytest.mark.parametrize("name", activations.with_box_integrals())
def test_declared_growth_is_the_measured_kernel_degree(name):
    spec, x = spec_of(name, 1), inputs.fit_inputs(name, "test")
    growth = ACTIVATIONS[name].propagator.growth
    degree = rg.kernel_degree(spec, x)
    assert np.isnan(degree) if growth is None else degree == pytest.approx(growth, abs=2e-3)


def test_linear_box_integrals_are_the_exact_polynomial_integrals():
    # P(x, y) = sw^2 (sb^2 + sw^2 x y) is linear in y, so every integrand is a polynomial.
    spec = spec_of("linear", 1, sw=1.3, sb=0.8)
    x = inputs.paper_inputs("linear", 1)
    cut = [0.5, 7.0, 1e3]
    ds = feynman.vertex_integrals(spec, x, cut)
    poly = np.polynomial.Polynomial
    p = [spec.sw**2 * poly([spec.sb**2, spec.sw**2 * xa]) for xa in x[:, 0]]
    pyy = spec.sw**2 * poly([spec.sb**2, 0.0, spec.sw**2])
    for i, L in enumerate(cut):
        for k, t in enumerate(ds["t4_points"].values):
            f = p[t[0]] * p[t[1]] * p[t[2]] * p[t[3]]
            for var, g in (("I4", f), ("I4_y2", f * poly([0, 0, 1])), ("K4", f * pyy)):
                F = g.integ()
                assert ds[var].values[i, k] == pytest.approx(F(L) - F(-L), rel=1e-12, abs=1e-12 * abs(F(L)))


def test_sin_box_integrals_converge_so_the_cutoff_may_be_infinite():
    # beyond the decay radius nothing is added (test_feynman checks the finite cutoffs against quad_vec)
    spec, x = spec_of("sin", 1), inputs.fit_inputs("sin", "test")
    ds = feynman.vertex_integrals(spec, x, [1e4, np.inf])
    for var in ("I4", "I4_y2", "J", "K4", "I6"):
        np.testing.assert_allclose(ds[var].values[1], ds[var].values[0], rtol=1e-14, atol=0)
    assert np.isfinite(ds.attrs["truncation_radius"])


def test_only_gauss_net_depends_on_the_variance_and_deep_uses_refuse_it():
    """Gauss-net's h(z; q) normalises by q(x, x) (so its kernel is translation invariant); every other
    registered h is a function of z alone. A deep network, pair function or NTK of it is refused by name."""
    assert [n for n in networks.ACTIVATIONS if activations.activation(n).depends_on_variance] == ["gauss"]
    for build in (lambda: networks.NetworkSpec("gauss", 1, depth=2), lambda: deep.pair_functions("gauss"),
                  lambda: ntk.analytic_ntk(np.eye(2), "gauss", 1.0, 1.0, 2)):
        with pytest.raises(ValueError, match="'gauss' depends on the first layer's pre-activation variance"):
            build()
    networks.NetworkSpec("gauss", 1, depth=1)  # one hidden layer: q is the first layer's, as defined
