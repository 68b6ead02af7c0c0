"""nnqft: ensembles, exact theory and effective field theory of random neural networks.

Moments and every derived statistic are computed in float64, so JAX's 64-bit mode is on for the
whole package. It is switched on without importing JAX here: plotting and table jobs never
need JAX, and its import costs them about a second. Sampling dtypes are always passed explicitly.
"""

import os
import sys

if "jax" in sys.modules:  # imported before nnqft: its config is already read
    sys.modules["jax"].config.update("jax_enable_x64", True)
else:  # read by JAX when it is first imported
    os.environ["JAX_ENABLE_X64"] = "1"

__version__ = "0.1.0"
