"""Ensembles of networks trained by full-batch gradient descent against the NTK's prediction
(docs/physics.md sec. 11).

Loss L = (1/2) sum_i (f(x_i) - y_i)^2 on the training set X, plain gradient descent with step eta
(optax.sgd). At infinite width the network is its linearisation with the constant analytic NTK
Theta, so after t steps (exactly, for discrete steps)

    f_t(x) = f_0(x) + A_t(x) (Y - f_0(X)),   A_t = Theta(x, X) Theta(X, X)^-1 (1 - (1 - eta Theta(X, X))^t)

with f_0 ~ GP(0, K): the mean is kernel regression A_t Y and the variance the NTK-GP's
K(x, x) - 2 A_t K(X, x) + A_t K(X, X) A_t^T (Lee et al. 2019, with exp(-eta Theta t) replaced by the
discrete (1 - eta Theta)^t). Each network's deviation from that prediction is measured with its own
f_0 (a control variate: E[f_0] = 0 makes the linear prediction's mean exactly A_t Y, and subtracting
it removes the O(1) prior noise from the O(1/n) deviation).
"""

from __future__ import annotations

import functools

import jax
import jax.numpy as jnp
import numpy as np
import optax
import pandas as pd
import xarray as xr

from nnqft import deviation, estimators, ntk
from nnqft.activations import require_h_alone


def learning_rate(theta_train: np.ndarray, fraction: float) -> float:
    """eta = fraction x 2 / lambda_max(Theta(X, X)): gradient descent on the linearised model
    converges for fraction < 1."""
    if not 0 < fraction < 1:
        raise ValueError(f"ntk.training.lr_fraction = {fraction} must lie in (0, 1) (stability needs eta < 2/lambda_max)")
    return fraction * 2 / np.linalg.eigvalsh(theta_train).max()


@functools.partial(jax.jit, static_argnums=(1, 3))  # op-by-op dispatch of eigh and its derivative costs seconds
def _response(theta, n_train: int, eta: float, steps):
    """A_t of ``response`` in JAX (differentiable in theta)."""
    lam, u = jnp.linalg.eigh(theta[:n_train, :n_train])
    cross = theta[n_train:, :n_train] @ u
    return jnp.stack([(cross * ((1 - (1 - eta * lam) ** t) / lam)) @ u.T for t in steps])


def response(theta: np.ndarray, n_train: int, eta: float, steps) -> np.ndarray:
    """A_t for each t in ``steps``, shape (T, P - n_train, n_train), on the rows after the training set."""
    lam = np.linalg.eigvalsh(theta[:n_train, :n_train])
    if lam.min() <= 0:
        raise ValueError(f"Theta(X, X) is singular (smallest eigenvalue {lam.min():.3g}): repeated training inputs?")
    return np.asarray(_response(jnp.asarray(theta, dtype=jnp.float64), n_train, eta, tuple(steps)))


def response_derivative(theta: np.ndarray, n_train: int, eta: float, steps) -> np.ndarray:
    """dA_t / dTheta at the analytic Theta, shape (T, Q, n_train, P, P)."""
    return np.asarray(jax.jacfwd(lambda th: _response(th, n_train, eta, tuple(steps)))(
        jnp.asarray(theta, dtype=jnp.float64)))


def prediction(theta: np.ndarray, kernel: np.ndarray, y: np.ndarray, eta: float, steps):
    """Infinite-width mean (T, Q) and variance (T, Q) of f_t on the test rows (after the n_train
    training rows of ``theta`` and ``kernel``)."""
    m = len(y)
    a = response(theta, m, eta, steps)
    mean = a @ y
    k_tt, k_xt, k_xx = np.diag(kernel[m:, m:]), kernel[:m, m:], kernel[:m, :m]
    var = (k_tt - 2 * np.einsum("tqm,mq->tq", a, k_xt) + np.einsum("tqm,mn,tqn->tq", a, k_xx, a))
    return mean, var


