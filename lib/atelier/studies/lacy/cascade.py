"""Cascade generation: the small LM writes; when it predicts <call>, the bigger model writes the
next word (until its next token starts a new word, at most max_span tokens); then the small LM
goes on reading that word. Both models share the tokenizer, so handing over in token space is
handing over in text space. Greedy decoding, all prompts in one batch.
"""

from __future__ import annotations

import dataclasses

import torch

from atelier.data import TextTokenizer


@dataclasses.dataclass
class Generation:
    prompt: str
    text: str  # the generated continuation (without the prompt)
    from_big: list[bool]  # per character of text: written by the bigger model
    calls: int  # <call> predictions of the small model
    steps: int  # tokens generated (up to and without eos)


def word_starts(tokenizer: TextTokenizer) -> torch.Tensor:
    """Bool[V]: the token begins a new word (byte-level "Ġ" prefix) or is a special token."""
    specials = set(tokenizer.special_ids.values())
    return torch.tensor([i in specials or tokenizer.token(i).startswith("Ġ") for i in range(tokenizer.vocab_size)])


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


@torch.no_grad()
def generate(slm, big, tokenizer: TextTokenizer, prompts: list[str], max_new_tokens: int, max_span: int
             ) -> list[Generation]:
    """Greedy cascade continuations of prompts (see the module docstring)."""
    call, eos, pad = tokenizer.call_id, tokenizer.eos_id, tokenizer.pad_id
    starts = word_starts(tokenizer)
    encoded = [[tokenizer.bos_id, *ids] for ids in tokenizer.encode_batch(prompts)]
    B = len(prompts)
    length = torch.tensor([len(ids) for ids in encoded])  # [B] current length of each row
    buf = torch.full((B, int(length.max()) + max_new_tokens), pad, dtype=torch.long)  # right-padded
    for i, ids in enumerate(encoded):
        buf[i, : len(ids)] = torch.tensor(ids)
    rows = torch.arange(B)
    delegating = torch.zeros(B, dtype=torch.bool)
    span = torch.zeros(B, dtype=torch.long)  # tokens written by the bigger model in the current call
    calls = torch.zeros(B, dtype=torch.long)
    done = torch.zeros(B, dtype=torch.bool)
    big_flag = torch.zeros_like(buf, dtype=torch.bool)
    for _ in range(max_new_tokens):
        context = buf[:, : int(length.max())]
        slm_next = slm(context)[rows, length - 1].argmax(-1)  # [B]; causal: padding after a row's end is unseen
        big_logits = big(context)[rows, length - 1]
        big_logits[:, call] = float("-inf")
        big_next = big_logits.argmax(-1)
        # a call ends when the bigger model would start a new word or has written max_span tokens
        delegating &= ~((span > 0) & (starts[big_next] | (span >= max_span)))
        new_call = ~delegating & (slm_next == call) & ~done
        calls += new_call
        delegating |= new_call
        span = torch.where(new_call, 0, span)
        token = torch.where(delegating, big_next, slm_next)
        token = torch.where(done, pad, token)
        buf[rows, length] = token
        big_flag[rows, length] = delegating & ~done
        span += delegating
        length += ~done
        done |= token == eos
    out = []
    for i in range(B):
        start, end = len(encoded[i]), int(length[i])
        gen = buf[i, start:end].tolist()
        flags = big_flag[i, start:end].tolist()
        if gen and gen[-1] == eos:
            gen, flags = gen[:-1], flags[:-1]
        text, chars = char_provenance(tokenizer, encoded[i], gen, flags)
        out.append(Generation(prompts[i], text, chars, int(calls[i]), len(gen)))
    return out
