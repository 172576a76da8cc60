"""Study 04's knobs. Defaults are the cpu preset; PRESETS hold what smoke and gpu change."""

from __future__ import annotations

import dataclasses
from typing import ClassVar

from atelier.data.tasks import TASKS
from atelier.studies.config import StudyConfig

# atelier.data.tasks' tasks and the study's own (data.STUDY_TASKS; the runner loads this module alone)
ALL_TASKS = (*TASKS, "prefix_sum", "agreement")
ADVANTAGES = ("std", "centre")  # GRPO's group advantages: (R - mean) / std, or R - mean (Dr. GRPO)


@dataclasses.dataclass(frozen=True)
class Config(StudyConfig):
    # the tasks: answers of fixed length in a buffer of `buffer` positions (answer, then eos)
    train_tasks: tuple[str, ...] = ("addition", "sorting")  # the policy's domain (and the dLLMs')
    # the held-out task: learnt by the dLLMs, never seen by the policy; data.STUDY_TASKS' agreement (any digit n times:
    # the rules differ on it) at cpu, prefix_sum (running sums: the order matters) at gpu
    ood_task: str = "agreement"
    difficulties: dict = dataclasses.field(
        default_factory=lambda: {"addition": 4, "sorting": 4, "agreement": 5})  # answers of 5, 7, 5 tokens
    task_weights: dict = dataclasses.field(
        default_factory=lambda: {"addition": 4, "sorting": 1, "agreement": 1})  # shares of each dLLM batch
    buffer: int = 8  # generation length L; transfer doubles it
    # the dLLMs (bidirectional, masked diffusion, trained on buffers of L..2L)
    width: int = 64
    depth: int = 2
    head_dim: int = 32
    pos_embedding: bool = True  # learned absolute positions on top of RoPE
    second_width: int = 64  # the second dLLM: another size and seed
    second_depth: int = 2
    dllm_steps: int = 3000
    dllm_batch: int = 64  # sequences per step, split over the tasks by task_weights
    dllm_lr: float = 1e-3
    dllm_warmup: int = 50
    dllm_min_lr: float = 0.5  # final LR as a fraction of the peak (cosine): addition needs many steps at a high LR
    noise_schedule: str = "linear"
    dllm_pass_accuracy: float = 0.5  # a dLLM has learnt its tasks when it answers this share of each (1 token per step)
    dllm_attempts: int = 3  # seeds tried per dLLM before giving up (experiments.train_dllm)
    # the environment and GRPO
    reward_lambda: float = 0.05  # R = correct * (1 + lambda * (1 - NFE / L)) in the gymnasium env (and GRPO if not tied)
    tie_lambda: bool = True  # GRPO: lambda = L * (1 - tau) at operating threshold tau (grpo.tied_lambda)
    grpo_kl: float = 0.0  # GRPO's penalty on KL(policy || the untrained policy, i.e. the threshold rule)
    policy_width: int = 32
    policy_heads: int = 2
    grpo_iterations: int = 2400  # the fallback order is learnt slowly (earlier form: +0.06 points at 600, +0.35 at 2400)
    grpo_prompts: int = 32  # prompts per iteration
    grpo_group: int = 8  # G rollouts per prompt
    grpo_epochs: int = 2  # policy-gradient passes over each batch of rollouts
    grpo_clip: float = 0.2  # PPO ratio clip
    grpo_lr: float = 3e-3
    grpo_advantage: str = "centre"  # group advantages (R - mean) / std ("std", GRPO) or R - mean ("centre", Dr. GRPO)
    policy_slope: float = 2.0  # initial slope of the threshold term slope * (logit(confidence) - logit(tau))
    max_logit: float = 5.0  # logits are bounded to (-max_logit, max_logit)
    # evaluation: accuracy-vs-NFE fronts
    eval_examples: int = 1024  # per task (fronts differ by tenths of a point: 256 is too noisy)
    bootstrap: int = 50  # resamples of the evaluation examples for the standard errors of front gaps
    block: int = 4  # semi-autoregressive block length
    topk_ks: tuple[int, ...] = (1, 2, 3, 4, 6, 8)
    random_ks: tuple[int, ...] = (1, 2, 3, 4, 6, 8)
    taus: tuple[float, ...] = (0.3, 0.5, 0.7, 0.8, 0.85, 0.9, 0.93, 0.95, 0.97, 0.98, 0.99, 0.999)  # threshold rule and policy (GRPO draws them)
    factors: tuple[float, ...] = (0.25, 0.5, 1.0, 2.0, 3.0, 4.0, 6.0)
    torch_threads: int = 1  # CPU threads (0: torch's default); 1 suits small models on shared cores

    PRESETS: ClassVar[dict] = {
        "smoke": {"width": 32, "depth": 2, "head_dim": 16, "second_width": 32, "second_depth": 1, "dllm_steps": 20,
                  "dllm_pass_accuracy": 0.0, "dllm_batch": 24, "dllm_warmup": 2, "grpo_iterations": 3, "grpo_prompts": 4, "grpo_group": 4,
                  "grpo_epochs": 1, "eval_examples": 16, "topk_ks": (1, 8), "random_ks": (1, 8),
                  "taus": (0.5, 0.9), "factors": (1.0, 4.0), "bootstrap": 5},
        "gpu": {"width": 384, "depth": 8, "head_dim": 64, "second_width": 256, "second_depth": 6,
                "ood_task": "prefix_sum", "difficulties": {"addition": 11, "sorting": 6, "prefix_sum": 12},
                "task_weights": {"addition": 4, "sorting": 1, "prefix_sum": 2}, "buffer": 16, "dllm_steps": 20000,
                "dllm_batch": 384, "dllm_lr": 1e-3, "dllm_warmup": 500, "policy_width": 64, "policy_heads": 4,
                "grpo_iterations": 1000, "grpo_prompts": 64, "grpo_group": 16, "grpo_epochs": 4, "grpo_lr": 1e-3,
                "eval_examples": 2000, "block": 8, "torch_threads": 0, "topk_ks": (1, 2, 3, 4, 6, 8, 16), "random_ks": (1, 2, 3, 4, 6, 8, 16)},
    }

    def __post_init__(self):
        for task in (*self.train_tasks, self.ood_task):
            if task not in ALL_TASKS:
                raise ValueError(f"task {task!r} is not a task; valid: {', '.join(ALL_TASKS)}")
            for name in ("difficulties", "task_weights"):
                if task not in getattr(self, name):
                    raise ValueError(f"{name}={getattr(self, name)} has no entry for task {task!r}")
        if self.ood_task in self.train_tasks:
            raise ValueError(f"ood_task={self.ood_task!r} must not be one of train_tasks={self.train_tasks}")
        if self.grpo_advantage not in ADVANTAGES:
            raise ValueError(f"grpo_advantage={self.grpo_advantage!r}: valid values are {ADVANTAGES}")
        if not 0.0 <= self.dllm_pass_accuracy <= 1.0 or self.dllm_attempts < 1:
            raise ValueError(f"dllm_pass_accuracy={self.dllm_pass_accuracy} must lie in [0, 1] and "
                             f"dllm_attempts={self.dllm_attempts} be at least 1")
        if self.block < 1 or self.block > self.buffer:
            raise ValueError(f"block={self.block} must lie in [1, buffer={self.buffer}]")
