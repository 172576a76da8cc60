"""Verifiable synthetic tasks with exact checkers: addition, sorting, reversal.

Each example is a prompt and a target string of fixed length for a given difficulty, so a
masked-diffusion model can fill a fixed answer slot:

    addition  "0347+0982="  -> "01329"    (digits per operand; the sum padded to digits + 1)
    sorting   "sort:7,3,9,1=" -> "1,3,7,9" (length single-digit numbers)
    reversal  "rev:kqzab="  -> "bazqk"    (length lowercase letters)

check(prediction, example) recomputes the answer from the prompt (never from the stored
target) and compares exactly (addition accepts any number of leading zeros). TaskVocab is a
character vocabulary covering every task, for small models that do not need BPE.
"""

from __future__ import annotations

import random
import re
from typing import Callable

import polars as pl
import torch


def _addition(rng: random.Random, digits: int) -> tuple[str, str]:
    a, b = rng.randrange(10**digits), rng.randrange(10**digits)
    return f"{a:0{digits}d}+{b:0{digits}d}=", f"{a + b:0{digits + 1}d}"


def _sorting(rng: random.Random, length: int) -> tuple[str, str]:
    values = [rng.randrange(10) for _ in range(length)]
    return f"sort:{','.join(map(str, values))}=", ",".join(map(str, sorted(values)))


def _reversal(rng: random.Random, length: int) -> tuple[str, str]:
    letters = "".join(rng.choice("abcdefghijklmnopqrstuvwxyz") for _ in range(length))
    return f"rev:{letters}=", letters[::-1]


def _solve_addition(prompt: str) -> str:
    a, b = re.fullmatch(r"(\d+)\+(\d+)=", prompt).groups()
    return str(int(a) + int(b))


def _solve_sorting(prompt: str) -> str:
    values = re.fullmatch(r"sort:([\d,]*)=", prompt).group(1).split(",")
    return ",".join(sorted(values, key=int))


def _solve_reversal(prompt: str) -> str:
    return re.fullmatch(r"rev:([a-z]*)=", prompt).group(1)[::-1]


# name -> (generator(rng, difficulty), solver(prompt), default difficulty)
TASKS: dict[str, tuple[Callable[[random.Random, int], tuple[str, str]], Callable[[str], str], int]] = {
    "addition": (_addition, _solve_addition, 3),
    "sorting": (_sorting, _solve_sorting, 5),
    "reversal": (_reversal, _solve_reversal, 5),
}


def _task(name: str) -> tuple[Callable, Callable[[str], str], int]:
    if name not in TASKS:
        raise ValueError(f"unknown task {name!r}; valid: {', '.join(TASKS)}")
    return TASKS[name]


def generate(task: str, n: int, seed: int = 0, difficulty: int | None = None) -> pl.DataFrame:
    """n examples of `task`: columns task, prompt, target, difficulty.

    difficulty is the operand digits (addition) or the sequence length (sorting, reversal);
    default 3 digits / 5 items.
    """
    make, _, default = _task(task)
    level = default if difficulty is None else difficulty
    if level < 1:
        raise ValueError(f"difficulty must be >= 1, got {level}")
    rng = random.Random(f"{task}:{seed}")
    pairs = [make(rng, level) for _ in range(n)]
    return pl.DataFrame(
        {"task": [task] * n, "prompt": [p for p, _ in pairs], "target": [t for _, t in pairs], "difficulty": [level] * n}
    )


def dataset(task: str, n: int, seed: int = 0, difficulty: int | None = None) -> pl.DataFrame:
    """generate() as a dataset for a manifest: adds id and text (prompt followed by target)."""
    examples = generate(task, n, seed, difficulty)
    return examples.select(
        pl.format("{}-{}", pl.lit(task), pl.int_range(n)).alias("id"),
        (pl.col("prompt") + pl.col("target")).alias("text"),
        pl.all(),
    )


def fingerprint() -> list:
    return ["tasks", 1]


def check(prediction: str, example: dict) -> bool:
    """Whether prediction answers example (a row with task and prompt) exactly.

    Surrounding whitespace is ignored; for addition the prediction must be digits only and
    equal the sum as a number (leading zeros allowed).
    """
    _, solve, _ = _task(example["task"])
    answer, prediction = solve(example["prompt"]), prediction.strip()
    if example["task"] == "addition":
        return prediction.isdigit() and prediction.isascii() and int(prediction) == int(answer)
    return prediction == answer


class TaskVocab:
    """Characters of every task plus specials; ids 0..len-1, specials first."""

    specials = ("<pad>", "<bos>", "<eos>", "<mask>")
    chars = "0123456789+=,:abcdefghijklmnopqrstuvwxyz"

    def __init__(self) -> None:
        self.tokens = [*self.specials, *self.chars]
        self.ids = {token: i for i, token in enumerate(self.tokens)}
        self.pad_id, self.bos_id, self.eos_id, self.mask_id = (self.ids[s] for s in self.specials)

    def __len__(self) -> int:
        return len(self.tokens)

    def encode(self, text: str) -> list[int]:
        unknown = sorted(set(text) - set(self.chars))
        if unknown:
            raise ValueError(f"characters {unknown} are not in the task vocabulary; valid: {self.chars!r}")
        return [self.ids[ch] for ch in text]

    def decode(self, ids: list[int]) -> str:
        """Characters of ids; special tokens are dropped."""
        return "".join(self.tokens[i] for i in ids if i >= len(self.specials))

    def tensorize(self, examples: pl.DataFrame) -> dict[str, torch.Tensor]:
        """tokens Long[N, T] = bos prompt target eos, right-padded; loss_mask Bool[N, T] is
        True on target and eos positions (the part a model must produce)."""
        rows, answer = [], []
        for prompt, target in examples.select("prompt", "target").iter_rows():
            p, t = self.encode(prompt), self.encode(target)
            rows.append([self.bos_id, *p, *t, self.eos_id])
            answer.append([False] * (1 + len(p)) + [True] * (len(t) + 1))
        width = max(map(len, rows))
        tokens = torch.full((len(rows), width), self.pad_id, dtype=torch.long)
        loss_mask = torch.zeros((len(rows), width), dtype=torch.bool)
        for i, (row, mask) in enumerate(zip(rows, answer)):
            tokens[i, : len(row)] = torch.tensor(row)
            loss_mask[i, : len(mask)] = torch.tensor(mask)
        return {"tokens": tokens, "loss_mask": loss_mask}
