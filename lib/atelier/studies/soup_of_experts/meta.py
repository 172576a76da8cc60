"""The meta-distribution over domain weights: a sparse Dirichlet on the simplex.

Each draw picks ``support`` of the n domains uniformly at random and puts Dirichlet(concentration)
weights on them, zero elsewhere: most draws are specialists of one to a few domains, and the
mean over draws is the uniform mixture (the generalist's). The soup is trained on such draws
and evaluated on fresh ones (held-out h).
"""

from __future__ import annotations

import numpy as np


class SparseDirichlet:
    """Domain weights h [n_domains] with ``support`` non-zero entries, Dirichlet on the support."""

    def __init__(self, n_domains: int, support: int, concentration: float = 1.0):
        if not 1 <= support <= n_domains:
            raise ValueError(f"support={support} must be in [1, n_domains={n_domains}]")
        if concentration <= 0:
            raise ValueError(f"concentration={concentration} must be > 0")
        self.n_domains, self.support, self.concentration = n_domains, support, concentration

    def __call__(self, rng: np.random.Generator) -> np.ndarray:
        """One draw h [n_domains] (float64, sums to 1)."""
        h = np.zeros(self.n_domains)
        on = rng.choice(self.n_domains, size=self.support, replace=False)
        h[on] = rng.dirichlet(np.full(self.support, self.concentration))
        return h

    def sample(self, n: int, seed: int) -> np.ndarray:
        """n independent draws [n, n_domains] from a generator seeded by ``seed``."""
        rng = np.random.default_rng(seed)
        return np.stack([self(rng) for _ in range(n)])


class Fixed:
    """The degenerate meta-distribution that always returns h (generalist, specialists)."""

    def __init__(self, h):
        h = np.asarray(h, dtype=np.float64)
        if h.ndim != 1 or (h < 0).any() or not np.isclose(h.sum(), 1.0):
            raise ValueError(f"h={h.tolist()} must be a vector of non-negative weights summing to 1")
        self.h = h

    def __call__(self, rng: np.random.Generator) -> np.ndarray:
        return self.h
