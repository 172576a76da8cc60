"""The study's model sizes: one transformer per width, and each size's pretraining budget."""

from __future__ import annotations

from atelier.nn import Parameterisation, Transformer, TransformerConfig
from atelier.studies.finetune_forgetting.config import Config


def model_config(cfg: Config, width: int, vocab_size: int) -> TransformerConfig:
    if width % cfg.head_dim:
        raise ValueError(f"width {width} is not a multiple of head_dim={cfg.head_dim}")
    return TransformerConfig(vocab_size=vocab_size, width=width, depth=cfg.depth, n_heads=width // cfg.head_dim,
                             max_len=cfg.seq_len)


def build_model(cfg: Config, width: int, vocab_size: int) -> Transformer:
    """The model of this width under cfg.parameterisation (relative to cfg.base_width), so the
    pretraining and finetuning learning rates tuned at the base width hold for every size."""
    return Transformer(model_config(cfg, width, vocab_size),
                       Parameterisation(cfg.parameterisation, base_width=cfg.base_width))


def pretrain_steps(cfg: Config, width: int) -> int:
    """Optimizer steps of this width's pretraining: cfg.pretrain_tokens_per_param tokens per
    non-embedding parameter, in batches of cfg.pretrain_batch sequences of cfg.seq_len tokens.

    Why: the paper's model sizes are each pretrained on a compute-optimal budget, so a larger model
    is both larger and longer trained. With one budget for every size (300 steps here earlier) the
    wide models end far from converged, every size follows nearly the same curve under muP, and the
    early-stopped forgetting did not fall with N."""
    n_params = build_model(cfg, width, cfg.vocab_size).num_params()
    return max(1, round(cfg.pretrain_tokens_per_param * n_params / (cfg.pretrain_batch * cfg.seq_len)))
