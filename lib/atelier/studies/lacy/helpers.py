"""The bigger models the small LM delegates to. Each continues texts by one word, in text space.

- CorpusHelper: an atelier Transformer trained on the same corpus (it shares the small LM's
  tokenizer, but is still called with text);
- SmolHelper: SmolLM2-135M-Instruct (atelier.pretrained), read as a plain LM with its own
  tokenizer, which knows real-world facts the corpus never taught anyone.

A helper is called with the texts written so far and returns, for each, the next word: its
greedy continuation up to (not including) the next whitespace-started word, at most max_span of
its tokens, leading space kept (" Paris", " 2,138,551"). An empty string means it had nothing.
"""

from __future__ import annotations

import re

import torch

from atelier.data import TextTokenizer
from atelier.studies.lacy.cascade import prompt_buffer

FIRST_WORD = re.compile(r"[^\S\n]*[^\s]+")  # optional spaces (not newlines), then one run of non-space


def first_word(text: str) -> str:
    """The first word of a continuation with its leading spaces ("" when it opens with a newline or is blank)."""
    match = FIRST_WORD.match(text)
    return match.group(0) if match else ""


def word_starts(tokenizer: TextTokenizer) -> torch.Tensor:
    """Bool[V]: the token begins a new word (byte-level "Ġ" prefix, or a newline) or is a special token."""
    specials = set(tokenizer.special_ids.values())
    return torch.tensor([i in specials or tokenizer.token(i).startswith(("Ġ", "Ċ"))
                         for i in range(tokenizer.vocab_size)])


class CorpusHelper:
    """A model trained on the corpus, continuing by one word (see the module docstring)."""

    def __init__(self, model: torch.nn.Module, tokenizer: TextTokenizer, max_span: int):
        self.model, self.tokenizer, self.max_span = model.eval(), tokenizer, max_span
        self.starts = word_starts(tokenizer)
        self.specials = torch.tensor(sorted(tokenizer.special_ids.values()))

    @torch.no_grad()
    def __call__(self, texts: list[str]) -> list[str]:
        tok = self.tokenizer
        B = len(texts)
        buf, start = prompt_buffer(tok, texts, self.max_span)  # right-padded
        length = start.clone()  # [B]
        rows, done = torch.arange(B), torch.zeros(B, dtype=torch.bool)
        for step in range(self.max_span):
            logits = self.model(buf[:, : int(length.max())])[rows, length - 1]  # [B, V]; causal: padding unseen
            logits[:, self.specials] = float("-inf")  # a word, never <call>, <eos> or <pad>
            nxt = logits.argmax(-1)
            done |= (step > 0) & self.starts[nxt]  # the next token would begin a new word
            buf[rows, length] = torch.where(done, tok.pad_id, nxt)
            length += ~done
        return [tok.decode(buf[i, int(start[i]) : int(length[i])].tolist()) for i in range(B)]


class SmolHelper:
    """SmolLM2 (a ChatLM from atelier.pretrained) continuing raw text by one word."""

    def __init__(self, lm, max_span: int):
        self.lm, self.max_span = lm, max_span

    @torch.no_grad()
    def __call__(self, texts: list[str]) -> list[str]:
        model, tok = self.lm.model, self.lm.tokenizer  # left-padded: every text ends at the last column
        enc = tok(list(texts), return_tensors="pt", padding=True, add_special_tokens=False).to(model.device)
        out = model.generate(**enc, max_new_tokens=self.max_span, do_sample=False, temperature=None, top_p=None,
                             top_k=None, pad_token_id=tok.pad_token_id)
        continuations = tok.batch_decode(out[:, enc.input_ids.shape[1] :], skip_special_tokens=True)
        return [first_word(c) for c in continuations]
