"""The anharmonic-oscillator stage (docs/physics.md sec. 12): exact, lattice and network values of the
same observables in the same box, their extrapolations, and the summary table.

Observables at each coupling and box V = [-T/2, T/2] (times centred on 0):
* ``G2(s)``: <phi(s/2) phi(-s/2)>, for each separation s (G2(0) is <phi^2>);
* ``G4c(t1,t2,t3,t4)``: the connected 4-pt at the configured times (coincident and separated);
* ``gap_eff(s1,s2)``: log(G2(s1) / G2(s2)) / (s2 - s1), the gap read from the decay of G2; its exact
  value is the same function of the exact G2 (the table also gives the true gap E_1 - E_0).
Every Monte Carlo value carries a block-jackknife error (``nnqft.fieldtheory.hmc``).

Extrapolations are weighted least-squares fits linear in the regulators: the lattice in a^2 (its
errors are O(a^2)), the network in (1/N, 1/Lambda) jointly over the width sweep at the largest
cutoff and the cutoff sweep at the largest width. The network's G2 first loses the free cos-net's
exact cutoff error G_Lambda(s) - e^{-m s}/(2m) (its 2-pt at every width, ``free_cutoff_error``), which
oscillates like sin(Lambda s)/Lambda^2 and no power series in 1/Lambda fits; what is left, the
interaction's cutoff dependence, starts smoothly at 1/Lambda (the missing modes' share of <phi^2>,
-1/(pi m Lambda), in every tadpole). gap_eff is formed from the corrected G2.
"""

from __future__ import annotations

import logging
from typing import NamedTuple

import numpy as np
import pandas as pd

from nnqft import blocks, correlators, estimators
from nnqft.fieldtheory import aho, cosnet, hmc, lattice, netsampler, phi4

log = logging.getLogger(__name__)


class Observables(NamedTuple):
    """The measured times and, per observable, where it reads them."""

    separations: tuple
    four_point: tuple
    gap_separations: tuple

    @property
    def times(self) -> np.ndarray:
        pts = [s / 2 for s in self.separations] + [-s / 2 for s in self.separations]
        pts += [t for q in self.four_point for t in q]
        return np.unique(np.round(np.asarray(pts, dtype=np.float64), 12))

    def _index(self, times) -> list:
        return [int(np.argmin(np.abs(self.times - t))) for t in times]

    @property
    def pairs(self) -> np.ndarray:
        return np.array([self._index([s / 2, -s / 2]) for s in self.separations])

    @property
    def quads(self) -> np.ndarray:
        return np.array([self._index(q) for q in self.four_point])

    @property
    def labels(self) -> list:
        s1, s2 = self.gap_separations
        return ([f"G2({s:g})" for s in self.separations] + ["G4c(" + ",".join(f"{t:g}" for t in q) + ")"
                                                              for q in self.four_point] + [f"gap_eff({s1:g},{s2:g})"])

    @property
    def kinds(self) -> list:
        """``G2``, ``G4c`` or ``gap_eff`` per observable."""
        return [label.split("(")[0] for label in self.labels]

    def check(self) -> None:
        if any(s not in self.separations for s in self.gap_separations) or len(self.gap_separations) != 2 \
                or self.gap_separations[0] >= self.gap_separations[1]:
            raise ValueError(f"gap_separations {self.gap_separations} must be two increasing entries of "
                             f"separations {self.separations}")
        if any(len(q) != 4 for q in self.four_point):
            raise ValueError(f"four_point {self.four_point}: each entry needs four times")

    def combine(self, g2, c4):
        """Observable vector from G2 on ``separations`` and G4_c on ``four_point`` (leading axes broadcast)."""
        s1, s2 = self.gap_separations
        i1, i2 = self.separations.index(s1), self.separations.index(s2)
        with np.errstate(invalid="ignore"):  # NaN where G2(s2) <= 0: the decay is below the noise
            gap = np.log(g2[..., i1] / g2[..., i2]) / (s2 - s1)
        return np.concatenate([g2, c4, gap[..., None]], axis=-1)


