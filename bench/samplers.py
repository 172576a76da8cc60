"""Samplers: tokens per model call, wall time per sample and accuracy of each unmasking rule on
study 04's dLLM (its cpu-preset model and training, atelier.studies.unmasking_policy), filling the
generation buffer of 4-digit additions (answer, then eos: Fast-dLLM's fixed generation length).

Rules: one token per call (confidence top-k with k=1: the accuracy reference), top-k with larger
k, ancestral, the Fast-dLLM confidence threshold for a sweep of tau, and the factor rule.
"""

from __future__ import annotations

import time

import torch

from atelier.diffusion import sample
from atelier.studies.unmasking_policy import Config, data, dllm
from bench.common import device, row

TASK = "addition"


def train_model(cfg: Config, dev: torch.device) -> tuple[torch.nn.Module, int]:
    """Study 04's first dLLM, trained as the study trains it; (model on dev, prompt length)."""
    prompt_len = data.prompt_len(cfg.difficulties)
    model = dllm.build(cfg, cfg.width, cfg.depth, prompt_len, seed=0)
    dllm.train(cfg, model, prompt_len, seed=0, name="bench-sampler-dllm")
    return model.to(dev).eval(), prompt_len


def evaluate(model, cfg: Config, prompt_len: int, n: int, method: str, **opts) -> dict:
    frame = data.examples(cfg.difficulties, [TASK], n, seed=1)
    prompts = data.masked_prompts(frame, prompt_len, cfg.buffer).to(next(model.parameters()).device)
    start = time.perf_counter()
    with torch.no_grad():
        out, nfe = sample(model, prompts, mask_id=data.VOCAB.mask_id, method=method, **opts)
    seconds = time.perf_counter() - start
    correct = data.judge(out.cpu(), frame, prompt_len)
    return {"accuracy": 100 * correct.float().mean().item(),
            "tokens_per_call": cfg.buffer / nfe.float().mean().item(), "ms_per_sample": 1e3 * seconds / n}


def run(quick: bool = False) -> list[dict]:
    dev = device()
    cfg = Config.preset("smoke" if quick else "cpu")
    model, prompt_len = train_model(cfg, dev)
    rules = {"one per call (top-k k=1)": dict(method="topk", k=1), "top-k k=2": dict(method="topk", k=2),
             "ancestral 4 steps": dict(method="ancestral", steps=4),
             **{f"threshold tau={tau}": dict(method="threshold", tau=tau) for tau in (0.99, 0.95, 0.9, 0.7, 0.5)},
             "factor 1.0": dict(method="factor", factor=1.0)}
    rows = []
    for name, opts in rules.items():
        result = evaluate(model, cfg, prompt_len, 64 if quick else 2000, **opts)
        rows += [row("samplers", name, metric, value, unit) for metric, value, unit in [
            ("accuracy", result["accuracy"], "%"), ("tokens per call", result["tokens_per_call"], "tokens"),
            ("time per sample", result["ms_per_sample"], "ms")]]
    return rows
