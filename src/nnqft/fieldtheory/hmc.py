"""Hamiltonian Monte Carlo through blackjax, and the statistics of its chains (docs/physics.md sec. 12).

One runner serves both samplers of the anharmonic-oscillator stage: the lattice field and the
cos-net's parameters. Both are written in *whitened* coordinates z, in which the free (lambda = 0)
law is the standard normal, so the log-density is -|z|^2/2 - (lambda/4!) S(z): at lambda = 0 HMC
with unit mass matrix samples exactly, and the interaction is the only thing the step size must
resolve (the Fourier acceleration of lattice practice, here for every mode at once).

Each chain starts at a draw of the free law, adapts its step size during a warmup and then runs
a fixed number of HMC transitions with jittered step sizes (``run`` says why). Only the field at the measurement
times is kept, plus the action, so memory does not grow with the dimension.

Errors: each chain is cut into equal consecutive blocks; the block means of the products of field
values are treated as independent (``estimators.jackknife`` for connected correlators). That is
honest when a block spans many integrated autocorrelation times, which is reported beside it.
"""

from __future__ import annotations

import functools
import time
from typing import Callable, NamedTuple

import jax
import jax.numpy as jnp
import numpy as np

from nnqft import correlators


class ChainSettings(NamedTuple):
    """How the chains run: chains, warmup (step-size adaptation, discarded) and kept transitions,
    leapfrog steps per transition, the initial step size, the acceptance rate the adaptation aims at,
    and blocks per chain for the errors."""

    n_chains: int
    n_warmup: int
    n_samples: int
    n_steps: int
    step_size: float
    target_acceptance: float = 0.8
    blocks_per_chain: int = 5

    def check(self) -> None:
        if self.n_chains < 2 or self.n_warmup < 1 or self.n_steps < 1 or not self.step_size > 0:
            raise ValueError(f"need n_chains >= 2, n_warmup >= 1, n_steps >= 1, step_size > 0; got {self}")
        if not 0 < self.target_acceptance < 1:
            raise ValueError(f"target_acceptance = {self.target_acceptance} must lie in (0, 1)")
        if self.n_samples % self.blocks_per_chain or self.n_samples < 2 * self.blocks_per_chain:
            raise ValueError(f"n_samples = {self.n_samples} must be a multiple of blocks_per_chain = "
                             f"{self.blocks_per_chain} with at least 2 samples per block")


class Chains(NamedTuple):
    """Kept states of all chains: the field at the measurement times (C, S, P) and the action
    (C, S), float64; per chain the adapted step size and the mean acceptance rate after warmup;
    seconds of sampling (warmup included, compilation excluded)."""

    phi: np.ndarray
    action: np.ndarray
    step_size: np.ndarray
    acceptance: np.ndarray
    seconds: float


def _chains(init, keys, data, *, logdensity, measure, settings):
    """All chains: adaptive warmup, then kept transitions; see ``run``."""
    import blackjax  # here, not at the top: importing blackjax starts JAX's backend (runlog.limit_jax_cpu_threads)

    da_init, da_update, da_final = blackjax.adaptation.step_size.dual_averaging_adaptation(settings.target_acceptance)

    def density(z):
        return logdensity(z, data)

    def transition(carry, inputs):
        # one scan body for warmup and kept transitions (one traced HMC kernel: half the compilation)
        state, da = carry
        key, warming = inputs
        k_jitter, k_step = jax.random.split(key)
        step = jnp.where(warming, jnp.exp(da.log_step_size), da_final(da))
        step = step * jax.random.uniform(k_jitter, minval=0.8, maxval=1.2, dtype=jnp.float64)
        state, info = blackjax.hmc(density, step, jnp.ones_like(init[0]), settings.n_steps).step(k_step, state)
        updated = da_update(da, info.acceptance_rate)
        da = jax.tree_util.tree_map(lambda new, old: jnp.where(warming, new, old), updated, da)
        return (state, da), (measure(state.position, data), info.acceptance_rate)

    def one_chain(z0, key):
        n = settings.n_warmup + settings.n_samples
        warming = jnp.arange(n) < settings.n_warmup
        carry = (blackjax.hmc.init(z0, density), da_init(settings.step_size))
        (_, da), ((phi, action), accept) = jax.lax.scan(transition, carry, (jax.random.split(key, n), warming))
        keep = slice(settings.n_warmup, None)
        return phi[keep], action[keep], da_final(da), accept[keep].mean()

    # chains side by side (vmap): a few seconds more compilation than lax.map, but small models
    # (the lattice) then cost one chain's time for all of them
    return jax.vmap(one_chain)(init, keys)


