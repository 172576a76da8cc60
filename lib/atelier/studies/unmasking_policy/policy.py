"""The unmasking policy: a confidence threshold plus one learned transformer layer.

The policy is conditioned on an operating threshold tau (one number per sequence) and its
unmask score at buffer position j is

    score_j = slope * (logit(c_j) - logit(tau)) + residual_j

with c_j the dLLM's confidence, slope > 0 learnable (it sets how sharp the sampled decisions
are; on the log-odds scale they are equally sharp at tau = 0.5 and at tau = 0.999) and
residual_j the output of one pre-norm transformer block (atelier.nn's Block, bidirectional,
rotary positions) over per-position features: confidence, its log-odds / 8, still masked,
progress (env.progress_of), fraction of the buffer still masked, the operating threshold as
logit(tau) / 8 (so that 0.99 and 0.999 are far apart) and the position j / 16.
The residual's head starts at zero, so the untrained policy acting greedily (unmask where
score > 0) IS Fast-dLLM's threshold rule at tau; GRPO can only move it from that front.

Actions are independent Bernoulli draws over the masked positions, with logits the scores
bounded to (-max_logit, max_logit) by a scaled tanh (a monotone map: greedy decisions do not
change) so that sampled exploration never dies out. When none is drawn the policy itself picks
one position to unmask (choose: a draw from a softmax over the masked positions' scores, or their
argmax when greedy), so every step makes progress and which digit comes next is the policy's to
learn (the environment's own fallback, the most confident position, serves other agents).
Sweeping tau over the threshold rule's values traces the policy's accuracy-vs-NFE front with one
policy.
PolicyRule adapts the policy to atelier.diffusion.sample, so the policy and every heuristic run
through the same sampling loop.
"""

from __future__ import annotations

import math

import torch
from torch import nn

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
        """Unmask scores [R, L] (unbounded; meaningful at masked positions) at operating thresholds tau [R]."""
        L = mask.shape[1]
        h = self.embed(features(confidence, mask, progress, tau))  # [R, L, width]
        h = self.block(h, self.rope_cos[:L], self.rope_sin[:L], None, False)
        residual = self.head(self.norm(h)).squeeze(-1)  # [R, L]
        return self.log_slope.exp() * (log_odds(confidence) - log_odds(tau)[:, None]) + residual

    def bounded(self, score: torch.Tensor) -> torch.Tensor:
        """max_logit * tanh(score / max_logit): logits in (-max_logit, max_logit), same sign and order
        (the Bernoulli logits of the unmask decisions)."""
        return self.max_logit * torch.tanh(score / self.max_logit)

    def fallback_logits(self, score: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        """Logits [R, L] of the fallback draw over the masked positions (-inf elsewhere; uniform in a
        row with none): the bounded score relative to the row's best masked score, so the best is
        at 0 and the others within max_logit of it however far below the threshold the whole row
        lies (bounding the scores themselves would flatten a row of unconfident positions into ties
        at -max_logit, and the draw would no longer follow the policy's ranking)."""
        valid = mask | ~mask.any(1, keepdim=True)
        best = score.masked_fill(~valid, -torch.inf).max(1, keepdim=True).values
        relative = self.bounded(torch.where(valid, score - best, torch.zeros_like(score)))
        return relative.masked_fill(~valid, -torch.inf)

    def choose(self, score: torch.Tensor, mask: torch.Tensor, greedy: bool = False,
               generator: torch.Generator | None = None,
               confidence: torch.Tensor | None = None) -> tuple[torch.Tensor, torch.Tensor]:
        """The action at scores [R, L] over the masked positions mask Bool[R, L]: (action, fallback),
        both Bool[R, L].

        Every masked position is unmasked where score > 0 (greedy) or with probability
        sigmoid(bounded(score)). A row that chose nothing unmasks one fallback position: the
        masked position of largest score (greedy) or one drawn from softmax(fallback_logits). The
        policy's own ranking, not the dLLM's confidence, picks it: with the residual at zero the
        score is monotone in the confidence, so the untrained policy falls back on the most
        confident position as the threshold rule does, and a small residual can reorder the
        positions below the threshold (which digit to write next) without having to lift one over
        it. Greedy ties (confidences within EPS of 1 share one clamped log-odds) go to the larger
        confidence [R, L] when it is given.
        """
        if greedy:
            chosen = (score > 0) & mask
        else:
            p = torch.sigmoid(self.bounded(score))
            chosen = (torch.rand(score.shape, generator=generator, device=score.device) < p) & mask
        none = mask.any(1) & ~chosen.any(1)  # [R]
        if greedy:
            ranked = score.masked_fill(~mask, -torch.inf)
            top = ranked == ranked.max(1, keepdim=True).values
            key = torch.zeros_like(score) if confidence is None else confidence.float()
            pick = key.masked_fill(~top, -torch.inf).argmax(1)
        else:
            probs = torch.softmax(self.fallback_logits(score, mask), dim=1)  # rows without a mask: discarded
            pick = torch.multinomial(probs, 1, generator=generator).squeeze(1)
        fallback = torch.zeros_like(mask)
        fallback[none, pick[none]] = True
        return chosen | fallback, fallback

    def log_prob(self, score: torch.Tensor, action: torch.Tensor, mask: torch.Tensor,
                 fallback: torch.Tensor | None = None) -> torch.Tensor:
        """Log-probability of each masked position's decision [R, L] (0 off the mask) under choose():
        a Bernoulli decision per position; at a row's fallback position (fallback Bool[R, L]) the
        Bernoulli decision was no, times the softmax probability of drawing that position."""
        bernoulli_action = action if fallback is None else action & ~fallback
        logp = -nn.functional.binary_cross_entropy_with_logits(self.bounded(score), bernoulli_action.float(),
                                                               reduction="none")
        if fallback is not None:
            drawn = torch.log_softmax(self.fallback_logits(score, mask), dim=1)
            logp = logp + torch.where(fallback, drawn, torch.zeros_like(logp))
        return logp * mask


class PolicyRule:
    """A sample() rule: the policy at operating threshold tau on the buffer columns (from prompt_len on).

    greedy: unmask where score > 0 (evaluation); else draw Bernoulli(sigmoid(bounded score)); a step
    that chose nothing unmasks the policy's fallback position (UnmaskingPolicy.choose). The steps spent in
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
        score = self.policy(conf, mask, progress_of(spent, mask), tau)
        action, _ = self.policy.choose(score, mask, self.greedy, generator, confidence=conf)
        unmask = torch.zeros_like(active)
        unmask[:, self.prompt_len:] = action
        return unmask
