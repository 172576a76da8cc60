"""Masked-diffusion sampling as an MDP, with the frozen dLLM as the environment.

State: a sequence whose generation buffer still holds mask tokens. Each step the dLLM is called
once on the sequence and proposes, at every masked position, its argmax token and that token's
probability (the confidence). Observation: the confidences of the buffer (0 where already
unmasked), the mask of the buffer and the progress spent / (spent + masked), with spent the
steps taken (a fraction of the most steps left, computable by any rule). Action: a binary
vector over the buffer; the proposals at the chosen masked positions are written in. A step that
chooses no masked position unmasks the most confident one (at least one token per step, as every
heuristic), so an episode ends after at most L steps. Reward (reconstructed), at the end only:

    R = correct * (1 + lambda * (1 - NFE / L))

with NFE the number of dLLM calls and L the buffer length: correctness first, speed second.

UnmaskingVecEnv is the batched form GRPO trains on: a plain torch implementation that steps R
sequences at once (rows that finished drop out of the dLLM's batch), with the same proposals
and the same per-step logic as atelier.diffusion.sample, so a rule gives the same tokens and NFE
in both. UnmaskingEnv is the single-sequence gymnasium.Env (registered as ENV_ID) built on it.
"""

from __future__ import annotations

from collections.abc import Callable

import gymnasium
import numpy as np
import torch
from gymnasium import spaces

from atelier.diffusion import most_confident, propose
from atelier.studies.unmasking_policy import data

ENV_ID = "atelier/Unmasking-v0"


