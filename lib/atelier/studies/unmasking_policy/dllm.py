"""The dLLMs: small bidirectional masked-diffusion transformers trained on the tasks.

Each model learns every task (the policy's training tasks and the held-out one) from fresh
examples, with generation buffers of L to 2L positions so that it can fill the 2x-longer
buffers of the transfer experiment. The objective is atelier's masked-diffusion NELBO on the
buffer (the prompt is never masked); training goes through atelier.train.fit.
"""

from __future__ import annotations

import polars as pl
import torch

from atelier.diffusion import MaskedDiffusionLoss
from atelier.nn import Transformer, TransformerConfig
from atelier.studies.unmasking_policy import data
from atelier.train import TrainConfig, fit


def build(cfg, width: int, depth: int, prompt_len: int, seed: int) -> Transformer:
    """A bidirectional transformer of width x depth with heads of cfg.head_dim, from seed."""
    if width % cfg.head_dim:
        raise ValueError(f"width={width} must be a multiple of head_dim={cfg.head_dim}")
    torch.manual_seed(seed)
    config = TransformerConfig(vocab_size=len(data.VOCAB), width=width, depth=depth, n_heads=width // cfg.head_dim,
                               head_dim=cfg.head_dim, max_len=prompt_len + 2 * cfg.buffer, attention="bidirectional",
                               pos_embedding=cfg.pos_embedding)
    return Transformer(config)


def train(cfg, model: Transformer, prompt_len: int, seed: int, name: str) -> pl.DataFrame:
    """Train model in place on every task of cfg.difficulties; returns its loss curve (step, loss)."""
    stream = data.TrainingStream(cfg.difficulties, cfg.task_weights, cfg.dllm_batch, cfg.dllm_steps, prompt_len, cfg.buffer, seed)
    loader = torch.utils.data.DataLoader(stream, batch_size=None)
    config = TrainConfig(steps=cfg.dllm_steps, lr=cfg.dllm_lr, betas=(0.9, 0.98), warmup_steps=cfg.dllm_warmup,
                         schedule="cosine", min_lr_factor=cfg.dllm_min_lr, seed=seed, log_every=max(1, cfg.dllm_steps // 50))
    result = fit(config, model, MaskedDiffusionLoss(cfg.noise_schedule, data.VOCAB.mask_id), loader, name=name)
    model.eval()
    return result.metrics.select("step", "loss").drop_nulls().with_columns(model=pl.lit(name))
