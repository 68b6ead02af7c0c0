"""nnqft: ensembles, exact theory and effective field theory of random neural networks.

Moments and every derived statistic are computed in float64; JAX's 64-bit mode is therefore
switched on for the whole package. Sampling dtypes are always passed explicitly.
"""

import jax

jax.config.update("jax_enable_x64", True)

__version__ = "0.1.0"
