"""Labelling rules: which training targets the small LM should replace by <call>.

Every rule labels the same number of tokens for a budget b (the fraction of real training
targets): it ranks tokens by a score and labels the top b. The rules differ in the score:

- none: no token (the plain LM);
- loss: the reference SLM's loss L_ref (delegate what is hard to predict);
- rho: Rho-1's excess loss L_ref - L_big, with the bigger model as Rho-1's reference model
  (delegate what the bigger model knows and the small one does not);
- lacy: L_ref restricted to tokens spaCy calls factual (entity, PROPN, NUM, or the head of a
  noun chunk carrying a fact), i.e. "loss in the top q% AND factual" with q set so the labelled
  fraction is b (reconstructed from the paper's description).
"""

from __future__ import annotations

import torch

IGNORE = -100


def top_fraction(score: torch.Tensor, eligible: torch.Tensor, fraction: float,
                 n_reference: int | None = None) -> torch.Tensor:
    """Bool mask of the round(fraction * n_reference) highest scores among eligible positions
    (n_reference defaults to the number of eligible positions; ties broken by position)."""
    if not 0.0 <= fraction <= 1.0:
        raise ValueError(f"fraction={fraction} must be in [0, 1]")
    n = int(eligible.sum()) if n_reference is None else n_reference
    k = min(round(fraction * n), int(eligible.sum()))
    flat = score.masked_fill(~eligible, float("-inf")).flatten()
    mask = torch.zeros_like(flat, dtype=torch.bool)
    mask[flat.topk(k).indices] = True
    return mask.view_as(score)


def call_labels(rule: str, budget: float, loss_ref: torch.Tensor, loss_big: torch.Tensor, valid: torch.Tensor,
                factual: torch.Tensor) -> torch.Tensor:
    """Bool[N, T]: the targets labelled <call> by `rule` at `budget` (see the module docstring)."""
    n = int(valid.sum())
    if rule == "none":
        return torch.zeros_like(valid)
    if rule == "loss":
        return top_fraction(loss_ref, valid, budget)
    if rule == "rho":
        return top_fraction(loss_ref - loss_big, valid, budget)
    if rule == "lacy":
        return top_fraction(loss_ref, valid & factual, budget, n_reference=n)
    raise ValueError(f"unknown labelling rule {rule!r}; valid: none, loss, rho, lacy")


def call_targets(tokens: torch.Tensor, valid: torch.Tensor, labels: torch.Tensor, call_id: int) -> torch.Tensor:
    """Long[N, T] training targets: the next token, <call> in place of a labelled one, IGNORE on padding.
    The input stays the true text, so after a <call> the model reads the delegated token."""
    targets = tokens[:, 1:].masked_fill(labels, call_id)
    return targets.masked_fill(~valid, IGNORE)


def precision_recall(selected: torch.Tensor, positive: torch.Tensor) -> tuple[float, float]:
    """(precision, recall) of a selection against positives (both Bool, same shape)."""
    hits = int((selected & positive).sum())
    return hits / max(int(selected.sum()), 1), hits / max(int(positive.sum()), 1)
