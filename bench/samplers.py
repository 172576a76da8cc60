"""Samplers: tokens per model call, wall time per sample and accuracy of each unmasking rule
on a small masked-diffusion model trained here on 4-digit addition (answers of 5 digits).

Rules: one token per call (top-k, k=1: the accuracy reference), confidence top-k with larger k,
ancestral, the Fast-dLLM threshold for a sweep of tau, and the factor rule.
"""

from __future__ import annotations

import time

import torch

from atelier.data import tasks
from atelier.diffusion import MaskedDiffusionLoss, sample
from atelier.nn import Transformer, TransformerConfig
from atelier.train import TrainConfig, fit
from bench.common import device, row

DIGITS = 4


def train_model(steps: int, dev, run_dir) -> tuple[Transformer, tasks.TaskVocab]:
    vocab = tasks.TaskVocab()
    data = vocab.tensorize(tasks.generate("addition", 20_000, seed=0, difficulty=DIGITS))
    cfg = TransformerConfig(vocab_size=len(vocab), width=128, depth=4, n_heads=4, max_len=32,
                            attention="bidirectional", pos_embedding=True)
    model = Transformer(cfg).to(dev)
    loader = torch.utils.data.DataLoader(
        [{"tokens": t, "loss_mask": m} for t, m in zip(data["tokens"], data["loss_mask"])], batch_size=128,
        shuffle=True)
    fit(TrainConfig(steps=steps, lr=3e-3, warmup_steps=50, log_every=50), model,
        MaskedDiffusionLoss("linear", mask_id=vocab.mask_id), train=loader, run_dir=run_dir, name="sampler-dllm")
    return model.eval(), vocab


def evaluate(model, vocab, examples, method: str, **opts) -> dict:
    data = vocab.tensorize(examples)
    prompt = data["tokens"].masked_fill(data["loss_mask"], vocab.mask_id).to(next(model.parameters()).device)
    answer_len = int(data["loss_mask"][0].sum())
    start = time.perf_counter()
    with torch.no_grad():
        out, nfe = sample(model, prompt, mask_id=vocab.mask_id, method=method, **opts)
    seconds = time.perf_counter() - start
    correct = [tasks.check(vocab.decode(row_[m].tolist()), ex)
               for row_, m, ex in zip(out.cpu(), data["loss_mask"], examples.iter_rows(named=True))]
    return {"accuracy": 100 * sum(correct) / len(correct), "tokens_per_call": answer_len / nfe.float().mean().item(),
            "ms_per_sample": 1e3 * seconds / len(correct)}


def run(quick: bool = False) -> list[dict]:
    import tempfile

    dev = device()
    model, vocab = train_model(300 if quick else 2000, dev, tempfile.mkdtemp(prefix="atelier-bench-"))
    examples = tasks.generate("addition", 200 if quick else 1000, seed=1, difficulty=DIGITS)
    rules = {"one per call (top-k k=1)": dict(method="topk", k=1), "top-k k=2": dict(method="topk", k=2),
             "ancestral 3 steps": dict(method="ancestral", steps=3),
             **{f"threshold tau={tau}": dict(method="threshold", tau=tau) for tau in (0.99, 0.95, 0.9, 0.7, 0.5)},
             "factor 1.0": dict(method="factor", factor=1.0)}
    rows = []
    for name, opts in rules.items():
        result = evaluate(model, vocab, examples, **opts)
        rows += [row("samplers", name, metric, value, unit) for metric, value, unit in [
            ("accuracy", result["accuracy"], "%"), ("tokens per call", result["tokens_per_call"], "tokens"),
            ("time per sample", result["ms_per_sample"], "ms")]]
    return rows