@functools.lru_cache(maxsize=32)
def _compiled(logdensity, measure, settings, dim, key_dtype, data_tree, data_leaves):
    """The compiled sampler for one model and one shape of its data: couplings and other values
    in ``data`` change without recompiling."""
    fn = functools.partial(_chains, logdensity=logdensity, measure=measure, settings=settings)
    init = jax.ShapeDtypeStruct((settings.n_chains, dim), jnp.float64)
    keys = jax.ShapeDtypeStruct((settings.n_chains,), key_dtype)
    data = jax.tree_util.tree_unflatten(data_tree, [jax.ShapeDtypeStruct(s, d) for s, d in data_leaves])
    return jax.jit(fn).lower(init, keys, data).compile()


def run(logdensity: Callable, measure: Callable, data, dim: int, settings: ChainSettings, *, key) -> Chains:
    """Sample ``logdensity(z, data)`` over whitened z in R^dim with ``settings.n_chains`` chains.

    ``measure(z, data) -> (phi at the measurement times (P,), action S)`` is kept for every state
    after the warmup. Both must be module-level functions (they key the compilation cache).
    Each chain starts at a draw of the free law N(0, 1). Every transition is blackjax's HMC with
    unit mass matrix, ``n_steps`` leapfrog steps and the step size times a uniform factor in
    [0.8, 1.2]: the jitter keeps the trajectory length off the free law's period 2 pi, where HMC
    with a fixed length would return near its start (resonance). During the warmup blackjax's dual
    averaging moves the step size from ``step_size`` towards ``target_acceptance`` (one rule for
    every coupling: strong couplings stiffen the density and get smaller steps by themselves); the
    kept transitions use its final value.
    """
    settings.check()
    data = jax.tree_util.tree_map(jnp.asarray, data)
    leaves, tree = jax.tree_util.tree_flatten(data)
    k_init, k_run = jax.random.split(key)
    init = jax.random.normal(k_init, (settings.n_chains, dim), dtype=jnp.float64)
    keys = jax.random.split(k_run, settings.n_chains)
    compiled = _compiled(logdensity, measure, settings, int(dim), keys.dtype, tree,
                         tuple((tuple(x.shape), x.dtype) for x in leaves))
    start = time.perf_counter()
    phi, action, step, accept = jax.block_until_ready(compiled(init, keys, data))
    seconds = time.perf_counter() - start
    return Chains(np.asarray(phi, np.float64), np.asarray(action, np.float64), np.asarray(step),
                  np.asarray(accept), seconds)


# ---------------------------------------------------------------------------------------------
# Statistics of the chains


def block_moments(phi: np.ndarray, blocks_per_chain: int):
    """Block means of the products of field values on every multiset of 2 and 4 of the P times:
    (m2 (B, T2), m4 (B, T4)) with B = chains x blocks_per_chain, accumulated in float64."""
    c, s, p = phi.shape
    blocks = np.asarray(phi, np.float64).reshape(c * blocks_per_chain, s // blocks_per_chain, p)
    t2, t4 = correlators.multisets(p, 2), correlators.multisets(p, 4)
    m2 = blocks[..., t2].prod(axis=-1).mean(axis=1)
    m4 = blocks[..., t4].prod(axis=-1).mean(axis=1)
    return m2, m4


class Diagnostics(NamedTuple):
    """Per-observable effective sample size, integrated autocorrelation time (in transitions)
    and rank-normalised split R-hat (Vehtari et al. 2021), from blackjax.diagnostics."""

    ess: np.ndarray
    tau: np.ndarray
    rhat: np.ndarray


def diagnostics(samples: np.ndarray) -> Diagnostics:
    """``samples`` (C, S, K): K scalar observables per state."""
    import blackjax  # see _chains

    c, s, _ = samples.shape
    x = jnp.asarray(samples)
    ess = np.asarray(blackjax.diagnostics.effective_sample_size(x, chain_axis=0, sample_axis=1))
    rhat = np.asarray(blackjax.diagnostics.rhat(x, chain_axis=0, sample_axis=1))
    return Diagnostics(ess, c * s / ess, rhat)


def pair_products(phi: np.ndarray, pairs) -> np.ndarray:
    """phi(t_i) phi(t_j) per state for each pair: (C, S, len(pairs)), the 2-pt's sample values."""
    pairs = np.asarray(pairs)
    return phi[..., pairs[:, 0]] * phi[..., pairs[:, 1]]
