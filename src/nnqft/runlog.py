"""Logging for workflow jobs: progress to the rule's log file and to stderr."""

from __future__ import annotations

import logging
import sys
from pathlib import Path


def to_file(path) -> logging.Logger:
    """Send INFO and above to ``path`` (the rule's log:) and to stderr; return the nnqft logger."""
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    fmt = logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s", "%H:%M:%S")
    handlers = [logging.FileHandler(path, mode="w"), logging.StreamHandler(sys.stderr)]
    root = logging.getLogger()
    root.setLevel(logging.INFO)
    for h in handlers:
        h.setFormatter(fmt)
        root.addHandler(h)
    sys.excepthook = lambda *exc: root.critical("job failed", exc_info=exc)
    # JAX reports at INFO that it found no TPU library on every start: noise, not progress.
    logging.getLogger("jax._src.xla_bridge").setLevel(logging.WARNING)
    return logging.getLogger("nnqft")