def _statistic(obs: Observables, g2_shifts: np.ndarray):
    p = len(obs.times)
    i2 = correlators.multiset_position(p, obs.pairs)
    i4 = correlators.multiset_position(p, obs.quads)

    def stat(m2, m4):
        c4 = correlators.cumulants_from_moments({2: m2, 4: m4}, p, 4)[..., i4]
        g2 = m2[..., i2]
        return np.stack([obs.combine(g2 - shift, c4) for shift in g2_shifts], axis=-2)

    return stat


def chain_estimates(chains: hmc.Chains, obs: Observables, blocks_per_chain: int, g2_shifts=None):
    """(values, stderr), each (K, n_observables), and the chains' diagnostics. Row k forms every
    observable from G2 lowered by ``g2_shifts[k]`` (K x separations; default one row of zeros): a known
    shift goes in before gap_eff is formed, so its jackknife error stays right."""
    shifts = np.zeros((1, len(obs.separations))) if g2_shifts is None else np.atleast_2d(g2_shifts)
    m2, m4 = hmc.block_moments(chains.phi, blocks_per_chain)
    values, stderr = estimators.jackknife(_statistic(obs, shifts), m2, m4)
    diag = hmc.diagnostics(np.concatenate([hmc.pair_products(chains.phi, obs.pairs), chains.action[..., None]], -1))
    return values, stderr, diag


# ---------------------------------------------------------------------------------------------
# Exact and first order


def exact_values(spec: aho.Spectrum, box: float, obs: Observables) -> np.ndarray:
    moment = lambda t: aho.box_moment(spec, t, box)  # noqa: E731
    g2 = np.array([moment([s / 2, -s / 2]) for s in obs.separations])
    c4 = np.array([aho.connected_4pt(moment, q) for q in obs.four_point])
    return obs.combine(g2, c4)


def line_values(spec: aho.Spectrum, obs: Observables) -> np.ndarray:
    g2 = aho.line_propagator(spec, obs.separations)
    c4 = np.array([aho.connected_4pt(lambda t: aho.line_moment(spec, t), q) for q in obs.four_point])
    return obs.combine(g2, c4)


def first_order_values(coupling: float, mass: float, box: float, obs: Observables) -> np.ndarray:
    """Free values plus the first-order shifts of sec. 7 (G = e^{-m|t|}/(2m)), through ``combine``."""
    g2 = np.array([aho.free_propagator(s, mass) + aho.first_order_2pt_shift(s / 2, -s / 2, coupling, mass, box)
                   for s in obs.separations])
    c4 = np.array([aho.first_order_4pt(q, coupling, mass, box) for q in obs.four_point])
    return obs.combine(g2, c4)


def exact_table(mass: float, couplings, boxes, obs: Observables, tol: float) -> pd.DataFrame:
    """Exact box and line values, first-order values, E_0, gap and the truncation study per (lambda, box)."""
    rows = []
    for lam in couplings:
        for box in boxes:
            spec, k, change = aho.converged_spectrum(mass, lam, box, list(obs.separations), list(obs.four_point),
                                                     tol=tol)
            rows.append(pd.DataFrame(dict(
                **{"lambda": lam}, box=box, observable=obs.labels, exact=exact_values(spec, box, obs),
                exact_line=line_values(spec, obs), first_order=first_order_values(lam, mass, box, obs),
                E0=spec.ground_energy, E0_first_order=aho.first_order_ground_energy(lam, mass), gap=spec.gap,
                n_levels=k, truncation_change=change)))
    return pd.concat(rows, ignore_index=True)


# ---------------------------------------------------------------------------------------------
# Samplers


def _diagnostic_row(chains: hmc.Chains, diag: hmc.Diagnostics) -> dict:
    return dict(step_size=float(chains.step_size.mean()), acceptance=float(chains.acceptance.mean()), tau_max=float(diag.tau.max()),
                ess_min=float(diag.ess.min()), rhat_max=float(diag.rhat.max()), seconds=chains.seconds,
                ess_per_second=float(diag.ess.min() / chains.seconds))