@functools.lru_cache(maxsize=32)
def training_statistics(name: str, sw: float, sb: float, sizes: tuple, x_rows: tuple, y: tuple, eta: float,
                        steps: tuple, theta_rows: tuple, dtype: str):
    """(key, batch) -> per-network statistics at each recorded step t (T of them), on the test inputs
    (Q) and on train + test (P): f_t (T, Q), f_t^2, the deviation f_t - f_0 - A_t (Y - f_0(X)),
    Theta_hat_t - Theta_hat_0 (T, P, P) and |Theta_hat_t - Theta_hat_0|_F / |Theta_hat_0|_F (T,); for
    activations with an NTK control variate also "deviation_cv", the deviation minus
    (dA_t/dTheta . c) (Y - f_0(X)) with c the control variate of Theta_hat_0 (``ntk.control_variate``).

    That term has mean 0 exactly: E[c] = 0, and c is even under the sign flip of the output layer
    (w, b) -> (-w, -b) while f_0 is odd. It is the initial kernel's fluctuation acting through the
    linearised dynamics, the O(n^-1/2) part of each network's deviation; what remains is O(1/n).

    ``x_rows`` are the training inputs followed by the test inputs; the first len(y) are trained on;
    ``theta_rows`` is the analytic NTK on them.
    """
    require_h_alone(name, "trained networks")
    m = len(y)
    x_all = np.array(x_rows, dtype=np.float64)
    theta = np.array(theta_rows)
    a = jnp.asarray(response(theta, m, eta, steps))  # (T, Q, m)
    depth = len(sizes) - 2
    cv = ntk.has_control_variate(name)
    if cv:
        kernel_response = ntk.fluctuation_response(name, sw, sb, depth, x_rows)
        da = jnp.asarray(response_derivative(theta, m, eta, steps))  # (T, Q, m, P, P)
    segments = np.diff((0,) + steps)
    optimiser = optax.sgd(eta)

    def one(params):
        xj, yj = jnp.asarray(x_all, dtype=params[0][0].dtype), jnp.asarray(y, dtype=params[0][0].dtype)
        net0 = ntk.network_pass(params, xj, name, sw, sb)
        f0, theta0 = net0.f.astype(jnp.float64), ntk.kernel_of(net0, sw, sb)

        def loss(p):
            return 0.5 * jnp.sum((ntk.forward(p, xj[:m], name, sw, sb)[0] - yj) ** 2)

        def step(carry, _):
            p, state = carry
            updates, state = optimiser.update(jax.grad(loss)(p), state)
            return (optax.apply_updates(p, updates), state), None

        carry, f_rec, theta_rec = (params, optimiser.init(params)), [], []
        for length in segments:  # static lengths: one scan per segment between recorded steps
            carry, _ = jax.lax.scan(step, carry, None, length=int(length))
            net = ntk.network_pass(carry[0], xj, name, sw, sb)
            f_rec.append(net.f.astype(jnp.float64))
            theta_rec.append(ntk.kernel_of(net, sw, sb))
        f = jnp.stack(f_rec)[:, m:]  # (T, Q)
        linear = f0[m:] + jnp.einsum("tqm,m->tq", a, jnp.asarray(y) - f0[:m])
        dtheta = jnp.stack(theta_rec) - theta0
        change = jnp.sqrt(jnp.sum(dtheta**2, axis=(-2, -1)) / jnp.sum(theta0**2))
        out = {"f": f, "f2": f**2, "deviation": f - linear, "dtheta": dtheta, "change": change}
        if cv:
            c = ntk.control_variate(net0, name, sw, sb, kernel_response)
            out["deviation_cv"] = out["deviation"] - jnp.einsum("tqmab,ab,m->tq", da, c, jnp.asarray(y) - f0[:m])
        return out

    def per_network(key, batch):
        return jax.vmap(one)(ntk.sample_params(sizes, batch, key=key, dtype=jnp.dtype(dtype)))

    return per_network


def run(name: str, sw: float, sb: float, depth: int, width: int, x_train, y_train, x_test, eta: float, steps,
        sampling, ensemble: str):
    """Block means of the training statistics at one width (keys: ensemble, width, block)."""
    x_all = np.concatenate([np.asarray(x_train, dtype=np.float64), np.asarray(x_test, dtype=np.float64)])
    steps = tuple(int(t) for t in steps)
    theta = ntk.analytic_ntk(x_all, name, sw, sb, depth)[-1]
    sizes = ntk.layer_sizes(x_all.shape[1], width, depth)
    stats = training_statistics(name, float(sw), float(sb), sizes, tuple(map(tuple, x_all.tolist())),
                                tuple(float(v) for v in y_train), float(eta), steps,
                                tuple(map(tuple, theta.tolist())), sampling.dtype)
    # parameters, optimiser state and gradients, activations of every recorded step
    elements = 4 * ntk.n_parameters(sizes) + 4 * len(x_all) * sum(sizes) * (len(steps) + 1)
    return sampling.run(stats, ensemble, width, elements)


# ---------------------------------------------------------------- tables


def training_dataset(means_by_width: list, widths, n_networks, steps, mean, var, theta, attrs: dict) -> xr.Dataset:
    """Block means of every width's training statistics, with the infinite-width prediction."""
    def stack(key):
        return np.stack([m[key] for m in means_by_width])

    optional = {}
    if all("deviation_cv" in m for m in means_by_width):
        optional["deviation_cv_block_mean"] = (("width", "block", "step", "test"), stack("deviation_cv"))
    return xr.Dataset(
        {**optional, "f_block_mean": (("width", "block", "step", "test"), stack("f")),
         "f2_block_mean": (("width", "block", "step", "test"), stack("f2")),
         "deviation_block_mean": (("width", "block", "step", "test"), stack("deviation")),
         "dtheta_block_mean": (("width", "block", "step", "a", "b"), stack("dtheta")),
         "change_block_mean": (("width", "block", "step"), stack("change")),
         "mean_prediction": (("step", "test"), mean), "var_prediction": (("step", "test"), var),
         "theta_analytic": (("a", "b"), theta), "n_networks": (("width",), np.asarray(n_networks))},
        coords={"width": np.asarray(widths), "step": np.asarray(steps)}, attrs=attrs)


