"""Domain weights of a target known from a few samples, by nearest-neighbour histograms.

The paper clusters sentence embeddings into domains and describes a target dataset by the
histogram of its samples over those clusters. Here the domains are real datasets, so each
domain's cluster is a set of labelled reference sequences: a target sample votes for the
domains of its k nearest references (cosine similarity of MiniLM embeddings), and the
estimated h is the mean of the votes over the samples. The soup is then instantiated at
that h, with no training.
"""

from __future__ import annotations

import numpy as np
import torch


def knn_histogram(samples: torch.Tensor, references: torch.Tensor, labels: torch.Tensor, n_domains: int,
                  k: int) -> np.ndarray:
    """Estimated domain weights [n_domains] of a target.

    samples [m, d] and references [r, d] are unit-norm embeddings; labels Long[r] the reference
    domains. Each sample gives weight 1/k to the domain of each of its k nearest references.
    """
    if not 1 <= k <= references.shape[0]:
        raise ValueError(f"k={k} neighbours must be in [1, {references.shape[0]}] (the number of references)")
    nearest = (samples @ references.T).topk(k, dim=1).indices  # [m, k]
    votes = torch.bincount(labels[nearest].flatten(), minlength=n_domains).double()  # [n_domains]
    return (votes / votes.sum()).numpy()


def draw_samples(blocks: dict[str, torch.Tensor], h: np.ndarray, n: int, rng: np.random.Generator):
    """n sequences from mixture h: (Long[n, T] tokens, domain index of each [n])."""
    domain = rng.choice(len(h), size=n, p=h)
    names = list(blocks)
    rows = [blocks[names[d]][rng.integers(blocks[names[d]].shape[0])] for d in domain]
    return torch.stack(rows), domain
