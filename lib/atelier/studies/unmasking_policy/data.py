"""Task examples as fixed-shape diffusion sequences: [pad.. bos prompt | answer eos..] .

Every sequence has a prompt part of `prompt_len` positions (the prompt right-aligned behind
left padding, so answers of every task start at the same column) and a generation buffer of
`buffer` positions: the answer, then eos up to the end, as LLaDA pads its generation length.
The buffer is what a masked-diffusion model fills; the prompt is never masked (it anchors the
rotary positions of a bidirectional model). `judge` decodes a filled buffer and grades it with
the task's exact checker.

Besides the tasks of atelier.data.tasks, the study defines one held-out task in the same
vocabulary, prefix_sum: the running sums of digits, modulo 10,

    prefix_sum  "cum:3947=" -> "3263"   (3, 3+9, 3+9+4, 3+9+4+7, each mod 10)

Answer digit j depends on every digit before it in the answer: filled left to right, each is
the previous one plus one prompt digit; filled at once, each must sum j + 1 prompt digits. So
the unmasking order matters, and the dependencies run left to right, the opposite of
addition's carries.

and one task with many correct answers, agreement: any digit, written n times,

    agreement   "any:5=" -> "77777" (or "00000", ..., "99999"; training draws the digit uniformly)

The first digit is a free choice and every other must agree with it, as a variable's name in
code is free where it is declared and fixed wherever it is used. A model that has learnt it is
sure of nothing until one digit is unmasked and of everything after: unmasked one at a time, in
any order, it is always right. Digits unmasked in the same step are each position's own most
likely digit (greedy proposals), chosen by whatever slight preferences the model has left at
each position: they agree only where those preferences happen to coincide (for some models,
never; for others, always). Where they do not, a rule that unmasks only confident positions
beyond the first solves the task, and a rule that unmasks blindly does not.
"""

from __future__ import annotations

import random
import re

import polars as pl
import torch

from atelier.data.tasks import TASKS, TaskVocab, check, generate

VOCAB = TaskVocab()


def _prefix_sum(rng: random.Random, length: int) -> tuple[str, str]:
    digits = [rng.randrange(10) for _ in range(length)]
    return f"cum:{''.join(map(str, digits))}=", _solve_prefix_sum(f"cum:{''.join(map(str, digits))}=")


def _solve_prefix_sum(prompt: str) -> str:
    digits = [int(d) for d in re.fullmatch(r"cum:(\d*)=", prompt).group(1)]
    return "".join(str(sum(digits[:j + 1]) % 10) for j in range(len(digits)))


def _agreement(rng: random.Random, length: int) -> tuple[str, str]:
    return f"any:{length}=", str(rng.randrange(10)) * length


def _check_agreement(prediction: str, prompt: str) -> bool:
    length = int(re.fullmatch(r"any:(\d+)=", prompt).group(1))
    return len(prediction) == length and prediction.isdigit() and prediction.isascii() and len(set(prediction)) == 1


def _check_prefix_sum(prediction: str, prompt: str) -> bool:
    return prediction == _solve_prefix_sum(prompt)


# name -> (generator(rng, difficulty) -> (prompt, one correct answer), checker(prediction, prompt))
STUDY_TASKS = {"prefix_sum": (_prefix_sum, _check_prefix_sum), "agreement": (_agreement, _check_agreement)}
ALL_TASKS = (*TASKS, *STUDY_TASKS)


def generate_task(task: str, n: int, seed: int, difficulty: int) -> pl.DataFrame:
    """n examples of any task of ALL_TASKS (atelier.data.tasks.generate's columns and seeding)."""
    if task not in STUDY_TASKS:
        return generate(task, n, seed=seed, difficulty=difficulty)
    if difficulty < 1:
        raise ValueError(f"difficulty must be >= 1, got {difficulty}")
    rng = random.Random(f"{task}:{seed}")
    pairs = [STUDY_TASKS[task][0](rng, difficulty) for _ in range(n)]
    return pl.DataFrame({"task": [task] * n, "prompt": [p for p, _ in pairs], "target": [t for _, t in pairs],
                         "difficulty": [difficulty] * n})


