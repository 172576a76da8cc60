"""The models of the study: one base model, scaled in width and depth under SP, muP or CompleteP.

Every parameterisation shares the base model (base_width x base_depth): at that size SP, muP
and CompleteP build the same network (up to SP's 1/sqrt(d_head) attention scale) and only
differ in how init, multipliers and AdamW settings move away from it. The head dimension is
fixed and the number of heads grows with width.

The token embedding starts at unit scale (std ``cfg.embedding_std`` = 1, as in the muP and
CompleteP papers), not GPT-2's 0.02: with a tiny embedding the first few large Adam updates
decorrelate the block inputs differently at each width, and a coordinate check from a small
base width is not flat. The base model's attention and MLP matrices learn at ``cfg.hidden_lr`` times
the base LR (tuned at the base width; config.py has the measurement): unit-scale embeddings want a
far larger Adam step than small-init hidden matrices. The per-module multipliers of a search stack
on top of this base.
"""

from __future__ import annotations

from collections.abc import Mapping

import torch

from atelier.nn import Parameterisation, Transformer, TransformerConfig
from atelier.studies.completep.config import Config

KINDS = ("sp", "mup", "completep")


def parameterisation(cfg: Config, kind: str, alpha: float | None = None,
                     multipliers: Mapping[str, Mapping[str, float]] | None = None) -> Parameterisation:
    """``kind`` relative to the base model, unit-scale embedding, optional per-module multipliers."""
    if kind not in KINDS:
        raise ValueError(f"kind={kind!r}: valid kinds are {KINDS}")
    mults = {module: dict(knobs) for module, knobs in (multipliers or {}).items()}
    embedding = mults.setdefault("embedding", {})
    embedding["init"] = embedding.get("init", 1.0) * cfg.embedding_std / cfg.init_std
    for module in ("attention", "mlp"):
        hidden = mults.setdefault(module, {})
        hidden["lr"] = hidden.get("lr", 1.0) * cfg.hidden_lr
    return Parameterisation(kind, cfg.base_width, cfg.base_depth, alpha=cfg.alpha if alpha is None else alpha,
                            init_std=cfg.init_std, multipliers=mults)


def build_model(cfg: Config, vocab_size: int, kind: str, width: int, depth: int, seed: int,
                alpha: float | None = None, multipliers: Mapping[str, Mapping[str, float]] | None = None,
                ) -> Transformer:
    """A causal Transformer of width x depth under ``kind``, initialised from ``seed``."""
    if width % cfg.head_dim:
        raise ValueError(f"width={width} must be a multiple of head_dim={cfg.head_dim}")
    torch.manual_seed(seed)
    config = TransformerConfig(vocab_size=vocab_size, width=width, depth=depth, n_heads=width // cfg.head_dim,
                               head_dim=cfg.head_dim, max_len=cfg.seq_len)
    return Transformer(config, parameterisation(cfg, kind, alpha, multipliers))
