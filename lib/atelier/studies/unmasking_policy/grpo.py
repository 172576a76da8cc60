"""GRPO (Shao et al. 2024) for the unmasking policy, on the batched environment.

Each iteration draws P prompts of the training tasks, gives each an operating threshold tau
drawn from `taus` (the policy is conditioned on it, so one policy learns the whole front), and
runs G episodes of each (R = P * G rows in one UnmaskingVecEnv) with actions drawn from the
current policy, recording every step's observation and action. Advantages are normalised
within each prompt's group (same prompt, same tau),

    A_i = (R_i - mean_group R) / (std_group R + eps)   (GRPO), or  A_i = R_i - mean_group R  (Dr. GRPO),

so no value function is needed. With the std, a group whose answers are all correct turns its
tiny speed bonus lambda * (NFE differences) / L into unit advantages, whatever lambda is, and
pushes the policy to unmask everything at once; centring alone keeps lambda's trade-off. The
loss is PPO's clipped surrogate on every decision a row took while it was running (each masked
position of each step is one Bernoulli decision, and a step that drew nothing adds the draw of
its fallback position, UnmaskingPolicy.choose; all with the episode's advantage): the episode's
log-probability is the sum over its decisions, and the sum over the batch is divided by the
batch's decision count (a constant), for a few epochs per batch of rollouts.

The reward's trade-off lambda can be one number or tied to each group's threshold
(tied_lambda: the reward under which the threshold rule at tau is the myopic optimum), and
rewards are divided by their maximum 1 + lambda so that groups of every tau weigh alike. An
optional penalty kl * KL(policy || the policy before training) anchors the policy to the
threshold rule, as GRPO anchors a language model to its reference model.
"""

from __future__ import annotations

import copy
import dataclasses

import polars as pl
import torch
from torch.distributions import Bernoulli, kl_divergence

from atelier.studies.unmasking_policy import data
from atelier.studies.unmasking_policy.config import ADVANTAGES
from atelier.studies.unmasking_policy.env import UnmaskingVecEnv
from atelier.studies.unmasking_policy.policy import UnmaskingPolicy


@dataclasses.dataclass
class Rollouts:
    """R episodes as stacked steps: S = the longest episode."""

    confidence: torch.Tensor  # [S, R, L]
    mask: torch.Tensor  # Bool[S, R, L]: masked positions at each step (all False once a row is done)
    progress: torch.Tensor  # [S, R]
    tau: torch.Tensor  # [R]: operating threshold of each row
    action: torch.Tensor  # Bool[S, R, L]
    logp: torch.Tensor  # [S, R, L]: log-probability of each decision under the acting policy
    fallback: torch.Tensor  # Bool[S, R, L]: the position a row fell back on when it drew nothing (policy.choose)
    reward: torch.Tensor  # [R]
    nfe: torch.Tensor  # Long[R]


def group_advantages(reward: torch.Tensor, group: int, scale: str = "std", eps: float = 1e-6) -> torch.Tensor:
    """[R] rewards of consecutive groups of `group` rows -> R - group mean, divided by (group std + eps)
    when scale is "std" (GRPO) and not when it is "centre" (Dr. GRPO, Liu et al. 2025: a group whose
    rewards differ only by a small speed bonus then gets small advantages, not unit ones)."""
    if scale not in ADVANTAGES:
        raise ValueError(f"scale={scale!r}: valid values are {ADVANTAGES}")
    r = reward.view(-1, group)  # [P, G]
    centred = r - r.mean(1, keepdim=True)
    return (centred / (r.std(1, keepdim=True, unbiased=False) + eps) if scale == "std" else centred).view(-1)


def tied_lambda(tau: torch.Tensor, buffer: int) -> torch.Tensor:
    """[R] reward trade-offs lambda = buffer * (1 - tau) for operating thresholds tau [R].

    Unmasking a position with confidence c one step early risks an error with chance 1 - c and
    saves one call, worth lambda / buffer of reward: the myopic rule is to unmask when
    1 - c < lambda / buffer, the threshold rule at tau. With this lambda the threshold rule is
    (to first order) optimal among thresholds at its own tau, so GRPO cannot gain by sliding
    along the threshold front, only by beating it (joint, non-myopic, task-aware decisions)."""
    return buffer * (1 - tau)


