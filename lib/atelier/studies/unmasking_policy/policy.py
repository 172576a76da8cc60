"""The unmasking policy: a confidence threshold plus one learned transformer layer.

The policy is conditioned on an operating threshold tau (one number per sequence) and its
unmask logit at buffer position j is

    logit_j = slope * (logit(c_j) - logit(tau)) + residual_j

with c_j the dLLM's confidence, slope > 0 learnable (it sets how sharp the sampled decisions
are; on the log-odds scale they are equally sharp at tau = 0.5 and at tau = 0.999) and
residual_j the output of one pre-norm transformer block (atelier.nn's Block, bidirectional,
rotary positions) over per-position features: confidence, its log-odds / 8, still masked,
progress (env.progress_of), fraction of the buffer still masked, the operating threshold as
logit(tau) / 8 (so that 0.99 and 0.999 are far apart) and the position j / 16.
The residual's head starts at zero, so the untrained policy acting greedily (unmask where
logit > 0) IS Fast-dLLM's threshold rule at tau; GRPO can only move it from that front. The
logit is bounded to (-max_logit, max_logit) by a scaled tanh (a monotone map: greedy
decisions do not change) so that sampled exploration never dies out.

Actions are independent Bernoulli draws over the masked positions; the environment unmasks the
most confident position when none is drawn, so every step makes progress. Sweeping tau over
the threshold rule's values traces the policy's accuracy-vs-NFE front with one policy.
PolicyRule adapts the policy to atelier.diffusion.sample, so the policy and every heuristic run
through the same sampling loop.
"""

from __future__ import annotations

import math

import torch
from torch import nn

from atelier.diffusion import most_confident
from atelier.nn import TransformerConfig, rope_cache
from atelier.nn.model import Block
from atelier.studies.unmasking_policy.env import progress_of

N_FEATURES = 7
POSITION_SCALE = 16.0  # position feature j / POSITION_SCALE: absolute, so 2x buffers keep the answer's columns
LOGIT_SCALE = 8.0  # log-odds features / LOGIT_SCALE: about [-1, 1] for confidences in [3e-4, 1 - 3e-4]
EPS = 1e-6  # confidences are clamped to [EPS, 1 - EPS] before their log-odds


def log_odds(p: torch.Tensor) -> torch.Tensor:
    return torch.logit(p.float(), eps=EPS)


def features(confidence: torch.Tensor, mask: torch.Tensor, progress: torch.Tensor, tau: torch.Tensor) -> torch.Tensor:
    """[R, L, N_FEATURES] from confidence [R, L] (0 off the mask), mask Bool[R, L], progress [R], tau [R]."""
    R, L = mask.shape
    left = mask.float().mean(1)  # [R]: fraction of the buffer still masked
    position = torch.arange(L, device=mask.device).float() / POSITION_SCALE  # [L]
    per_row = torch.stack([progress.float(), left, log_odds(tau) / LOGIT_SCALE], dim=-1)[:, None, :].expand(R, L, 3)
    conf = confidence * mask
    per_position = torch.stack([conf, log_odds(conf) / LOGIT_SCALE * mask, mask.float()], dim=-1)  # [R, L, 3]
    return torch.cat([per_position, per_row,
                      position[None, :, None].expand(R, L, 1)], dim=-1)


class UnmaskingPolicy(nn.Module):
    def __init__(self, width: int = 32, n_heads: int = 2, max_len: int = 256, slope: float = 2.0,
                 max_logit: float = 5.0):
        super().__init__()
        if not (slope > 0 and max_logit > 0):
            raise ValueError(f"slope={slope} and max_logit={max_logit} must be positive")
        self.max_logit = max_logit
        cfg = TransformerConfig(vocab_size=1, width=width, depth=1, n_heads=n_heads, max_len=max_len,
                                attention="bidirectional")
        self.log_slope = nn.Parameter(torch.tensor(math.log(slope)))
        self.embed = nn.Linear(N_FEATURES, width)
        self.block = Block(cfg, residual_scale=1.0, attention_scale=1 / math.sqrt(cfg.d_head))
        self.norm = nn.RMSNorm(width)
        self.head = nn.Linear(width, 1)
        nn.init.zeros_(self.head.weight)  # residual 0: the policy starts as the threshold rule
        nn.init.zeros_(self.head.bias)
        cos, sin = rope_cache(cfg.d_head, max_len)
        self.register_buffer("rope_cos", cos, persistent=False)
        self.register_buffer("rope_sin", sin, persistent=False)

    def forward(self, confidence: torch.Tensor, mask: torch.Tensor, progress: torch.Tensor,
                tau: torch.Tensor) -> torch.Tensor:
        """Unmask logits [R, L] (meaningful at masked positions) at operating thresholds tau [R]."""
        L = mask.shape[1]
        h = self.embed(features(confidence, mask, progress, tau))  # [R, L, width]
        h = self.block(h, self.rope_cos[:L], self.rope_sin[:L], None, False)
        residual = self.head(self.norm(h)).squeeze(-1)  # [R, L]
        logit = self.log_slope.exp() * (log_odds(confidence) - log_odds(tau)[:, None]) + residual
        return self.max_logit * torch.tanh(logit / self.max_logit)

    def log_prob(self, logits: torch.Tensor, action: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        """Bernoulli log-probability of each masked position's decision [R, L] (0 off the mask)."""
        logp = -nn.functional.binary_cross_entropy_with_logits(logits, action.float(), reduction="none")
        return logp * mask


class PolicyRule:
    """A sample() rule: the policy at operating threshold tau on the buffer columns (from prompt_len on).

    greedy: unmask where logit > 0 (evaluation); else draw Bernoulli(sigmoid(logit)). The most
    confident active position is always included when nothing is chosen. The steps spent in
    the current block are recovered from sample()'s steps_left (it counts down from the
    sequence length T when steps is None).
    """

    def __init__(self, policy: UnmaskingPolicy, prompt_len: int, tau: float = 0.9, greedy: bool = True):
        self.policy, self.prompt_len, self.tau, self.greedy = policy, prompt_len, tau, greedy

    @torch.no_grad()
    def __call__(self, confidence, active, steps_left, generator):
        R, T = confidence.shape
        spent = T - steps_left  # [R]: steps taken in the current block
        mask = active[:, self.prompt_len:]
        conf = confidence[:, self.prompt_len:].clamp(min=0.0)
        tau = torch.full((R,), self.tau, device=confidence.device)
        logits = self.policy(conf, mask, progress_of(spent, mask), tau)
        if self.greedy:
            chosen = logits > 0
        else:
            chosen = torch.rand(logits.shape, generator=generator, device=logits.device) < torch.sigmoid(logits)
        unmask = torch.zeros_like(active)
        unmask[:, self.prompt_len:] = chosen & mask
        none = ~unmask.any(1)
        return unmask | most_confident(confidence, none.long())
