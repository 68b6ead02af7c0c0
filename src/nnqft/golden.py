"""Golden outputs: a small record of a run's tables and correlator datasets, and the comparison of
another run against it (CI's reproducibility check; ``make golden`` writes the record).

* Tables: every ``results/tables/*.csv``, stored gzipped as written (pandas writes floats with
  repr precision, so the record round-trips exactly).
* Datasets: every variable of every ``results/{correlators,exact}/*.nc``, as its shape, dtype, a
  SHA-256 of its bytes and float64 sums of its values, its squares and its index-weighted values
  (the files themselves differ legitimately: provenance attributes such as ``created``).
* Versions of JAX, NumPy and the platform: on another JAX major.minor, random streams and XLA's
  code may legitimately change, so the comparison reports differences as a warning to review.

Comparison: integers and strings exactly, floats to ``rtol`` (1e-12 by default; both NaN counts
as equal). Wall-clock measurements differ from run to run and are not compared: columns named like
``seconds`` or ``*_per_second``, and the numbers inside a text cell that reports a rate per second. ``python -m nnqft.golden write RESULTS RECORD`` writes, ``compare RESULTS RECORD`` checks.
"""

from __future__ import annotations

import gzip
import hashlib
import io
import json
import platform
import re
import sys
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path

import numpy as np
import pandas as pd

RTOL = 1e-12
TIMED_COLUMN = re.compile(r"(^|_)seconds($|_)|per_second")
TIMED_TEXT = re.compile(r"ESS/s|per second")
NUMBER = re.compile(r"\d+(\.\d+)?(e[+-]?\d+)?")
DATASET_DIRS = ("correlators", "exact")
HINT = ("If the change is intended, run `make golden` and say in the commit message which numbers "
        "moved and why.")


def versions() -> dict:
    out = {pkg: metadata.version(pkg) for pkg in ("jax", "jaxlib", "numpy")}
    return dict(out, python=platform.python_version(), machine=platform.machine(), system=platform.system())


def dataset_digest(path: Path) -> dict:
    """{variable: summary} of every data variable and coordinate of a NetCDF file."""
    import xarray as xr  # here: only the dataset digest needs it

    with xr.open_dataset(path, engine="h5netcdf") as ds:
        out = {}
        for name in sorted(ds.variables):
            values = np.ascontiguousarray(ds[name].values)
            entry = dict(shape=list(values.shape), dtype=str(values.dtype),
                         sha256=hashlib.sha256(values.tobytes()).hexdigest())
            if np.issubdtype(values.dtype, np.number):
                flat = values.astype(np.float64).ravel()
                weights = np.arange(1, flat.size + 1, dtype=np.float64) / max(flat.size, 1)
                with np.errstate(invalid="ignore", over="ignore"):
                    entry.update(sum=float(np.sum(flat)), sum_sq=float(np.sum(flat * flat)),
                                 weighted_sum=float(np.sum(weights * flat)))
            out[name] = entry
        return out


def write(results: Path, record: Path) -> list[str]:
    """Write the record of ``results`` into ``record``; returns one line per file written or replaced."""
    results, record = Path(results), Path(record)
    tables = sorted((results / "tables").glob("*.csv"))
    if not tables:
        raise FileNotFoundError(f"no tables in {results / 'tables'}: run the ci config first")
    (record / "tables").mkdir(parents=True, exist_ok=True)
    said = []
    old = {p.name for p in (record / "tables").glob("*.csv.gz")}
    for path in tables:
        target = record / "tables" / f"{path.name}.gz"
        data = path.read_bytes()
        before = gzip.decompress(target.read_bytes()) if target.exists() else None
        if before != data:
            # mtime=0: the same table gives the same bytes, so an unchanged record stays unchanged in git.
            target.write_bytes(gzip.compress(data, mtime=0))
            said.append(f"{'replaced' if before is not None else 'added'} {target}")
    for name in sorted(old - {f"{p.name}.gz" for p in tables}):
        (record / "tables" / name).unlink()
        said.append(f"removed {record / 'tables' / name}")
    digests = {f"{d}/{p.name}": dataset_digest(p) for d in DATASET_DIRS for p in sorted((results / d).glob("*.nc"))}
    for name, content in (("datasets.json", digests), ("versions.json", versions())):
        text = json.dumps(content, indent=1, sort_keys=True) + "\n"
        path = record / name
        if not path.exists() or path.read_text() != text:
            said.append(f"{'replaced' if path.exists() else 'added'} {path}")
            path.write_text(text)
    return said


@dataclass
class Difference:
    file: str
    what: str

    def __str__(self):
        return f"{self.file}: {self.what}"


def _close(a: np.ndarray, b: np.ndarray, rtol: float) -> np.ndarray:
    both_nan = np.isnan(a) & np.isnan(b)
    with np.errstate(invalid="ignore"):
        return both_nan | (a == b) | (np.abs(a - b) <= rtol * np.maximum(np.abs(a), np.abs(b)))


def _same_text(a: pd.Series, b: pd.Series) -> np.ndarray:
    """Cells equal as text, or missing in both (a missing cell is NaN, which equals nothing)."""
    both_missing = a.isna().to_numpy() & b.isna().to_numpy()
    x, y = np.array([str(u) for u in a], dtype=object), np.array([str(v) for v in b], dtype=object)
    # A cell that reports a rate per second is compared with its numbers masked.
    timed_equal = np.array([bool(TIMED_TEXT.search(u) or TIMED_TEXT.search(v))
                            and NUMBER.sub("#", u) == NUMBER.sub("#", v) for u, v in zip(x, y)], dtype=bool)
    return both_missing | (x == y) | timed_equal


