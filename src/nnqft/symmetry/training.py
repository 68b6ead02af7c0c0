"""Symmetry breaking during training (P2, Fig. 1; docs/physics.md sec. 8).

A ReLU network without biases, f(x) = W1 relu(W0 x), starts from the NN-QFT parameter law
W0 ~ N(0, sw^2/d_in), W1 ~ N(0, sw^2/N), except that the first k rows of W1 have mean mu: this
breaks the SO(d_out) symmetry of the initial output density (the first k outputs are shifted by
mu sum_i relu(w0_i . x) > 0). It is trained with MSE on **one-hot** targets (1 on the true
class, prediction = argmax) or **one-cold** targets (0 on the true class, 1 elsewhere,
prediction = argmin), with Adam (optax) and a learning rate multiplied by ``lr_decay`` after every
epoch (PyTorch's StepLR), mini-batches of ``batch_size``. The claim to test: breaking helps only
in the direction of the ground truth. One-cold targets are mostly 1, so shifting outputs up moves
them towards the targets; one-hot targets are mostly 0, so the same shift moves them away.

Every grid point (target, k, mu) and seed trains at once under ``jax.vmap``. Within a seed, all
grid points share the initial normals, the data order and hence differ only by the breaking
(common random numbers), so paired differences against k = 0 isolate its effect.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import jax
import jax.numpy as jnp
import numpy as np
import optax
import pandas as pd

from nnqft.symmetry.imagedata import Dataset

TARGETS = ("one_hot", "one_cold")


@dataclass(frozen=True)
class Setup:
    """Architecture and optimiser of the experiment (P2: N = 50, 20 epochs, batch 64, Adam 1e-3, StepLR 0.7)."""

    hidden: int = 50
    epochs: int = 20
    batch_size: int = 64
    learning_rate: float = 1e-3
    lr_decay: float = 0.7
    sw: float = 1.0

    def __post_init__(self):
        if min(self.hidden, self.epochs, self.batch_size) < 1:
            raise ValueError(f"hidden, epochs and batch_size must be >= 1: {self}")
        if self.learning_rate <= 0 or not 0 < self.lr_decay <= 1 or self.sw <= 0:
            raise ValueError(f"need learning_rate > 0, 0 < lr_decay <= 1, sw > 0: {self}")


@dataclass(frozen=True)
class Grid:
    """The runs: every (target, k, mu, seed), flattened in that order."""

    k: tuple[int, ...]
    mu: tuple[float, ...]
    n_seeds: int
    targets: tuple[str, ...] = TARGETS

    def __post_init__(self):
        unknown = set(self.targets) - set(TARGETS)
        if unknown or not self.targets:
            raise ValueError(f"targets must be a non-empty subset of {TARGETS}, got {self.targets}")
        if self.n_seeds < 1 or not self.k or not self.mu:
            raise ValueError(f"need k, mu and n_seeds >= 1: {self}")

    def table(self) -> pd.DataFrame:
        rows = [(t, k, m, s) for t in self.targets for k in self.k for m in self.mu for s in range(self.n_seeds)]
        return pd.DataFrame(rows, columns=["target", "k", "mu", "seed"])


def encode(labels, n_classes: int, cold):
    """One-hot targets, or one-cold (1 - one-hot) where ``cold`` is true (broadcasts)."""
    hot = jax.nn.one_hot(labels, n_classes, dtype=jnp.float32)
    return jnp.where(cold, 1.0 - hot, hot)


def predict(outputs, cold):
    """Class of each output row: argmax for one-hot targets, argmin for one-cold."""
    return jnp.where(cold, jnp.argmin(outputs, axis=-1), jnp.argmax(outputs, axis=-1))


def init_params(key, d_in: int, hidden: int, n_classes: int, sw: float, k, mu):
    """(W0 (N, d_in), W1 (n_classes, N)): zero-mean Gaussians, the first k rows of W1 with mean mu."""
    k0, k1 = jax.random.split(key)
    w0 = sw / np.sqrt(d_in) * jax.random.normal(k0, (hidden, d_in), jnp.float32)
    mean = jnp.where(jnp.arange(n_classes) < k, jnp.float32(mu), 0.0)
    w1 = mean[:, None] + sw / np.sqrt(hidden) * jax.random.normal(k1, (n_classes, hidden), jnp.float32)
    return w0, w1


def forward(params, x):
    """f(x) = W1 relu(W0 x) for a batch x (b, d_in): (b, n_classes)."""
    w0, w1 = params
    return jax.nn.relu(x @ w0.T) @ w1.T


def mse(params, x, y, mask):
    """Mean squared error over the valid rows and all outputs (PyTorch's MSELoss)."""
    err = (forward(params, x) - y) ** 2
    return jnp.sum(mask[:, None] * err) / (jnp.sum(mask) * y.shape[-1])


def schedule(setup: Setup, steps_per_epoch: int):
    """Learning rate lr * lr_decay^epoch, constant within an epoch (StepLR(step_size=1, gamma))."""
    return optax.exponential_decay(setup.learning_rate, transition_steps=steps_per_epoch,
                                   decay_rate=setup.lr_decay, staircase=True)


def optimizer(setup: Setup, steps_per_epoch: int):
    """Adam (optax defaults b1 = 0.9, b2 = 0.999, eps = 1e-8, as PyTorch) on the StepLR schedule."""
    return optax.adam(schedule(setup, steps_per_epoch))


def batch_plan(n_train: int, batch_size: int, epochs: int, n_seeds: int, *, key):
    """Mini-batch indices (n_seeds, epochs * steps, batch) and validity mask (steps, batch): a
    fresh keyed permutation per seed and epoch; the last batch of an epoch is padded and masked
    (PyTorch's DataLoader keeps the partial batch)."""
    steps = math.ceil(n_train / batch_size)
    pad = steps * batch_size - n_train
    idx = np.empty((n_seeds, epochs, steps * batch_size), dtype=np.int32)
    for s in range(n_seeds):
        for e in range(epochs):
            perm = np.asarray(jax.random.permutation(jax.random.fold_in(jax.random.fold_in(key, s), e), n_train))
            idx[s, e] = np.concatenate([perm, np.zeros(pad, dtype=perm.dtype)])
    mask = (np.arange(steps * batch_size) < n_train).reshape(steps, batch_size).astype(np.float32)
    return idx.reshape(n_seeds, epochs * steps, batch_size), mask


def fit(params, x_train, y_train, n_classes: int, setup: Setup, idx, mask, seeds, cold):
    """Train a batch of runs at once (leading axis of ``params``, ``seeds``, ``cold``) through
    every step of the plan ``idx`` (n_seeds, steps, batch) / ``mask``; returns the final params."""
    steps = mask.shape[0]
    opt = optimizer(setup, steps)
    state = jax.vmap(opt.init)(params)
    x_train, y_train = jnp.asarray(x_train), jnp.asarray(y_train)
    idx, mask = jnp.asarray(idx), jnp.asarray(mask)
    seeds, cold = jnp.asarray(seeds), jnp.asarray(cold)

    def one_step(p, st, seed, c, t):
        rows = idx[seed, t]
        y = encode(y_train[rows], n_classes, c)
        grads = jax.grad(mse)(p, x_train[rows], y, mask[t % steps])
        updates, st = opt.update(grads, st, p)
        return optax.apply_updates(p, updates), st

    def body(carry, t):
        p, st = jax.vmap(one_step, in_axes=(0, 0, 0, 0, None))(*carry, seeds, cold, t)
        return (p, st), None

    @jax.jit
    def run(p, st):
        (p, _), _ = jax.lax.scan(body, (p, st), jnp.arange(idx.shape[1]))
        return p

    return run(params, state)


def evaluate(params, x, labels, n_classes: int, cold):
    """Accuracy and MSE (against each run's own target encoding) of a batch of runs on (x, labels)."""

    @jax.jit
    def one(p, c):
        out = forward(p, jnp.asarray(x))
        acc = jnp.mean(predict(out, c) == jnp.asarray(labels))
        loss = jnp.mean((out - encode(jnp.asarray(labels), n_classes, c)) ** 2)
        return acc, loss

    acc, loss = jax.vmap(one)(params, jnp.asarray(cold))
    return np.asarray(acc, dtype=np.float64), np.asarray(loss, dtype=np.float64)


def train(data: Dataset, setup: Setup, grid: Grid, *, key) -> pd.DataFrame:
    """Train every run of the grid at once; returns the grid table with ``test_accuracy`` and
    ``test_loss`` (MSE against the run's own target encoding).

    Keys: the initial parameters of seed s use ``fold_in(fold_in(key, 0), s)`` (shared by all grid
    points of that seed), the data order ``fold_in(fold_in(key, 1), s)`` and the epoch.
    """
    runs = grid.table()
    n_classes, d_in = data.n_classes, data.d_in
    if max(grid.k) > n_classes:
        raise ValueError(f"k = {max(grid.k)} exceeds the {n_classes} output rows")
    cold = runs["target"].to_numpy() == "one_cold"
    seeds = runs["seed"].to_numpy().astype(np.int32)
    init_keys = jax.vmap(lambda s: jax.random.fold_in(jax.random.fold_in(key, 0), s))(jnp.asarray(seeds))
    params = jax.vmap(lambda kk, k, m: init_params(kk, d_in, setup.hidden, n_classes, setup.sw, k, m))(
        init_keys, jnp.asarray(runs["k"].to_numpy()), jnp.asarray(runs["mu"].to_numpy(), dtype=jnp.float32))
    idx, mask = batch_plan(len(data.x_train), setup.batch_size, setup.epochs, grid.n_seeds,
                           key=jax.random.fold_in(key, 1))
    params = fit(params, data.x_train, data.y_train, n_classes, setup, idx, mask, seeds, cold)
    acc, loss = evaluate(params, data.x_test, data.y_test, n_classes, cold)
    return runs.assign(test_accuracy=acc, test_loss=loss)


def summarize(runs: pd.DataFrame) -> pd.DataFrame:
    """Per (target, k, mu): mean, std and standard error of the test accuracy over seeds, and the
    paired effect of the breaking: accuracy minus that of the unbroken run (k = 0, same target and
    seed), with its standard error over seeds and t = mean / stderr."""
    base = runs[runs["k"] == 0].groupby(["target", "seed"])["test_accuracy"].first().rename("baseline")
    if base.empty:
        raise ValueError("the grid needs k = 0 (the unbroken baseline)")
    df = runs.join(base, on=["target", "seed"])
    df["delta"] = df["test_accuracy"] - df["baseline"]
    g = df.groupby(["target", "k", "mu"], sort=True)
    out = g.agg(n_seeds=("seed", "nunique"), acc_mean=("test_accuracy", "mean"), acc_std=("test_accuracy", "std"),
                delta_mean=("delta", "mean"), delta_std=("delta", "std"), loss_mean=("test_loss", "mean")).reset_index()
    root = np.sqrt(out["n_seeds"])
    out["acc_sem"] = out["acc_std"] / root
    out["delta_sem"] = out["delta_std"] / root
    with np.errstate(divide="ignore", invalid="ignore"):
        out["delta_t"] = np.where(out["delta_sem"] > 0, out["delta_mean"] / out["delta_sem"], np.nan)
    return out[["target", "k", "mu", "n_seeds", "acc_mean", "acc_std", "acc_sem", "delta_mean", "delta_std",
                "delta_sem", "delta_t", "loss_mean"]]


def effects(runs: pd.DataFrame, alpha: float = 0.01) -> pd.DataFrame:
    """The claim per target: the effect of breaking, paired by seed against the unbroken run,
    averaged over every broken grid point (k > 0, mu > 0), and at the largest k for each mu > 0
    (the curve against mu); t-test over seeds (n_seeds - 1 dof). ``effect`` is "helps" / "hurts"
    where the two-sided p-value is below ``alpha``, else "none"."""
    from scipy import stats

    base = runs[runs["k"] == 0].groupby(["target", "seed"])["test_accuracy"].first().rename("baseline")
    df = runs.join(base, on=["target", "seed"])
    df["delta"] = df["test_accuracy"] - df["baseline"]
    kmax = df["k"].max()
    regions = [("all broken (k > 0, mu > 0)", None, df[(df["k"] > 0) & (df["mu"] > 0)])]
    regions += [(f"k = {kmax}, mu = {mu:g}", mu, df[(df["k"] == kmax) & (df["mu"] == mu)])
                for mu in sorted(df.loc[df["mu"] > 0, "mu"].unique())]
    rows = []
    for region, mu, part in regions:
        for target, grp in part.groupby("target"):
            per_seed = grp.groupby("seed")["delta"].mean()
            n = len(per_seed)
            mean = per_seed.mean()
            sem = per_seed.std(ddof=1) / np.sqrt(n) if n > 1 else np.nan
            t = mean / sem if sem > 0 else np.nan
            p = 2 * stats.t.sf(abs(t), n - 1) if np.isfinite(t) else np.nan
            effect = "none" if not (np.isfinite(p) and p < alpha) else ("helps" if mean > 0 else "hurts")
            rows.append({"target": target, "region": region, "k": kmax if mu is not None else np.nan,
                         "mu": mu if mu is not None else np.nan, "n_seeds": n,
                         "baseline_acc": base.loc[target].mean(), "delta_mean": mean, "delta_sem": sem,
                         "t": t, "p": p, "effect": effect})
    return pd.DataFrame(rows)
