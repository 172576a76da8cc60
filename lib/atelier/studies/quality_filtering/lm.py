"""The language models of the study: train one on a set of token sequences, and measure it.

Every model is the same atelier.nn.Transformer trained by atelier.train.fit for the same
number of steps on batches of the same shape, so runs on different data cost the same
compute (equal training tokens). Documents are joined with eos and cut into blocks
(atelier.data.pack); a short kept set is repeated, epoch after epoch.

Measurements read the model's next-token losses (NextTokenLoss.per_token) on an eos
followed by a context and a continuation, counting only the continuation's tokens: the
log-likelihood of a multiple-choice answer given its prompt, or the loss of a whole
held-out document given nothing but the document boundary.
"""

from __future__ import annotations

from typing import Sequence

import numpy as np
import polars as pl
import torch
from torch.utils.data import DataLoader

from atelier.data import TextTokenizer, pack
from atelier.data.datamodule import BlockDataset
from atelier.nn import Transformer, TransformerConfig
from atelier.train import NextTokenLoss, TrainConfig, fit


def train_lm(cfg, tokens: Sequence[Sequence[int]], vocab_size: int, eos_id: int, seed: int, name: str) -> tuple[Transformer, pl.DataFrame]:
    """A causal Transformer of cfg's size trained for cfg.steps steps on the documents `tokens`
    (lists of ids); returns the model and its training curve."""
    blocks = pack(tokens, cfg.seq_len, eos_id)  # [N, seq_len]
    if blocks.shape[0] < cfg.batch_size:
        raise ValueError(f"run {name!r}: {blocks.shape[0]} blocks of {cfg.seq_len} tokens < batch_size {cfg.batch_size}")
    loader = DataLoader(BlockDataset(blocks), batch_size=cfg.batch_size, shuffle=True, drop_last=True,
                        generator=torch.Generator().manual_seed(seed))
    torch.manual_seed(seed)
    model = Transformer(TransformerConfig(vocab_size=vocab_size, width=cfg.width, depth=cfg.depth,
                                          n_heads=cfg.n_heads, max_len=cfg.seq_len))
    train_config = TrainConfig(steps=cfg.steps, lr=cfg.lr, warmup_steps=cfg.warmup_steps, schedule="cosine",
                               weight_decay=cfg.weight_decay, seed=seed, log_every=cfg.log_every)
    result = fit(train_config, model, NextTokenLoss(), loader, name=name)
    return result.model, result.metrics


@torch.no_grad()
def continuation_nll(model: torch.nn.Module, contexts: Sequence[Sequence[int]], continuations: Sequence[Sequence[int]],
                     bos_id: int, pad_id: int, max_len: int, batch_size: int = 256) -> tuple[np.ndarray, np.ndarray]:
    """(summed negative log-likelihood, number of tokens) of each continuation after
    [bos_id] + its context; sequences longer than max_len keep their first max_len tokens."""
    model.eval()
    objective = NextTokenLoss()
    nll, counts = [], []
    for start in range(0, len(contexts), batch_size):
        pairs = list(zip(contexts[start : start + batch_size], continuations[start : start + batch_size]))
        seqs = [([bos_id, *c, *x])[:max_len] for c, x in pairs]
        width = max(len(s) for s in seqs)
        tokens = torch.full((len(seqs), width), pad_id, dtype=torch.long)  # [B, T] right-padded
        loss_mask = torch.zeros((len(seqs), width), dtype=torch.bool)  # True on continuation tokens
        for i, (s, (c, _)) in enumerate(zip(seqs, pairs)):
            tokens[i, : len(s)] = torch.tensor(s)
            loss_mask[i, 1 + len(c) : len(s)] = True
        device = next(model.parameters()).device
        losses = objective.per_token(model, {"tokens": tokens.to(device), "loss_mask": loss_mask.to(device)})  # [B, T-1]
        nll.append(losses.sum(1).double().cpu().numpy())
        counts.append(loss_mask[:, 1:].sum(1).numpy())
    return np.concatenate(nll), np.concatenate(counts)


def answer_logprobs(model: torch.nn.Module, tokenizer: TextTokenizer, questions: pl.DataFrame, k: int,
                    max_len: int) -> np.ndarray:
    """S[g, i, j] = log p(answer j | prompt i) within each group g of k questions, float[G, k, k]."""
    questions = questions.sort("group", maintain_order=True)
    G = questions["group"].n_unique()
    prompts = tokenizer.encode_batch(questions["prompt"].to_list())
    answers = tokenizer.encode_batch(questions["answer"].to_list())
    p = np.arange(G * k).reshape(G, k)  # row of question i of group g
    i_idx, j_idx = np.repeat(p, k, axis=1).ravel(), np.tile(p, (1, k)).ravel()  # every (prompt, answer) pair
    nll, _ = continuation_nll(model, [prompts[i] for i in i_idx], [answers[j] for j in j_idx],
                              tokenizer.eos_id, tokenizer.pad_id, max_len)
    return -nll.reshape(G, k, k)


def document_losses(model: torch.nn.Module, tokenizer: TextTokenizer, texts: Sequence[str],
                    max_len: int) -> tuple[np.ndarray, np.ndarray]:
    """(summed loss in nats, token count) of each document (its tokens and the closing eos)
    after an eos, over its first max_len - 1 tokens."""
    docs = [ids + [tokenizer.eos_id] for ids in tokenizer.encode_batch(list(texts))]
    return continuation_nll(model, [[]] * len(docs), docs, tokenizer.eos_id, tokenizer.pad_id, max_len)