@torch.no_grad()
def rollout(env: UnmaskingVecEnv, policy: UnmaskingPolicy, prompts: torch.Tensor, tau: torch.Tensor, judge,
            generator=None) -> Rollouts:
    """Run every row of prompts to the end with actions drawn from policy at thresholds tau [R]
    (UnmaskingPolicy.choose: Bernoulli decisions, and a drawn fallback position when none fires)."""
    obs = env.reset(prompts, judge)
    steps, reward = [], torch.zeros(len(prompts))
    while not env.done.all():
        score = policy(obs["confidence"], obs["mask"], obs["progress"], tau)
        action, fallback = policy.choose(score, obs["mask"], generator=generator)
        steps.append((obs["confidence"], obs["mask"], obs["progress"], action,
                      policy.log_prob(score, action, obs["mask"], fallback), fallback))
        obs, r, _ = env.step(action)
        reward += r
    confidence, mask, progress, action, logp, fallback = (torch.stack(t) for t in zip(*steps))
    return Rollouts(confidence, mask, progress, tau, action, logp, fallback, reward, env.nfe.clone())


def bernoulli_kl(logits: torch.Tensor, reference: torch.Tensor) -> torch.Tensor:
    """KL(Bernoulli(sigmoid(logits)) || Bernoulli(sigmoid(reference))), elementwise."""
    return kl_divergence(Bernoulli(logits=logits), Bernoulli(logits=reference))


def clipped_loss(policy: UnmaskingPolicy, batch: Rollouts, advantage: torch.Tensor, clip: float,
                 reference: UnmaskingPolicy | None = None, kl: float = 0.0) -> torch.Tensor:
    """PPO-clip surrogate, negated, plus kl * KL(policy || reference) of the Bernoulli decisions,
    both averaged over the masked decisions of every step."""
    S, R, L = batch.mask.shape
    tau = batch.tau[None].expand(S, R).flatten()  # [S * R]
    inputs = (batch.confidence.flatten(0, 1), batch.mask.flatten(0, 1), batch.progress.flatten(), tau)
    score = policy(*inputs)  # [S * R, L]
    logp = policy.log_prob(score, batch.action.flatten(0, 1), batch.mask.flatten(0, 1),
                           batch.fallback.flatten(0, 1)).view(S, R, L)
    ratio = (logp - batch.logp).exp()
    adv = advantage[None, :, None]  # [1, R, 1]
    objective = torch.minimum(ratio * adv, ratio.clamp(1 - clip, 1 + clip) * adv)
    if kl > 0:
        with torch.no_grad():
            anchor = reference(*inputs)
        objective = objective - kl * bernoulli_kl(policy.bounded(score), policy.bounded(anchor)).view(S, R, L)
    return -(objective * batch.mask).sum() / batch.mask.sum().clamp(min=1)


def train_policy(policy: UnmaskingPolicy, model, difficulties: dict, tasks, *, prompt_len: int, buffer: int,
                 taus, iterations: int, prompts: int, group: int, epochs: int, clip: float, lr: float,
                 reward_lambda: float | None, seed: int, advantage: str = "std", kl: float = 0.0) -> pl.DataFrame:
    """GRPO on the tasks at thresholds drawn from taus; returns the curve (iteration, reward,
    accuracy, nfe, loss) per iteration. reward_lambda None: each row's lambda is tied to its
    threshold, lambda = buffer * (1 - tau) (see tied_lambda). kl > 0 penalises the KL divergence
    from the policy as it was before training (the threshold rule), as GRPO does from its
    reference model: the policy leaves the threshold rule only where that pays."""
    env = UnmaskingVecEnv(model.eval(), prompt_len)
    reference = copy.deepcopy(policy).eval().requires_grad_(False)
    optimizer = torch.optim.Adam(policy.parameters(), lr=lr)
    generator = torch.Generator().manual_seed(seed)
    per_task = max(1, prompts // len(tasks))
    taus = torch.tensor(taus, dtype=torch.float)
    rows = []
    for it in range(iterations):
        frame = data.examples(difficulties, tasks, per_task, seed=10_000 * (seed + 1) + it)
        frame = frame[[i for i in range(len(frame)) for _ in range(group)]]  # [P * G]: each prompt G times in a row
        tau = taus[torch.randint(len(taus), (len(frame) // group,), generator=generator)].repeat_interleave(group)
        env.reward_lambda = tied_lambda(tau, buffer) if reward_lambda is None else torch.full_like(tau, reward_lambda)
        batch = rollout(env, policy, data.masked_prompts(frame, prompt_len, buffer), tau,
                        lambda tokens: data.judge(tokens, frame, prompt_len), generator)
        adv = group_advantages(batch.reward / (1 + env.reward_lambda), group, advantage)  # rewards in [0, 1]
        for _ in range(epochs):
            loss = clipped_loss(policy, batch, adv, clip, reference, kl)
            optimizer.zero_grad()
            loss.backward()
            torch.nn.utils.clip_grad_norm_(policy.parameters(), 1.0)
            optimizer.step()
        correct = batch.reward > 0
        rows.append({"iteration": it, "reward": float(batch.reward.mean()), "accuracy": float(correct.float().mean()),
                     "nfe": float(batch.nfe.float().mean()), "loss": float(loss.detach())})
    policy.eval()
    return pl.DataFrame(rows)