def check_task(prediction: str, example: dict) -> bool:
    """Whether prediction answers example (recomputed from the prompt, never from the stored target)."""
    if example["task"] in STUDY_TASKS:
        return STUDY_TASKS[example["task"]][1](prediction.strip(), example["prompt"])
    return check(prediction, example)


def examples(difficulties: dict, tasks, n: int, seed: int) -> pl.DataFrame:
    """n examples of each task (columns task, prompt, target, difficulty), tasks in order."""
    return pl.concat([generate_task(task, n, seed, difficulties[task]) for task in tasks])


def prompt_len(difficulties: dict) -> int:
    """Columns of the prompt part: the longest prompt of any task plus bos."""
    longest = pl.concat([generate_task(task, 1, 0, d) for task, d in difficulties.items()])
    return 1 + max(longest["prompt"].str.len_chars())


def encode(frame: pl.DataFrame, prompt_len: int, buffer: int) -> dict[str, torch.Tensor]:
    """tokens Long[N, prompt_len + buffer] and loss_mask Bool[N, prompt_len + buffer] (the buffer)."""
    rows = []
    for prompt, target in frame.select("prompt", "target").iter_rows():
        head, answer = [VOCAB.bos_id, *VOCAB.encode(prompt)], VOCAB.encode(target)
        if len(head) > prompt_len or len(answer) >= buffer + 1:
            raise ValueError(f"example {prompt!r} -> {target!r} does not fit prompt_len={prompt_len}, buffer={buffer}")
        rows.append([VOCAB.pad_id] * (prompt_len - len(head)) + head + answer + [VOCAB.eos_id] * (buffer - len(answer)))
    tokens = torch.tensor(rows, dtype=torch.long)
    loss_mask = torch.zeros_like(tokens, dtype=torch.bool)
    loss_mask[:, prompt_len:] = True
    return {"tokens": tokens, "loss_mask": loss_mask}


def masked_prompts(frame: pl.DataFrame, prompt_len: int, buffer: int) -> torch.Tensor:
    """Long[N, prompt_len + buffer]: the prompts with every buffer position set to the mask token."""
    tokens = encode(frame, prompt_len, buffer)["tokens"]
    tokens[:, prompt_len:] = VOCAB.mask_id
    return tokens


def judge(tokens: torch.Tensor, frame: pl.DataFrame, prompt_len: int) -> torch.Tensor:
    """Bool[N]: the buffer holds a correct answer, then only eos (the answer ends at the first eos)."""
    out = []
    for row, example in zip(tokens[:, prompt_len:].tolist(), frame.iter_rows(named=True)):
        end = row.index(VOCAB.eos_id) if VOCAB.eos_id in row else len(row)
        clean = all(t == VOCAB.eos_id for t in row[end:]) and all(t >= len(VOCAB.specials) for t in row[:end])
        out.append(clean and check_task(VOCAB.decode(row[:end]), example))
    return torch.tensor(out, dtype=torch.bool)


class TrainingStream(torch.utils.data.IterableDataset):
    """Batches for the dLLMs: fresh examples of every task each step, buffers of L..2L.

    Step s draws about batch * weight / sum(weights) examples of each task (at least one) from
    seed (seed, s) and a buffer length uniform in [buffer, 2 * buffer], so the model has seen the
    lengths transfer uses.
    """

    def __init__(self, difficulties: dict, weights: dict, batch: int, steps: int, prompt_len: int, buffer: int,
                 seed: int):
        self.difficulties, self.steps = difficulties, steps
        self.counts = {task: max(1, round(batch * weights[task] / sum(weights.values()))) for task in difficulties}
        self.prompt_len, self.buffer, self.seed = prompt_len, buffer, seed

    def __iter__(self):
        for step in range(self.steps):
            seed = self.seed * 1_000_003 + step
            buffer = self.buffer + int(torch.randint(self.buffer + 1, (1,), generator=torch.Generator().manual_seed(seed)))
            frame = pl.concat([generate_task(task, n, seed, self.difficulties[task]) for task, n in self.counts.items()])
            yield encode(frame, self.prompt_len, buffer)
