"""The study's models: bidirectional transformers under CompleteP, one base model scaled in width.

CompleteP (Dey et al. 2025) relative to base_width x base_depth scales init, residual branches,
logits and per-group AdamW settings so that the learning rate tuned on the base transfers to
every size of the scaling grid, as the paper does. Embeddings start at the init std of every
matrix (cfg.embedding_std). Attention and MLP matrices learn at cfg.hidden_lr times the base LR,
embeddings, norm gains and unembedding at the base LR (one LR for all by default; config.py has
the measurement). N, the size of a scaling law, counts the non-embedding parameters (Kaplan et
al. 2020).
"""

from __future__ import annotations

import torch

from atelier.nn import Parameterisation, Transformer, TransformerConfig
from atelier.studies.trimodal_diffusion.config import Config


def parameterisation(cfg: Config) -> Parameterisation:
    return Parameterisation("completep", cfg.base_width, cfg.base_depth, init_std=cfg.init_std,
                            multipliers={"embedding": {"init": cfg.embedding_std / cfg.init_std},
                                         "attention": {"mult": cfg.attention_mult, "lr": cfg.hidden_lr},
                                         "mlp": {"lr": cfg.hidden_lr}})


def build_model(cfg: Config, vocab_size: int, width: int, depth: int, seed: int) -> Transformer:
    """A bidirectional transformer of width x depth (heads of cfg.head_dim), initialised from seed."""
    if width % cfg.head_dim:
        raise ValueError(f"width={width} must be a multiple of head_dim={cfg.head_dim}")
    torch.manual_seed(seed)
    config = TransformerConfig(vocab_size=vocab_size, width=width, depth=depth, n_heads=width // cfg.head_dim,
                               head_dim=cfg.head_dim, max_len=cfg.seq_len, attention="bidirectional",
                               pos_embedding=cfg.pos_embedding)
    return Transformer(config, parameterisation(cfg))