def _plain(value):
    """A numpy scalar as the Python value it holds, so a diff reads 0.34, not np.float64(0.34)."""
    return value.item() if isinstance(value, np.generic) else value


def compare_table(name: str, new: pd.DataFrame, old: pd.DataFrame, rtol: float = RTOL,
                  max_cells: int = 5) -> list[Difference]:
    """Cell-by-cell differences: shape and columns, exact for integers and strings, rtol for floats."""
    if list(new.columns) != list(old.columns):
        return [Difference(name, f"columns {list(new.columns)} != recorded {list(old.columns)}")]
    if len(new) != len(old):
        return [Difference(name, f"{len(new)} rows != recorded {len(old)}")]
    cells, largest = [], 0.0
    for col in new.columns:
        if TIMED_COLUMN.search(col):
            continue
        a, b = new[col], old[col]
        if pd.api.types.is_float_dtype(a) or pd.api.types.is_float_dtype(b):
            if not (pd.api.types.is_numeric_dtype(a) and pd.api.types.is_numeric_dtype(b)):
                ok = _same_text(a, b)
            else:
                x, y = a.to_numpy(np.float64), b.to_numpy(np.float64)
                ok = _close(x, y, rtol)
                with np.errstate(invalid="ignore", divide="ignore"):
                    rel = np.abs(x - y) / np.maximum(np.abs(x), np.abs(y))
                finite = ~ok & np.isfinite(rel)
                if finite.any():
                    largest = max(largest, float(rel[finite].max()))
        else:
            ok = _same_text(a, b)
        for row in np.flatnonzero(~ok):
            cells.append((int(row), col, _plain(a.iloc[row]), _plain(b.iloc[row])))
    if not cells:
        return []
    shown = "; ".join(f"row {r} {c}: {x!r} (recorded {y!r})" for r, c, x, y in cells[:max_cells])
    return [Difference(name, f"{len(cells)} cells differ, largest relative difference {largest:.3g}; first: {shown}")]


def compare_dataset(name: str, new: dict, old: dict, rtol: float = RTOL) -> list[Difference]:
    out = []
    for var in sorted(set(new) | set(old)):
        if var not in new or var not in old:
            out.append(Difference(name, f"variable {var} {'missing' if var not in new else 'not in the record'}"))
            continue
        a, b = new[var], old[var]
        if a["shape"] != b["shape"] or a["dtype"] != b["dtype"]:
            out.append(Difference(name, f"{var}: {a['dtype']}{a['shape']} != recorded {b['dtype']}{b['shape']}"))
        elif a["sha256"] != b["sha256"]:
            stats = [k for k in ("sum", "sum_sq", "weighted_sum") if k in a]
            moved = {k: (a[k], b[k]) for k in stats if not _close(np.float64(a[k]), np.float64(b[k]), rtol)}
            if not stats or moved:
                detail = ", ".join(f"{k} {x!r} (recorded {y!r})" for k, (x, y) in moved.items()) or "bytes differ"
                out.append(Difference(name, f"{var}: {detail}"))
    return out


def compare(results: Path, record: Path, rtol: float = RTOL) -> list[Difference]:
    """Every difference between a run's results and the record (empty when they agree)."""
    results, record = Path(results), Path(record)
    out = []
    recorded = {p.name.removesuffix(".gz") for p in (record / "tables").glob("*.csv.gz")}
    produced = {p.name for p in (results / "tables").glob("*.csv")}
    out += [Difference(f"tables/{n}", "not in this run") for n in sorted(recorded - produced)]
    out += [Difference(f"tables/{n}", "not in the record") for n in sorted(produced - recorded)]
    for name in sorted(recorded & produced):
        old = pd.read_csv(io.BytesIO(gzip.decompress((record / "tables" / f"{name}.gz").read_bytes())))
        out += compare_table(f"tables/{name}", pd.read_csv(results / "tables" / name), old, rtol)
    old_sets = json.loads((record / "datasets.json").read_text())
    new_sets = {f"{d}/{p.name}": p for d in DATASET_DIRS for p in sorted((results / d).glob("*.nc"))}
    out += [Difference(n, "not in this run") for n in sorted(set(old_sets) - set(new_sets))]
    out += [Difference(n, "not in the record") for n in sorted(set(new_sets) - set(old_sets))]
    for name in sorted(set(old_sets) & set(new_sets)):
        out += compare_dataset(name, dataset_digest(new_sets[name]), old_sets[name], rtol)
    return out


def same_jax_minor(record: Path) -> tuple[bool, str]:
    """Whether this JAX has the recorded major.minor version, and a sentence saying which ones."""
    recorded = json.loads((Path(record) / "versions.json").read_text())
    now = versions()
    minor = lambda v: ".".join(v.split(".")[:2])  # noqa: E731
    same = minor(now["jax"]) == minor(recorded["jax"])
    return same, f"record made with jax {recorded['jax']}, numpy {recorded['numpy']}; this run jax {now['jax']}, numpy {now['numpy']}"


def report(differences: list[Difference]) -> str:
    return "\n".join(["outputs differ from the golden record:", *(f"  {d}" for d in differences), HINT])


def main(argv=None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if len(argv) != 3 or argv[0] not in ("write", "compare"):
        print("usage: python -m nnqft.golden {write|compare} RESULTS_DIR RECORD_DIR", file=sys.stderr)
        return 2
    command, results, record = argv
    if command == "write":
        said = write(Path(results), Path(record))
        print("\n".join(said) if said else f"{record} already records these outputs: nothing written")
        return 0
    differences = compare(Path(results), Path(record))
    print(report(differences) if differences else "outputs equal the golden record")
    return 1 if differences else 0


if __name__ == "__main__":
    raise SystemExit(main())
