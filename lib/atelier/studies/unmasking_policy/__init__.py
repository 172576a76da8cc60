"""Study 04: learning unmasking policies for diffusion LMs with GRPO (arXiv 2512.09106).

Small masked-diffusion LMs trained on verifiable tasks (dllm.py, data.py) are the environment
of an MDP whose actions choose which masked positions to unmask (env.py: a registered
gymnasium.Env and its batched torch form). A policy made of a confidence threshold plus a
one-layer transformer residual over per-position features (policy.py), conditioned on its
operating threshold, is trained with GRPO (grpo.py) and compared with the heuristic rules of
atelier.diffusion.sample on accuracy-vs-NFE fronts (fronts.py), in full diffusion, in semi-AR
blocks, at 2x the buffer length, on a second dLLM and out of domain (experiments.py);
charts.py and claims.py make the figures and the claims.
"""

from atelier.studies.unmasking_policy.config import Config
from atelier.studies.unmasking_policy.env import ENV_ID, UnmaskingEnv, UnmaskingVecEnv, register
from atelier.studies.unmasking_policy.experiments import (
    Setup, check_environment, eval_frame, front_points, gaps, order_dependence, prepare, train,
)
from atelier.studies.unmasking_policy.policy import PolicyRule, UnmaskingPolicy

register()

__all__ = ["ENV_ID", "Config", "PolicyRule", "Setup", "UnmaskingEnv", "UnmaskingPolicy", "UnmaskingVecEnv",
           "check_environment", "eval_frame", "front_points", "gaps", "order_dependence", "prepare", "register",
           "train"]
