"""The study's experiments, one function per notebook section.

prepare() trains the two dLLMs; order_dependence() shows that their accuracy depends on the
unmasking order; check_environment() runs gymnasium's checker and one episode; train() runs
GRPO; front_points() sweeps every rule in one setting (a dLLM, a buffer length, tasks, full
diffusion or semi-AR blocks), which serves the transfer experiments too; gaps() compares fronts.
"""

from __future__ import annotations

import dataclasses

import polars as pl
import torch
from gymnasium.utils.env_checker import check_env

from atelier.studies.unmasking_policy import data, dllm, fronts, grpo
from atelier.studies.unmasking_policy.env import UnmaskingEnv
from atelier.studies.unmasking_policy.policy import UnmaskingPolicy


RETRY_SEED_STRIDE = 1000  # attempt a of a dLLM drawn from seed seed + a * RETRY_SEED_STRIDE
CHECK_EXAMPLES = 256  # per task, for the check that a dLLM has learnt its tasks


@dataclasses.dataclass
class Setup:
    cfg: object
    seed: int
    prompt_len: int
    models: dict  # "A" (main) and "B" (second size and seed) -> trained dLLM
    curves: pl.DataFrame  # model, step, loss, params (the kept attempts)
    attempts: pl.DataFrame  # model, seed, task, accuracy, kept: every dLLM trained, checked on its tasks


def accuracy_by_task(model, frame: pl.DataFrame, prompt_len: int, buffer: int, seed: int, **rule) -> pl.DataFrame:
    """(task, accuracy) of model on the examples of frame, unmasked by sample() rule `rule`."""
    result = fronts.run_rule(model, frame, prompt_len, buffer, None, seed, **rule)
    return result.group_by("task", maintain_order=True).agg(accuracy=pl.col("correct").mean())


def task_accuracy(model, cfg, prompt_len: int, seed: int) -> pl.DataFrame:
    """Accuracy (task, accuracy) of model on CHECK_EXAMPLES fresh examples of every task it learnt,
    one token per step, most confident first (seeds apart from training's and evaluation's)."""
    frame = data.examples(cfg.difficulties, list(cfg.difficulties), CHECK_EXAMPLES, seed=-1_000_000 - seed)
    return accuracy_by_task(model, frame, prompt_len, cfg.buffer, seed, method="topk", k=1)


def train_dllm(cfg, name: str, width: int, depth: int, prompt_len: int, seed: int):
    """dLLM `name` trained from seed; if it has not learnt every task (accuracy below
    cfg.dllm_pass_accuracy on one of them), trained again from seed + RETRY_SEED_STRIDE, up to
    cfg.dllm_attempts seeds. Small models learn multi-digit addition suddenly, after a plateau
    whose length depends on the seed, and one stuck on the plateau is no environment for the
    policy. Returns (model, curve, attempts)."""
    attempts = []
    for attempt in range(cfg.dllm_attempts):
        model_seed = seed + attempt * RETRY_SEED_STRIDE
        model = dllm.build(cfg, width, depth, prompt_len, model_seed)
        curve = dllm.train(cfg, model, prompt_len, model_seed, f"dllm-{name}")
        accuracy = task_accuracy(model, cfg, prompt_len, model_seed)
        learnt = accuracy["accuracy"].min() >= cfg.dllm_pass_accuracy
        attempts.append(accuracy.with_columns(model=pl.lit(name), seed=pl.lit(model_seed), kept=pl.lit(learnt)))
        if learnt:
            return model, curve.with_columns(params=pl.lit(model.num_params())), pl.concat(attempts)
    tried = pl.concat(attempts).select("seed", "task", "accuracy").to_dicts()
    raise RuntimeError(f"dLLM {name} ({width} x {depth}) did not learn every task to accuracy "
                       f"{cfg.dllm_pass_accuracy} in {cfg.dllm_attempts} seeds: {tried}; train longer (dllm_steps="
                       f"{cfg.dllm_steps}), allow more attempts (dllm_attempts) or lower dllm_pass_accuracy")


def prepare(cfg, seed: int) -> Setup:
    """Train dLLM A (width x depth, seed) and dLLM B (second size, seed + 1), each redrawn until it
    has learnt its tasks (train_dllm)."""
    if cfg.torch_threads:
        torch.set_num_threads(cfg.torch_threads)
    prompt_len = data.prompt_len(cfg.difficulties)
    models, curves, attempts = {}, [], []
    for name, width, depth, model_seed in (("A", cfg.width, cfg.depth, seed),
                                           ("B", cfg.second_width, cfg.second_depth, seed + 1)):
        models[name], curve, tried = train_dllm(cfg, name, width, depth, prompt_len, model_seed)
        curves.append(curve)
        attempts.append(tried)
    return Setup(cfg, seed, prompt_len, models, pl.concat(curves),
                 pl.concat(attempts).select("model", "seed", "task", "accuracy", "kept"))


def eval_frame(setup: Setup, tasks) -> pl.DataFrame:
    """The evaluation examples of tasks (a seed range no training batch uses)."""
    return data.examples(setup.cfg.difficulties, tasks, setup.cfg.eval_examples, seed=-1 - setup.seed)