def lattice_runs(mass: float, couplings, boxes, spacings, obs: Observables, settings: hmc.ChainSettings,
                 seed: int, prng: str):
    """Lattice HMC at every (lambda, box, a): (values table, sampler table). Stream per run:
    ("aho/lattice", "box=T", "a=a", "lambda=l")."""
    values, samplers = [], []
    for box in boxes:
        for a in spacings:
            lat = lattice.Lattice(mass, a, box)
            for lam in couplings:
                key = blocks.stream(seed, prng, "aho/lattice", f"box={box:g}", f"a={a:g}", f"lambda={lam:g}")
                chains = hmc.run(lattice.logdensity, lattice.measure, lattice.model_data(lat, lam, obs.times),
                                 lat.n_sites, settings, key=key)
                (v,), (se,), diag = chain_estimates(chains, obs, settings.blocks_per_chain)
                tag = dict(method="lattice", **{"lambda": lam}, box=box, spacing=a)
                values.append(pd.DataFrame(dict(tag, observable=obs.labels, kind=obs.kinds, value=v, stderr=se)))
                samplers.append(dict(tag, **_diagnostic_row(chains, diag)))
                log.info("lattice %s: %s", tag, samplers[-1])
    return pd.concat(values, ignore_index=True), pd.DataFrame(samplers)


def free_cutoff_error(separations, mass: float, cutoff: float) -> np.ndarray:
    """G_Lambda(s) - e^{-m s}/(2m) at each separation: the free cos-net's 2-pt minus the continuum one.

    Exact at every width N (the cos-net's 2-pt is the cutoff propagator, sec. 7), and
    = -(1/pi) int_Lambda^inf cos(p s)/(p^2 + m^2) dp ~ -sin(Lambda s)/(pi Lambda^2 s) for s > 0."""
    s = np.asarray(separations, dtype=np.float64)
    return cosnet.propagator(s, 1, mass, cutoff) - aho.free_propagator(s, mass)


def network_grid(widths, cutoffs) -> list:
    """(N, Lambda) runs: the width sweep at the largest cutoff and the cutoff sweep at the largest width."""
    n_max, c_max = max(widths), max(cutoffs)
    return sorted({(int(n), float(c_max)) for n in widths} | {(int(n_max), float(c)) for c in cutoffs})


def quadrature_nodes(cutoff: float, box: float, extra: int) -> int:
    """Gauss-Legendre nodes for int_V phi^4: phi^4 has bandwidth 4 Lambda, and an n-node rule on a box
    of length T integrates e^{i k y} to round-off once n exceeds k T / 4 by a margin: n = ceil(Lambda T) + extra."""
    return int(np.ceil(cutoff * box)) + int(extra)


def network_runs(mass: float, parametrisation: str, couplings, box: float, widths, cutoffs, obs: Observables,
                 settings: hmc.ChainSettings, extra_nodes: int, reweighting_draws: int, seed: int, prng: str):
    """Network HMC at every (lambda, N, Lambda) of ``network_grid``: (values table, sampler table with
    reweighting's Kish ESS fraction beside each run). The values table has each observable as measured
    (value, stderr) and with G2 less ``free_cutoff_error`` (corrected, corrected_stderr), which the
    extrapolation fits. Streams: ("aho/network", parametrisation, "N=..", "cutoff=..", "lambda=..") for
    the chains, ("aho/reweighting", ...) for the free draws."""
    values, samplers = [], []
    for width, cutoff in network_grid(widths, cutoffs):
        shifts = np.stack([np.zeros(len(obs.separations)), free_cutoff_error(obs.separations, mass, cutoff)])
        net = cosnet.CosNet(1, mass, cutoff, width, parametrisation)
        quad = phi4.gauss_box(1, box / 2, quadrature_nodes(cutoff, box, extra_nodes))
        path = (parametrisation, f"N={width}", f"cutoff={cutoff:g}", f"box={box:g}")
        kish = netsampler.reweighting_ess(net, quad, couplings, reweighting_draws,
                                          key=blocks.stream(seed, prng, "aho/reweighting", *path))
        for lam, ess_fraction in zip(couplings, kish):
            key = blocks.stream(seed, prng, "aho/network", *path, f"lambda={lam:g}")
            chains = hmc.run(netsampler.logdensity, netsampler.measure, netsampler.model_data(net, quad, lam, obs.times),
                             3 * width, settings, key=key)
            v, se, diag = chain_estimates(chains, obs, settings.blocks_per_chain, shifts)
            tag = dict(method=f"network_{parametrisation}", **{"lambda": lam}, box=box, N=width, cutoff=cutoff)
            values.append(pd.DataFrame(dict(tag, observable=obs.labels, kind=obs.kinds, value=v[0], stderr=se[0],
                                            corrected=v[1], corrected_stderr=se[1])))
            samplers.append(dict(tag, **_diagnostic_row(chains, diag), kish_ess_fraction=float(ess_fraction),
                                 quadrature_nodes=len(quad.axes[0])))
            log.info("network %s: %s", tag, samplers[-1])
    return pd.concat(values, ignore_index=True), pd.DataFrame(samplers)


