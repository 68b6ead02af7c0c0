"""Classification data for the training experiment: scikit-learn's digits, local Fashion-MNIST.

P2 trained on Fashion-MNIST, which cannot be downloaded here; scikit-learn ships the 8x8
handwritten digits (1797 images, 10 classes, 64 inputs). A user who has Fashion-MNIST's four IDX
files (the original ``train-images-idx3-ubyte`` etc., optionally gzipped) in a directory can
point the workflow at it. Pixels are scaled to [0, 1] in both cases.
"""

from __future__ import annotations

import gzip
import struct
from dataclasses import dataclass
from pathlib import Path

import jax
import numpy as np

# IDX type codes (http://yann.lecun.com/exdb/mnist/): data are big-endian.
IDX_TYPES = {0x08: ">u1", 0x09: ">i1", 0x0B: ">i2", 0x0C: ">i4", 0x0D: ">f4", 0x0E: ">f8"}
FASHION_FILES = {
    "x_train": "train-images-idx3-ubyte",
    "y_train": "train-labels-idx1-ubyte",
    "x_test": "t10k-images-idx3-ubyte",
    "y_test": "t10k-labels-idx1-ubyte",
}


@dataclass(frozen=True)
class Dataset:
    """Inputs (n, d_in) float32 in [0, 1] and integer labels (n,), split into train and test."""

    name: str
    x_train: np.ndarray
    y_train: np.ndarray
    x_test: np.ndarray
    y_test: np.ndarray

    def __post_init__(self):
        for x, y, split in ((self.x_train, self.y_train, "train"), (self.x_test, self.y_test, "test")):
            if x.ndim != 2 or y.shape != (x.shape[0],):
                raise ValueError(f"{self.name} {split}: inputs {x.shape} and labels {y.shape} do not match")

    @property
    def d_in(self) -> int:
        return self.x_train.shape[1]

    @property
    def n_classes(self) -> int:
        return int(max(self.y_train.max(), self.y_test.max())) + 1


def _open(path: Path):
    return gzip.open(path, "rb") if path.suffix == ".gz" else open(path, "rb")


def read_idx(path) -> np.ndarray:
    """Read an IDX file (optionally gzipped): magic 0x0000 | type | ndim, ndim big-endian uint32
    sizes, then the data in big-endian order."""
    path = Path(path)
    with _open(path) as fh:
        header = fh.read(4)
        if len(header) != 4 or header[:2] != b"\x00\x00":
            raise ValueError(f"{path}: not an IDX file (magic {header!r})")
        code, ndim = header[2], header[3]
        if code not in IDX_TYPES:
            raise ValueError(f"{path}: unknown IDX type code 0x{code:02x}; known {sorted(IDX_TYPES)}")
        shape = struct.unpack(f">{ndim}I", fh.read(4 * ndim))
        dtype = np.dtype(IDX_TYPES[code])
        data = np.frombuffer(fh.read(), dtype=dtype)
    if data.size != int(np.prod(shape)):
        raise ValueError(f"{path}: header promises shape {shape}, file holds {data.size} values")
    return data.reshape(shape).astype(dtype.newbyteorder("="))


def write_idx(path, array) -> None:
    """Write an array as an IDX file (gzipped if the name ends in .gz)."""
    array = np.asarray(array)
    codes = {np.dtype(v).newbyteorder("="): k for k, v in IDX_TYPES.items()}
    code = codes.get(array.dtype.newbyteorder("="))
    if code is None:
        raise ValueError(f"dtype {array.dtype} has no IDX type code")
    path = Path(path)
    payload = bytes([0, 0, code, array.ndim]) + struct.pack(f">{array.ndim}I", *array.shape)
    payload += array.astype(IDX_TYPES[code]).tobytes()
    with (gzip.open(path, "wb") if path.suffix == ".gz" else open(path, "wb")) as fh:
        fh.write(payload)


def _find(directory: Path, stem: str) -> Path:
    for name in (stem, stem + ".gz", stem.replace("-idx", ".idx"), stem.replace("-idx", ".idx") + ".gz"):
        if (directory / name).exists():
            return directory / name
    raise FileNotFoundError(f"{directory}: no {stem}[.gz] (Fashion-MNIST needs {sorted(FASHION_FILES.values())})")


def fashion_mnist(directory) -> Dataset:
    """Fashion-MNIST (or MNIST) from its four IDX files in ``directory``: images flattened and
    scaled to [0, 1], the official train/test split."""
    directory = Path(directory)
    if not directory.is_dir():
        raise FileNotFoundError(f"Fashion-MNIST directory {directory} does not exist")
    arrays = {k: read_idx(_find(directory, stem)) for k, stem in FASHION_FILES.items()}
    for split in ("train", "test"):
        x, y = arrays[f"x_{split}"], arrays[f"y_{split}"]
        if x.ndim != 3 or y.ndim != 1 or len(x) != len(y):
            raise ValueError(f"{directory}: {split} images {x.shape} and labels {y.shape} do not match")
    scale = lambda x: (x.reshape(len(x), -1) / 255.0).astype(np.float32)  # noqa: E731
    return Dataset("fashion_mnist", scale(arrays["x_train"]), arrays["y_train"].astype(np.int32),
                   scale(arrays["x_test"]), arrays["y_test"].astype(np.int32))


def digits(test_fraction: float, *, key) -> Dataset:
    """scikit-learn's 8x8 digits, pixels / 16, split into train and test by a keyed permutation."""
    from sklearn.datasets import load_digits

    if not 0 < test_fraction < 1:
        raise ValueError(f"test_fraction must lie in (0, 1), got {test_fraction}")
    bunch = load_digits()
    x = (bunch.data / 16.0).astype(np.float32)
    y = bunch.target.astype(np.int32)
    order = np.asarray(jax.random.permutation(key, len(x)))
    n_test = int(round(test_fraction * len(x)))
    test, train = order[:n_test], order[n_test:]
    return Dataset("digits", x[train], y[train], x[test], y[test])
