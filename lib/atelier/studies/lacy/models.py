"""The small and the bigger LM: build, train on the corpus (targets may hold <call>), score."""

from __future__ import annotations

import torch
from torch.utils.data import DataLoader

from atelier.nn import Transformer, TransformerConfig
from atelier.train import NextTokenLoss, TrainConfig, fit


def make_lm(vocab_size: int, width: int, depth: int, seq_len: int, seed: int) -> Transformer:
    """A causal transformer with heads of width 32, seeded initialisation."""
    torch.manual_seed(seed)
    cfg = TransformerConfig(vocab_size=vocab_size, width=width, depth=depth, n_heads=max(width // 32, 1),
                            max_len=seq_len + 64)
    return Transformer(cfg)


def train_lm(model: Transformer, tokens: torch.Tensor, targets: torch.Tensor, steps: int, batch_size: int,
             lr: float, seed: int, name: str, run_dir=None) -> Transformer:
    """Train on (inputs tokens[:, :-1], targets) with next-token cross-entropy; returns the model."""
    examples = [{"tokens": x, "targets": y} for x, y in zip(tokens[:, :-1], targets)]
    loader = DataLoader(examples, batch_size=batch_size, shuffle=True, drop_last=True,
                        generator=torch.Generator().manual_seed(seed))
    config = TrainConfig(steps=steps, lr=lr, warmup_steps=max(steps // 20, 1), schedule="cosine",
                         min_lr_factor=0.1, weight_decay=0.1, seed=seed, log_every=max(steps // 20, 1))
    return fit(config, model, NextTokenLoss(), train=loader, run_dir=run_dir, name=name).model.eval()


@torch.no_grad()
def token_losses(model: Transformer, tokens: torch.Tensor, valid: torch.Tensor, batch_size: int = 256
                 ) -> tuple[torch.Tensor, torch.Tensor]:
    """(loss [N, T], wrong [N, T]): each target's cross-entropy and whether the argmax misses it
    (targets are tokens[:, 1:]; both 0 / False where not valid)."""
    objective = NextTokenLoss()
    model.eval()
    losses, wrong = [], []
    for x, v in zip(tokens.split(batch_size), valid.split(batch_size)):
        targets = x[:, 1:].masked_fill(~v, objective.ignore_index)
        batch = {"tokens": x[:, :-1], "targets": targets}
        losses.append(objective.per_token(model, batch))
        wrong.append((model(x[:, :-1]).argmax(-1) != x[:, 1:]) & v)
    return torch.cat(losses), torch.cat(wrong)
