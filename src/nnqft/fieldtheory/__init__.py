"""Field theories built from networks (P3, docs/physics.md sec. 7).

Modules, one concept each:

* ``cosnet``    the cos-network free scalar (two parametrisations), its exact propagator and
                exact finite-width connected 4-pt from parameter space;
* ``blocks``    keyed streaming of per-network statistics into block means;
* ``phi4``      phi^4 theory by deforming the parameter density: box quadrature of int phi^4,
                reweighting with Kish effective sample size, first-order perturbation theory;
* ``locality``  cluster decomposition of connected correlators;
* ``action``    the leading quartic vertex from connected correlators, and conditioning;
* ``os_checks`` Euclidean invariance z-scores and reflection positivity.
"""
