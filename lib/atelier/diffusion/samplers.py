"""Samplers for masked-diffusion models: one loop, pluggable "which positions to unmask" rules.

Every step calls the model once on the examples that still hold a mask token, proposes a token
at each active masked position (argmax, or a draw at `temperature`) with its confidence (the
model's probability of that token), and a rule chooses which proposals to keep:

    ancestral  MDLM: each masked position unmasks with prob (alpha_s - alpha_t) / (1 - alpha_t)
               on the grid t = j / steps (all left at the last step)
    topk       the k most confident per step, or `steps` fixed steps (even split, as LLaDA)
    random     as topk, in uniformly random order
    threshold  Fast-dLLM: every proposal with confidence > tau, and always the most confident
    factor     Fast-dLLM: the n most confident, n the largest with (n + 1)(1 - c_(n)) < factor,
               c sorted descending (at least one)

The two Fast-dLLM rules use the strict inequalities of the paper; its reference code keeps
confidences equal to the bound and, when only the last candidate fails, still takes it.

With block=b the masked span is filled semi-autoregressively: blocks of b positions starting at
each example's first mask are filled one after another (`steps` is then per block), while the
bidirectional model always sees the whole sequence. A rule is any callable
rule(confidence [R, T], active [R, T], steps_left [R], generator) -> Bool[R, T] (see Rule), so
learned unmasking policies plug into the same loop.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import torch

from atelier.diffusion.schedules import Linear, Schedule, get_schedule

METHODS = ("ancestral", "topk", "random", "threshold", "factor")
Rule = Callable[[torch.Tensor, torch.Tensor, torch.Tensor, "torch.Generator | None"], torch.Tensor]


def most_confident(confidence: torch.Tensor, count: torch.Tensor) -> torch.Tensor:
    """Bool[R, T]: the count[r] highest-confidence candidates of each row (-inf = not a candidate)."""
    R, T = confidence.shape
    order = confidence.argsort(dim=1, descending=True)  # [R, T]
    rank = torch.empty_like(order).scatter_(1, order, torch.arange(T, device=order.device).expand(R, T))
    return (rank < count[:, None]) & (confidence > -math.inf)


def top_k_rule(k: int | None = None, steps: int | None = None, random_order: bool = False) -> Rule:
    """k per step, or the even split of each block over `steps` (ceil(left / steps left))."""

    def rule(confidence, active, steps_left, generator):
        if random_order:
            noise = torch.rand(confidence.shape, device=confidence.device, generator=generator)
            confidence = noise.masked_fill(~active, -math.inf)
        if k is not None:
            count = torch.full_like(steps_left, k)
        else:
            count = (active.sum(1) + steps_left - 1).div(steps_left, rounding_mode="floor")  # ceil division
        return most_confident(confidence, count)

    return rule


def threshold_rule(tau: float) -> Rule:
    def rule(confidence, active, steps_left, generator):
        first = most_confident(confidence, torch.ones_like(steps_left))
        return first | (active & (confidence > tau))

    return rule


def factor_rule(factor: float) -> Rule:
    def rule(confidence, active, steps_left, generator):
        sorted_conf = confidence.sort(dim=1, descending=True).values  # [R, T], -inf last
        n = torch.arange(1, confidence.shape[1] + 1, device=confidence.device)  # [T]: rank n of c_(n)
        passes = (n + 1) * (1 - sorted_conf) < factor  # increasing in n, so the passes form a prefix
        count = passes.long().cumprod(dim=1).sum(1).clamp(min=1)  # [R]
        return most_confident(confidence, count)

    return rule


def ancestral_rule(steps: int, schedule: Schedule) -> Rule:
    def rule(confidence, active, steps_left, generator):
        t = steps_left / steps  # [R]
        s = (steps_left - 1) / steps
        p_unmask = (schedule.alpha(s) - schedule.alpha(t)) / (1 - schedule.alpha(t))  # 1 at the last step
        u = torch.rand(active.shape, device=active.device, generator=generator)
        return active & (u < p_unmask[:, None])

    return rule


def make_rule(method: str, steps: int | None = None, k: int | None = None, tau: float = 0.9, factor: float = 1.0,
              schedule: Schedule | str | None = None) -> Rule:
    """The rule for a method name, with its settings checked."""
    if method not in METHODS:
        raise ValueError(f"method={method!r}: valid methods are {METHODS} (or a rule callable)")
    if method in ("topk", "random"):
        if (k is None) == (steps is None):
            raise ValueError(f"method={method!r} needs exactly one of k (per step) or steps, got k={k}, steps={steps}")
        if k is not None and k < 1:
            raise ValueError(f"k={k} must be a positive int")
        return top_k_rule(k, steps, random_order=method == "random")
    if method == "threshold":
        if not 0.0 <= tau <= 1.0:
            raise ValueError(f"tau={tau} must lie in [0, 1]")
        return threshold_rule(tau)
    if method == "factor":
        if not factor > 0:
            raise ValueError(f"factor={factor} must be positive")
        return factor_rule(factor)
    if steps is None:
        raise ValueError("method='ancestral' needs steps")
    if isinstance(schedule, str):
        schedule = get_schedule(schedule)
    return ancestral_rule(steps, schedule or Linear())


def propose(model, x: torch.Tensor, active: torch.Tensor, mask_id: int, temperature: float = 0.0, generator=None):
    """Proposed tokens and their confidences at the active positions of x [R, T]: (tokens Long[R, T]
    equal to x off the active set, confidence [R, T] with -inf off the active set). The mask token
    itself is never proposed."""
    if hasattr(model, "features") and hasattr(model, "unembed"):
        logits = model.unembed(model.features(x)[active])  # [N, V]: only where tokens are proposed
    else:
        logits = model(x)[active]
    logits = logits.float()
    logits[:, mask_id] = -math.inf
    if temperature > 0:
        probs = torch.softmax(logits / temperature, dim=-1)
        drawn = torch.multinomial(probs, 1, generator=generator).squeeze(1)  # [N]
    else:
        drawn = logits.argmax(dim=-1)
    conf = torch.softmax(logits, dim=-1).gather(1, drawn[:, None]).squeeze(1)  # [N]
    tokens = x.clone()
    tokens[active] = drawn
    confidence = torch.full(x.shape, -math.inf, device=x.device).masked_scatter(active, conf)
    return tokens, confidence


@torch.no_grad()
def sample(model, prompt: torch.Tensor, *, mask_id: int, method: str | Rule = "topk", steps: int | None = None,
           temperature: float = 0.0, k: int | None = None, tau: float = 0.9, factor: float = 1.0,
           block: int | None = None, schedule: Schedule | str | None = None,
           generator: torch.Generator | None = None) -> tuple[torch.Tensor, torch.Tensor]:
    """Fill every mask_id position of prompt Long[B, T]; returns (tokens [B, T], nfe Long[B]).

    The model is called as is (a Transformer with its own cfg.attention, so build it
    bidirectional). nfe[b] counts the model calls example b took part in (an example leaves the
    batch once it holds no mask). steps is the number of steps per block (of the whole masked
    span when block is None); callable methods receive steps_left counted from `steps`, or from T
    when steps is None. schedule (ancestral only, default linear) is a Schedule or its name.
    """
    if block is not None and block < 1:
        raise ValueError(f"block={block} must be a positive int or None")
    if steps is not None and steps < 1:
        raise ValueError(f"steps={steps} must be a positive int")
    if temperature < 0:
        raise ValueError(f"temperature={temperature} must be >= 0")
    rule = method if callable(method) else make_rule(method, steps, k, tau, factor, schedule)
    x = prompt.clone()
    B, T = x.shape
    masked = x == mask_id
    first = masked.long().argmax(dim=1)  # [B]: each example's first masked position
    block_id = torch.arange(T, device=x.device)[None, :] - first[:, None]  # [B, T]
    block_id = torch.zeros_like(block_id) if block is None else block_id.div(block, rounding_mode="floor")
    steps_per_block = steps or T
    current = torch.full((B,), -1, device=x.device)  # block being filled
    steps_left = torch.zeros(B, dtype=torch.long, device=x.device)
    nfe = torch.zeros(B, dtype=torch.long, device=x.device)
    while masked.any():
        todo = masked.any(dim=1).nonzero().squeeze(1)  # [R]: examples still holding a mask
        bid = block_id.masked_fill(~masked, T).min(dim=1).values  # [B]: lowest block with a mask
        steps_left = torch.where(bid != current, steps_per_block, steps_left)  # a new block restarts
        current = bid
        active = masked & (block_id == bid[:, None])  # [B, T]
        tokens, confidence = propose(model, x[todo], active[todo], mask_id, temperature, generator)
        unmask = rule(confidence, active[todo], steps_left[todo], generator) & active[todo]
        x[todo] = torch.where(unmask, tokens, x[todo])
        nfe[todo] += 1
        steps_left[todo] -= 1
        masked = x == mask_id
        if int(nfe.max()) > T * steps_per_block:
            raise RuntimeError(f"sampling rule {method!r} stopped unmasking: {int(masked.sum())} masks left "
                               f"after {int(nfe.max())} steps")
    return x, nfe
