"""Cascade generation: the small LM writes; when it predicts <call>, a helper (a bigger model,
see helpers.py) writes the next word in text space; the small LM encodes that word with its own
tokenizer, reads it, and goes on. Greedy decoding, all prompts in one batch; the helper is
called once per step with the texts of the rows that asked for help.
"""

from __future__ import annotations

import dataclasses
from typing import Callable

import torch

from atelier.data import TextTokenizer


@dataclasses.dataclass
class Generation:
    prompt: str
    text: str  # the generated continuation (without the prompt)
    from_big: list[bool]  # per character of text: written by the helper
    calls: int  # <call> predictions of the small model
    steps: int  # the small model's predictions (its own tokens and its calls)


def char_provenance(tokenizer: TextTokenizer, prompt: list[int], generated: list[int], from_big: list[bool]
                    ) -> tuple[str, list[bool]]:
    """(text of generated, per-character flag) from each token's flag, by decoding prefixes."""
    base = len(tokenizer.decode(prompt))
    ends = [len(tokenizer.decode(prompt + generated[: j + 1])) - base for j in range(len(generated))]
    text = tokenizer.decode(prompt + generated)[base:]
    flags, start = [], 0
    for end, big in zip(ends, from_big):
        flags.extend([big] * max(end - start, 0))
        start = max(start, end)
    return text, (flags + [False] * len(text))[: len(text)]


def prompt_buffer(tokenizer: TextTokenizer, texts: list[str], room: int) -> tuple[torch.Tensor, torch.Tensor]:
    """(buf Long[B, longest + room]: bos + each text's tokens, right-padded with pad; lengths Long[B]),
    the workspace of a batched greedy decoder that appends up to ``room`` tokens per row."""
    encoded = [[tokenizer.bos_id, *ids] for ids in tokenizer.encode_batch(texts)]
    lengths = torch.tensor([len(ids) for ids in encoded])  # [B]
    buf = torch.full((len(texts), int(lengths.max()) + room), tokenizer.pad_id, dtype=torch.long)
    for i, ids in enumerate(encoded):
        buf[i, : len(ids)] = torch.tensor(ids)
    return buf, lengths


@torch.no_grad()
def generate(slm, helper: Callable[[list[str]], list[str]], tokenizer: TextTokenizer, prompts: list[str],
             max_new_tokens: int) -> list[Generation]:
    """Greedy cascade continuations of prompts, at most max_new_tokens tokens each (see the module
    docstring). A row ends at <eos>, at the token limit, or when the helper returns no word."""
    call, eos = tokenizer.call_id, tokenizer.eos_id
    B = len(prompts)
    buf, start = prompt_buffer(tokenizer, prompts, max_new_tokens)  # start: [B] prompt lengths
    length = start.clone()  # [B] current length of each row
    big_flag = torch.zeros_like(buf, dtype=torch.bool)
    rows = torch.arange(B)
    calls, steps = torch.zeros(B, dtype=torch.long), torch.zeros(B, dtype=torch.long)
    done = torch.zeros(B, dtype=torch.bool)
    while not done.all():
        nxt = slm(buf[:, : int(length.max())])[rows, length - 1].argmax(-1)  # [B]; causal: padding unseen
        steps += ~done
        calling = ~done & (nxt == call)
        calls += calling
        own = ~done & ~calling
        buf[rows[own], length[own]] = nxt[own]
        length += own
        asking = calling.nonzero().flatten().tolist()
        words = helper([tokenizer.decode(buf[i, 1 : int(length[i])].tolist()) for i in asking]) if asking else []
        for i, word in zip(asking, words):  # one hand-over per calling row
            ids = tokenizer.encode(word)[: int(start[i]) + max_new_tokens - int(length[i])]
            if not ids:
                done[i] = True
                continue
            buf[i, int(length[i]) : int(length[i]) + len(ids)] = torch.tensor(ids)
            big_flag[i, int(length[i]) : int(length[i]) + len(ids)] = True
            length[i] += len(ids)
        done |= (buf[rows, length - 1] == eos) | (length - start >= max_new_tokens)
    out = []
    for i in range(B):
        gen = buf[i, int(start[i]) : int(length[i])].tolist()
        flags = big_flag[i, int(start[i]) : int(length[i])].tolist()
        if gen and gen[-1] == eos:
            gen, flags = gen[:-1], flags[:-1]
        text, chars = char_provenance(tokenizer, buf[i, : int(start[i])].tolist(), gen, flags)
        out.append(Generation(prompts[i], text, chars, int(calls[i]), int(steps[i])))
    return out
