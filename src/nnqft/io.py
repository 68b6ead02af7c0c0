"""Datasets on disk: provenance attributes and atomic NetCDF writes."""

from __future__ import annotations

import datetime
import os
import subprocess
from importlib import metadata
from pathlib import Path

import xarray as xr
import yaml

_PACKAGES = ("nnqft", "jax", "jaxlib", "numpy", "scipy", "xarray", "pandas")


def _git_revision() -> str:
    try:
        out = subprocess.run(
            ["git", "rev-parse", "HEAD"], capture_output=True, text=True, check=True,
            cwd=Path(__file__).resolve().parent,
        )
        dirty = subprocess.run(
            ["git", "status", "--porcelain", "--untracked-files=no"], capture_output=True, text=True,
            cwd=Path(__file__).resolve().parent,
        ).stdout.strip()
        return out.stdout.strip() + ("+dirty" if dirty else "")
    except (OSError, subprocess.CalledProcessError):
        return "unknown"


def provenance(config: dict, rule: str) -> dict:
    """Attributes that make a dataset traceable: the config part its rule read (``nnqft.params``), the
    seed where it has one, versions, git, rule."""
    versions = {}
    for pkg in _PACKAGES:
        try:
            versions[pkg] = metadata.version(pkg)
        except metadata.PackageNotFoundError:
            versions[pkg] = "absent"
    return {
        "config": yaml.safe_dump(config, sort_keys=True),
        "package_versions": ", ".join(f"{k}={v}" for k, v in versions.items()),
        "git_revision": _git_revision(),
        "rule": rule,
        "created": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
        # Only outputs of random streams have a seed (exact values do not depend on it).
        **({"seed": int(config["seed"])} if "seed" in config else {}),
    }


def write_netcdf(ds: xr.Dataset, path) -> None:
    """Write to a temporary sibling and rename, so an interrupted job never leaves a partial file."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp{os.getpid()}")
    try:
        ds.to_netcdf(tmp, engine="h5netcdf")
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)


def read_netcdf(path) -> xr.Dataset:
    """Load a dataset fully into memory (and close the file)."""
    with xr.open_dataset(path, engine="h5netcdf") as ds:
        return ds.load()


def write_table(df, path) -> None:
    """CSV written atomically, like the datasets."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp{os.getpid()}")
    try:
        df.to_csv(tmp, index=False)
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)
