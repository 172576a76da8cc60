"""atelier: a notebook-driven workbench that reproduces ten studies on training language models.

The package is thin on purpose: notebooks wire experiments together, and everything worth
testing (models, objectives, data, kernels, reports) lives in these subpackages.
"""

__version__ = "0.1.0"