def edge_first(right: bool):
    """A sample() rule that unmasks one position per step: the rightmost active one (right=True) or
    the leftmost, whatever the confidences."""
    def rule(confidence, active, steps_left, generator):
        columns = torch.arange(active.shape[1], device=active.device).expand_as(active)
        key = torch.where(active, columns if right else -columns, torch.full_like(columns, -active.shape[1] - 1))
        pick = torch.zeros_like(active)
        pick[torch.arange(len(active)), key.argmax(1)] = True
        return pick & active
    return rule


def order_dependence(setup: Setup) -> pl.DataFrame:
    """Accuracy of each dLLM on each task with one token per step (most confident first, random,
    right to left, left to right) and with every token at once: the order matters when these differ,
    and which fixed order suits a task shows where a policy can beat the most confident first."""
    cfg, rows = setup.cfg, []
    frame = eval_frame(setup, (*cfg.train_tasks, cfg.ood_task))
    for name, model in setup.models.items():
        for label, kwargs in (("confidence order, 1 per step", {"method": "topk", "k": 1}),
                              ("random order, 1 per step", {"method": "random", "k": 1}),
                              ("right to left, 1 per step", {"method": edge_first(right=True)}),
                              ("left to right, 1 per step", {"method": edge_first(right=False)}),
                              ("all at once", {"method": "topk", "k": cfg.buffer})):
            rows.append(accuracy_by_task(model, frame, setup.prompt_len, cfg.buffer, setup.seed, **kwargs)
                        .with_columns(model=pl.lit(name), decoding=pl.lit(label)))
    return pl.concat(rows).select("model", "task", "decoding", "accuracy")


def check_environment(setup: Setup) -> pl.DataFrame:
    """gymnasium's check_env on the registered env, then one episode with a top-2 policy:
    one row per step (step, masked, unmasked, reward)."""
    cfg = setup.cfg
    env = UnmaskingEnv(setup.models["A"], cfg.difficulties, cfg.train_tasks, cfg.buffer, setup.prompt_len,
                       cfg.reward_lambda)
    check_env(env, skip_render_check=True)
    obs, _ = env.reset(seed=setup.seed)
    rows, done, step = [], False, 0
    while not done:
        top2 = torch.zeros(cfg.buffer, dtype=torch.int8)
        top2[torch.as_tensor(obs["confidence"]).topk(2).indices] = 1
        masked = int(obs["mask"].sum())
        obs, reward, done, _, info = env.step(top2.numpy())
        step += 1
        rows.append({"step": step, "masked_before": masked, "unmasked": masked - int(obs["mask"].sum()),
                     "reward": reward, "correct": info.get("correct")})
    return pl.DataFrame(rows)


def train(setup: Setup, model: str = "A", buffer: int | None = None, seed: int | None = None):
    """GRPO for a fresh policy on the training tasks with dLLM `model` at `buffer` (default L).
    Returns (policy, curve)."""
    cfg = setup.cfg
    seed = setup.seed if seed is None else seed
    torch.manual_seed(seed)
    policy = UnmaskingPolicy(cfg.policy_width, cfg.policy_heads, slope=cfg.policy_slope, max_logit=cfg.max_logit)
    curve = grpo.train_policy(policy, setup.models[model], cfg.difficulties, cfg.train_tasks,
                              prompt_len=setup.prompt_len, buffer=buffer or cfg.buffer, taus=cfg.taus,
                              iterations=cfg.grpo_iterations, prompts=cfg.grpo_prompts, group=cfg.grpo_group,
                              epochs=cfg.grpo_epochs, clip=cfg.grpo_clip, lr=cfg.grpo_lr,
                              reward_lambda=None if cfg.tie_lambda else cfg.reward_lambda, seed=seed,
                              advantage=cfg.grpo_advantage, kl=cfg.grpo_kl)
    return policy, curve


def front_points(setup: Setup, policy, *, model: str = "A", buffer: int | None = None, tasks=None,
                 block: int | None = None, heuristics: bool = True, policy_name: str = "policy") -> pl.DataFrame:
    """Every rule's points in one setting (see fronts.front_table)."""
    cfg = setup.cfg
    frame = eval_frame(setup, tasks or cfg.train_tasks)
    return fronts.front_table(setup.models[model], frame, cfg, setup.prompt_len, buffer or cfg.buffer, policy,
                              block=block, seed=setup.seed, heuristics=heuristics, policy_name=policy_name)


def gaps(points: pl.DataFrame, task: str = "all", policy: str = "policy") -> pl.DataFrame:
    """Front gap of a policy to every other rule in points (accuracy points, mean over shared NFE)
    and its bootstrap standard error."""
    pts = points.filter(pl.col("task") == task)
    methods = [m for m in pts["method"].unique(maintain_order=True).to_list() if m != policy]
    return pl.DataFrame({"versus": methods, "gap": [fronts.gap(pts, policy, m) for m in methods],
                         "se": [fronts.gap_se(pts, policy, m) for m in methods]})
