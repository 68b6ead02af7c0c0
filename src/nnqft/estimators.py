"""Statistics of ensemble estimates from equal-size blocks of networks.

The ensemble engine stores, for each block of networks, the block mean of every product of
outputs. All error bars derive from those block means (batch means), which are
independent draws of the same law, so nothing here needs the raw networks.
"""

from __future__ import annotations

import numpy as np


def mean_and_stderr(block_means: np.ndarray, axis: int = 0):
    """Grand mean and its batch-means standard error along ``axis`` (equal block sizes)."""
    b = block_means.shape[axis]
    if b < 2:
        raise ValueError("a standard error needs at least two blocks")
    mean = block_means.mean(axis=axis)
    stderr = block_means.std(axis=axis, ddof=1) / np.sqrt(b)
    return mean, stderr


def chunk_background(block_means: np.ndarray, n_chunks: int, axis: int = 0):
    """P1's background: the standard deviation over ``n_chunks`` equal chunks of the chunk means.

    It measures the noise of one chunk (P1: 10 chunks of 10^5 networks), so it is
    sqrt(n_chunks) times larger than the standard error of the full-ensemble mean.
    """
    b = block_means.shape[axis]
    if n_chunks < 2 or b % n_chunks:
        raise ValueError(f"{b} blocks cannot be grouped into {n_chunks} equal chunks")
    moved = np.moveaxis(block_means, axis, 0)
    chunks = moved.reshape(n_chunks, b // n_chunks, *moved.shape[1:]).mean(axis=1)
    return chunks.std(axis=0, ddof=1)


def jackknife(statistic, *block_means: np.ndarray, axis: int = 0):
    """Estimate and delete-one-block jackknife standard error of a smooth function of means.

    ``statistic`` maps grand means (block axis removed) to an array; it must broadcast over a
    new leading axis, which carries the leave-one-out replicas.
    """
    moved = [np.moveaxis(m, axis, 0) for m in block_means]
    b = moved[0].shape[0]
    full = [m.mean(axis=0) for m in moved]
    loo = [(m.sum(axis=0)[None] - m) / (b - 1) for m in moved]
    estimate = np.asarray(statistic(*full))
    replicas = np.asarray(statistic(*loo))
    stderr = np.sqrt((b - 1) / b * np.sum((replicas - replicas.mean(axis=0)) ** 2, axis=0))
    return estimate, stderr