def progress_of(spent: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """[R] in [0, 1): steps spent [R] over spent plus the masked positions left (mask Bool[R, L])."""
    return spent.float() / (spent + mask.sum(1)).clamp(min=1)


class UnmaskingVecEnv:
    """R episodes at once over a frozen dLLM; tensors in, tensors out.

    reset(prompts Long[R, P + L], judge) with mask_id at every buffer position; judge(tokens) ->
    Bool[R] grades finished sequences. Observations are dicts of confidence [R, L] (float, 0 off
    the mask), mask Bool[R, L] and progress [R] (progress_of); step(action Bool[R, L]) ->
    (observation, reward [R], done Bool[R]); reward is nonzero only on the step a row finishes.
    """

    def __init__(self, model, prompt_len: int, reward_lambda: float = 1.0, mask_id: int = data.VOCAB.mask_id):
        self.model, self.prompt_len, self.reward_lambda, self.mask_id = model, prompt_len, reward_lambda, mask_id

    @torch.no_grad()
    def _propose(self):
        """Fill self.proposal / self.confidence [R, T] for the rows that still hold a mask."""
        masked = self.x == self.mask_id
        todo = masked.any(1).nonzero().squeeze(1)  # [R']
        self.proposal = self.x.clone()
        self.confidence = torch.full(self.x.shape, -torch.inf, device=self.x.device)
        if len(todo):
            tokens, confidence = propose(self.model, self.x[todo], masked[todo], self.mask_id)
            self.proposal[todo], self.confidence[todo] = tokens, confidence

    def observation(self) -> dict[str, torch.Tensor]:
        mask = (self.x == self.mask_id)[:, self.prompt_len:]  # [R, L]
        confidence = self.confidence[:, self.prompt_len:].clamp(min=0.0)  # -inf off the mask -> 0
        return {"confidence": confidence, "mask": mask, "progress": progress_of(self.nfe, mask)}

    def reset(self, prompts: torch.Tensor, judge: Callable[[torch.Tensor], torch.Tensor]) -> dict[str, torch.Tensor]:
        self.x, self.judge = prompts.clone(), judge
        R, T = self.x.shape
        buffer_masked = (self.x == self.mask_id)[:, self.prompt_len:]
        if not buffer_masked.any(1).all() or (self.x[:, :self.prompt_len] == self.mask_id).any():
            raise ValueError("every prompt needs masks in its buffer and none before prompt_len")
        self.length = buffer_masked.sum(1)  # [R]: L, the most steps an episode can take
        self.nfe = torch.zeros(R, dtype=torch.long, device=self.x.device)
        self.done = torch.zeros(R, dtype=torch.bool, device=self.x.device)
        self._propose()
        return self.observation()

    def step(self, action: torch.Tensor):
        masked = self.x == self.mask_id  # [R, T]
        unmask = torch.zeros_like(masked)
        unmask[:, self.prompt_len:] = action.bool()
        unmask &= masked
        none = masked.any(1) & ~unmask.any(1)  # [R]: no masked position chosen -> the most confident
        unmask |= most_confident(self.confidence, none.long())
        self.x = torch.where(unmask, self.proposal, self.x)
        alive = ~self.done
        self.nfe += alive.long()
        finished = alive & ~(self.x == self.mask_id).any(1)
        reward = torch.zeros(len(self.x), device=self.x.device)
        if finished.any():
            correct = self.judge(self.x).to(self.x.device).float()  # [R]
            speed = 1 + self.reward_lambda * (1 - self.nfe.float() / self.length)
            reward = torch.where(finished, correct * speed, reward)
        self.done |= finished
        self._propose()
        return self.observation(), reward, self.done.clone()


class UnmaskingEnv(gymnasium.Env):
    """One sequence at a time: a task example drawn with the env's RNG at every reset.

    model: the frozen bidirectional dLLM; difficulties: task -> difficulty; tasks: the tasks
    drawn from; buffer L; prompt_len (default: fits every task of difficulties). Observation
    Dict(confidence Box[0, 1]^L, mask MultiBinary(L), progress Box[0, 1]); action MultiBinary(L).
    info at the end holds correct and nfe.
    """

    metadata = {"render_modes": []}

    def __init__(self, model, difficulties: dict, tasks=None, buffer: int = 10, prompt_len: int | None = None,
                 reward_lambda: float = 1.0):
        self.difficulties, self.tasks = difficulties, tuple(tasks or difficulties)
        self.buffer = buffer
        self.prompt_len = prompt_len or data.prompt_len(difficulties)
        self.vec = UnmaskingVecEnv(model.eval(), self.prompt_len, reward_lambda)
        self.observation_space = spaces.Dict({
            "confidence": spaces.Box(0.0, 1.0, (buffer,), np.float32),
            "mask": spaces.MultiBinary(buffer),
            "progress": spaces.Box(0.0, 1.0, (1,), np.float32),
        })
        self.action_space = spaces.MultiBinary(buffer)

    def _numpy(self, obs: dict) -> dict:
        return {"confidence": obs["confidence"][0].numpy().astype(np.float32),
                "mask": obs["mask"][0].numpy().astype(np.int8),
                "progress": obs["progress"][:1].numpy().astype(np.float32)}

    def reset(self, *, seed=None, options=None):
        super().reset(seed=seed)
        task = self.tasks[int(self.np_random.integers(len(self.tasks)))]
        self.example = data.examples(self.difficulties, [task], 1, int(self.np_random.integers(2**31)))
        prompts = data.masked_prompts(self.example, self.prompt_len, self.buffer)
        obs = self.vec.reset(prompts, lambda tokens: data.judge(tokens, self.example, self.prompt_len))
        return self._numpy(obs), {"task": task}

    def step(self, action):
        action = torch.as_tensor(np.asarray(action), dtype=torch.bool).reshape(1, self.buffer)
        obs, reward, done = self.vec.step(action)
        info = {}
        if bool(done[0]):
            info = {"correct": bool(data.judge(self.vec.x, self.example, self.prompt_len)[0]),
                    "nfe": int(self.vec.nfe[0])}
        return self._numpy(obs), float(reward[0]), bool(done[0]), False, info


def register() -> None:
    """Register UnmaskingEnv as ENV_ID (idempotent); gymnasium.make(ENV_ID, model=..., difficulties=...)."""
    if ENV_ID not in gymnasium.registry:
        gymnasium.register(id=ENV_ID, entry_point=f"{__name__}:UnmaskingEnv")