# ---------------------------------------------------------------------------------------------
# Extrapolation and the summary table


def linear_extrapolation(x, y, stderr):
    """Weighted least squares y = c0 + x @ c: (c0, its standard error, chi^2 per degree of freedom).

    x (k, p) regulators (a^2, or 1/N and 1/Lambda); a column without spread is dropped (that
    regulator stays at its one value); with as many points as parameters the fit is exact and the
    chi^2 per dof is reported as 0."""
    x = np.asarray(x, dtype=np.float64).reshape(len(y), -1)
    x = x[:, np.ptp(x, axis=0) > 0]  # a regulator held fixed in this sweep is not extrapolated
    design = np.column_stack([np.ones(len(x)), x])
    w = 1.0 / np.asarray(stderr, dtype=np.float64)
    if len(x) < design.shape[1]:
        raise ValueError(f"{len(x)} points cannot fix {design.shape[1]} extrapolation parameters")
    cov = np.linalg.inv((design * w[:, None] ** 2).T @ design)
    coef = cov @ (design * w[:, None] ** 2).T @ np.asarray(y, dtype=np.float64)
    dof = len(x) - design.shape[1]
    chi2 = float(np.sum(((design @ coef - y) * w) ** 2) / dof) if dof else 0.0
    return float(coef[0]), float(np.sqrt(cov[0, 0])), chi2


def _extrapolated(values: pd.DataFrame, regulators) -> pd.DataFrame:
    """One extrapolated row per (method, lambda, box, observable), fitted to the corrected values."""
    rows = []
    for key, g in values.groupby(["method", "lambda", "box", "observable"], sort=False):
        c0, se, chi2 = linear_extrapolation(regulators(g), g["corrected"].to_numpy(), g["corrected_stderr"].to_numpy())
        rows.append(dict(zip(["method", "lambda", "box", "observable"], key), setting="extrapolated",
                         value=c0, stderr=se, corrected=c0, corrected_stderr=se, chi2_dof=chi2))
    return pd.DataFrame(rows)


def summary_table(exact: pd.DataFrame, lattice_values: pd.DataFrame, network_values) -> pd.DataFrame:
    """``aho.csv``: every value per setting (as measured, and corrected: what the extrapolation fits; the
    lattice's are its measured values) and extrapolated, with the exact and first-order values,
    z = (value - exact) / stderr and each fit's chi^2 per degree of freedom."""
    lat = lattice_values.assign(setting=[f"a={a:g}" for a in lattice_values["spacing"]], chi2_dof=0.0,
                                corrected=lattice_values["value"], corrected_stderr=lattice_values["stderr"])
    parts = [lat, _extrapolated(lat, lambda g: g[["spacing"]].to_numpy() ** 2)]
    for net in network_values:
        parts.append(net.assign(setting=[f"N={n},Lambda={c:g}" for n, c in zip(net["N"], net["cutoff"])], chi2_dof=0.0))
        parts.append(_extrapolated(net, lambda g: np.column_stack([1.0 / g["N"], 1.0 / g["cutoff"]])))
    cols = ["method", "lambda", "box", "observable", "setting", "value", "stderr", "corrected", "corrected_stderr",
            "chi2_dof"]
    table = pd.concat([p[cols] for p in parts], ignore_index=True)
    table = table.merge(exact[["lambda", "box", "observable", "exact", "exact_line", "first_order"]],
                        on=["lambda", "box", "observable"], how="left", validate="many_to_one")
    return table.assign(kind=table["observable"].str.split("(").str[0],  # also for tables read back from CSV
                        z=(table["value"] - table["exact"]) / table["stderr"],
                        z_first_order=(table["value"] - table["first_order"]) / table["stderr"])
