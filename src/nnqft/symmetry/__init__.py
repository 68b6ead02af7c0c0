"""Symmetry via duality (P2, docs/physics.md sec. 8).

If a transformation of the network's inputs or outputs can be absorbed into parameters whose
density is invariant, every correlator is invariant. Modules, one concept each:

* ``groups``      Haar-random SO(d) rotations and Gaussian translations, keyed by JAX keys;
* ``components``  mixed-component correlators E[f_i1(x_a1) ... f_in(x_an)] on super-index
                  multisets and the action of an output rotation on them;
* ``whitening``   step-down (sequential-regression) whitening of correlated block means into
                  independent z-scores, their summaries (KS, chi-square, sigma);
* ``invariance``  the invariance tests (output rotations, input rotations, translations) and
                  their positive controls, as tidy table rows;
* ``training``    P2's symmetry breaking during training (one-hot vs one-cold targets);
* ``imagedata``   the classification data: scikit-learn's digits, local Fashion-MNIST IDX files;
* ``settings``    the ``symmetry`` config section as typed values, with its cross-key rules;
* ``figures``     the stage's figures.
"""
