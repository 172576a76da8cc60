"""The unmasking policy: one transformer layer over per-position features of the buffer.

Per buffer position the features are the dLLM's confidence (0 where already unmasked), whether
the position is still masked, the progress (env.progress_of) and the fraction of the buffer
still masked. A linear map lifts them to `width`, one pre-norm transformer block (atelier.nn's Block,
bidirectional, rotary positions so the layer sees relative offsets and not the buffer length)
mixes them, and a linear head gives one logit per position: the log-odds of unmasking it now,
bounded to (-max_logit, max_logit) by a scaled tanh so that exploration never dies out and a
logit offset beyond the bound reaches every trade-off (one token per step to all at once).

Actions are independent Bernoulli draws over the masked positions; the environment unmasks the
most confident position when none is drawn, so every step makes progress. For evaluation the
policy acts deterministically: unmask where logit + offset > 0, the offset sweeping the
accuracy-vs-NFE trade-off. PolicyRule adapts the policy to atelier.diffusion.sample, so the
policy and every heuristic run through the same sampling loop.
"""

from __future__ import annotations

import math

import torch
from torch import nn

from atelier.diffusion import most_confident
from atelier.nn import TransformerConfig, rope_cache
from atelier.nn.model import Block
from atelier.studies.unmasking_policy.env import progress_of

N_FEATURES = 4


def features(confidence: torch.Tensor, mask: torch.Tensor, progress: torch.Tensor) -> torch.Tensor:
    """[R, L, N_FEATURES] from confidence [R, L] (0 off the mask), mask Bool[R, L], progress [R]."""
    R, L = mask.shape
    left = mask.float().mean(1)  # [R]: fraction of the buffer still masked
    return torch.stack([confidence * mask, mask.float(), progress[:, None].expand(R, L).float(),
                        left[:, None].expand(R, L)], dim=-1)


class UnmaskingPolicy(nn.Module):
    def __init__(self, width: int = 32, n_heads: int = 2, max_len: int = 256, init_logit: float = -2.0,
                 max_logit: float = 5.0):
        super().__init__()
        if not abs(init_logit) < max_logit:
            raise ValueError(f"init_logit={init_logit} must lie inside (-max_logit, max_logit) = ({-max_logit}, {max_logit})")
        self.max_logit = max_logit
        cfg = TransformerConfig(vocab_size=1, width=width, depth=1, n_heads=n_heads, max_len=max_len,
                                attention="bidirectional")
        self.embed = nn.Linear(N_FEATURES, width)
        self.block = Block(cfg, residual_scale=1.0, attention_scale=1 / math.sqrt(cfg.d_head))
        self.norm = nn.RMSNorm(width)
        self.head = nn.Linear(width, 1)
        nn.init.zeros_(self.head.weight)
        nn.init.constant_(self.head.bias, max_logit * math.atanh(init_logit / max_logit))  # start cautious
        cos, sin = rope_cache(cfg.d_head, max_len)
        self.register_buffer("rope_cos", cos, persistent=False)
        self.register_buffer("rope_sin", sin, persistent=False)

    def forward(self, confidence: torch.Tensor, mask: torch.Tensor, progress: torch.Tensor) -> torch.Tensor:
        """Unmask logits [R, L] (meaningful at masked positions)."""
        L = mask.shape[1]
        h = self.embed(features(confidence, mask, progress))  # [R, L, width]
        h = self.block(h, self.rope_cos[:L], self.rope_sin[:L], None, False)
        return self.max_logit * torch.tanh(self.head(self.norm(h)).squeeze(-1) / self.max_logit)

    def log_prob(self, logits: torch.Tensor, action: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        """Bernoulli log-probability of each masked position's decision [R, L] (0 off the mask)."""
        logp = -nn.functional.binary_cross_entropy_with_logits(logits, action.float(), reduction="none")
        return logp * mask


class PolicyRule:
    """A sample() rule: the policy on the buffer columns (from prompt_len on) of each row.

    greedy: unmask where logit + offset > 0 (evaluation); else draw Bernoulli(sigmoid(logit +
    offset)). The most confident active position is always included when nothing is chosen.
    The steps spent in the current block are recovered from sample()'s steps_left (it counts
    down from the sequence length T when steps is None).
    """

    def __init__(self, policy: UnmaskingPolicy, prompt_len: int, offset: float = 0.0, greedy: bool = True):
        self.policy, self.prompt_len, self.offset, self.greedy = policy, prompt_len, offset, greedy

    @torch.no_grad()
    def __call__(self, confidence, active, steps_left, generator):
        T = confidence.shape[1]
        spent = T - steps_left  # [R]: steps taken in the current block
        mask = active[:, self.prompt_len:]
        conf = confidence[:, self.prompt_len:].clamp(min=0.0)
        logits = self.policy(conf, mask, progress_of(spent, mask)) + self.offset
        if self.greedy:
            chosen = logits > 0
        else:
            chosen = torch.rand(logits.shape, generator=generator, device=logits.device) < torch.sigmoid(logits)
        unmask = torch.zeros_like(active)
        unmask[:, self.prompt_len:] = chosen & mask
        none = ~unmask.any(1)
        return unmask | most_confident(confidence, none.long())