def training_rows(ds: xr.Dataset) -> pd.DataFrame:
    """Per (width, step): the ensemble mean's deviation from kernel regression (relative, noise
    corrected, from the control-variate deviation where there is one; and the largest |z| over the
    test inputs of the plain deviation), the ensemble variance against the NTK-GP variance, the
    per-network relative NTK change and the ensemble-mean kernel's relative change."""
    cv = "deviation_cv_block_mean" in ds
    mean_pred, var_pred = ds["mean_prediction"].values, ds["var_prediction"].values
    theta_norm2 = np.sum(ds["theta_analytic"].values ** 2)
    rows = []
    for i, width in enumerate(ds["width"].values):
        n_networks = int(ds["n_networks"].values[i])
        correction = n_networks / (n_networks - 1)
        for j, step in enumerate(ds["step"].values):
            dev = ds["deviation_block_mean"].values[i, :, j]
            best = ds["deviation_cv_block_mean"].values[i, :, j] if cv else dev
            mean_dev = ntk.noise_corrected_norm2(best, np.zeros_like(mean_pred[j]), np.sum(mean_pred[j] ** 2))
            d_mean, d_err = estimators.mean_and_stderr(dev)
            var, var_err = estimators.jackknife(
                lambda m, s: correction * np.sum(s - m**2, axis=-1) / np.sum(var_pred[j]),
                ds["f_block_mean"].values[i, :, j], ds["f2_block_mean"].values[i, :, j])
            change, change_err = estimators.mean_and_stderr(ds["change_block_mean"].values[i, :, j])
            dtheta = ds["dtheta_block_mean"].values[i, :, j]
            kernel = ntk.noise_corrected_norm2(dtheta, np.zeros_like(dtheta[0]), theta_norm2)
            rows.append(dict(activation=ds.attrs["activation"], depth=int(ds.attrs["depth"]), width=int(width),
                             step=int(step), n_networks=n_networks, control_variate=cv,
                             **{f"mean_{k}": v for k, v in mean_dev.items()},
                             mean_max_abs_z=float(np.max(np.abs(d_mean / d_err))),
                             var_ratio=float(var), var_ratio_stderr=float(var_err),
                             change=float(change), change_stderr=float(change_err),
                             **{f"mean_kernel_{k}": v for k, v in kernel.items()}))
    out = pd.DataFrame(rows)
    out.attrs["allow_nonfinite"] = ["mean_relative", "mean_relative_stderr", "mean_kernel_relative",
                                    "mean_kernel_relative_stderr"]  # NaN where not resolved
    return out


# quantity -> (table column, expected log-log slope against width, the claim it tests)
TRAINING_SLOPES = {
    "mean_deviation": ("mean_relative", -1.0, "PDLT: the trained mean deviates from kernel regression at O(1/n)"),
    "var_deviation": ("var_excess", -1.0, "the trained variance approaches the NTK-GP's at O(1/n)"),
    "kernel_change_per_network": ("change", -0.5, "Lee et al. 2019: each network's NTK moves ~ n^-1/2"),
    "kernel_change_ensemble_mean": ("mean_kernel_relative", -1.0, "PDLT's dNTK: the mean NTK moves at O(1/n)"),
}


def training_slopes(table: pd.DataFrame) -> pd.DataFrame:
    """Log-log slopes against width at each recorded step, over the widths where the quantity is
    resolved (a noise-corrected norm above 3 errors; the variance excess |var_ratio - 1| above 3 errors)."""
    table = table.assign(var_excess=np.abs(table["var_ratio"] - 1), var_excess_stderr=table["var_ratio_stderr"])
    rows = []
    for step, grp in table.groupby("step", sort=True):
        for quantity, (column, expected, claim) in TRAINING_SLOPES.items():
            ok = grp[np.isfinite(grp[column]) & (grp[column] > ntk.NOISE_FACTOR * grp[f"{column}_stderr"])]
            fit = deviation.loglog_slope(ok["width"], ok[column], ok[f"{column}_stderr"])
            rows.append(dict(step=int(step), quantity=quantity, **fit, n_widths=len(ok),
                             widths=" ".join(str(w) for w in ok["width"]), expected_slope=expected, claim=claim))
    out = pd.DataFrame(rows)
    out.attrs["allow_nonfinite"] = ["slope", "slope_stderr", "intercept", "chi2_dof"]  # < 2 (3) resolved widths
    return out
