"""A second-order Markov chain over a small vocabulary: synthetic text whose entropy is known.

Each pair of previous tokens (a, b) has its own next-token distribution P[a, b, :], drawn
from a sparse Dirichlet so that a model that reads two tokens of context can predict much
better than one that reads only the last token. Because the chain is known exactly, so are
the best achievable losses:

- entropy rate  H2 = sum_ab pi(a, b) H(P[a, b, :])       (the floor for positions t >= 2),
- first-order   H1 = H(x_t | x_(t-1)) under pi              (the best any bigram model can do),

with pi the stationary distribution of the pair chain (a, b) -> (b, c). A sequence starts
from pi, so every position is stationary and the best mean next-token loss over a sequence
of length T is (H1 + (T - 2) H2) / (T - 1): the first target has only one token of context.
"""

from __future__ import annotations

import dataclasses

import numpy as np
import torch
from torch.utils.data import Dataset


def _entropy(p: np.ndarray, axis: int = -1) -> np.ndarray:
    """Shannon entropy in nats along ``axis`` (0 log 0 = 0)."""
    return -np.sum(np.where(p > 0, p * np.log(np.where(p > 0, p, 1.0)), 0.0), axis=axis)


@dataclasses.dataclass(frozen=True)
class MarkovChain:
    """Transition tensor ``P[a, b, c] = p(x_t = c | x_(t-2) = a, x_(t-1) = b)``, shape [V, V, V]."""

    P: np.ndarray

    @classmethod
    def random(cls, vocab_size: int, concentration: float, seed: int) -> "MarkovChain":
        """Rows drawn from Dirichlet(concentration); smaller concentration = sparser, lower entropy."""
        if vocab_size < 2 or concentration <= 0:
            raise ValueError(f"need vocab_size >= 2 and concentration > 0, got {vocab_size}, {concentration}")
        rng = np.random.default_rng(seed)
        P = rng.dirichlet(np.full(vocab_size, concentration), size=(vocab_size, vocab_size))
        return cls(P / P.sum(-1, keepdims=True))

    @property
    def vocab_size(self) -> int:
        return self.P.shape[0]

    def pair_stationary(self, tol: float = 1e-13, max_iter: int = 100_000) -> np.ndarray:
        """pi [V, V]: the stationary distribution of consecutive pairs (x_(t-1), x_t).

        Power iteration of the pair chain (a, b) -> (b, c), which has probability P[a, b, c].
        """
        V = self.vocab_size
        pi = np.full((V, V), 1.0 / V**2)
        for _ in range(max_iter):
            new = np.einsum("ab,abc->bc", pi, self.P)
            if np.abs(new - pi).sum() < tol:
                return new
            pi = new
        raise RuntimeError(f"pair chain did not mix in {max_iter} steps (tolerance {tol})")

    def entropy_rate(self) -> float:
        """H2 = H(x_t | x_(t-2), x_(t-1)) in nats."""
        return float(np.sum(self.pair_stationary() * _entropy(self.P)))

    def first_order_entropy(self) -> float:
        """H1 = H(x_t | x_(t-1)) in nats: the floor of a predictor that sees one token."""
        joint = self.pair_stationary()[:, :, None] * self.P  # p(a, b, c) [V, V, V]
        bc = joint.sum(0)  # p(x_(t-1) = b, x_t = c)
        return float(_entropy(bc.ravel()) - _entropy(bc.sum(1)))

    def sequence_floor(self, seq_len: int) -> float:
        """Best mean next-token loss over a sequence of ``seq_len`` tokens started from pi."""
        return (self.first_order_entropy() + (seq_len - 2) * self.entropy_rate()) / (seq_len - 1)

    def sample(self, n: int, seq_len: int, generator: torch.Generator | None = None) -> torch.Tensor:
        """``n`` sequences Long[n, seq_len] started from pi, by inverse-CDF sampling."""
        V = self.vocab_size
        pi = torch.as_tensor(self.pair_stationary().ravel())
        cdf = torch.as_tensor(np.cumsum(self.P, -1)).view(V * V, V)  # [V*V, V]
        u = torch.rand(seq_len, n, 1, generator=generator, dtype=torch.float64)  # one uniform per draw
        tokens = torch.empty(n, seq_len, dtype=torch.long)
        first = torch.multinomial(pi, n, replacement=True, generator=generator)  # pair index a*V + b
        tokens[:, 0], tokens[:, 1] = first // V, first % V
        for t in range(2, seq_len):  # sequential by nature; vectorised over the n sequences
            rows = cdf[tokens[:, t - 2] * V + tokens[:, t - 1]]  # [n, V]
            tokens[:, t] = torch.searchsorted(rows, u[t]).squeeze(1).clamp(max=V - 1)
        return tokens


class SequenceDataset(Dataset):
    """Fixed token sequences served as dict items ``{"tokens": Long[T]}``."""

    def __init__(self, tokens: torch.Tensor):
        self.tokens = tokens

    def __len__(self) -> int:
        return len(self.tokens)

    def __getitem__(self, i: int) -> dict:
        return {"tokens": self.tokens[i]}
