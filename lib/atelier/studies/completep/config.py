"""Config of the CompleteP study: data, base model, sweeps and search sizes.

The defaults are the cpu preset (about 16 CPU-minutes with one torch thread, half of it in the
depth sweep's 360-step runs);
``smoke`` only wires every experiment; ``gpu`` is the paper-like sweep for one H100.
"""

from __future__ import annotations

import dataclasses
from typing import ClassVar

from atelier.studies.config import StudyConfig


@dataclasses.dataclass(frozen=True)
class Config(StudyConfig):
    """Defaults are the cpu preset."""

    # data: packed causal-LM blocks of one text domain, BPE tokenizer trained on it (cached)
    domain: str = "wordnet-definitions"
    vocab_size: int = 2048
    seq_len: int = 32
    batch_size: int = 16  # sequences per step at the base batch size
    val_tokens: int = 8192
    # the base model every parameterisation shares: muP / CompleteP scale away from it
    base_width: int = 32
    base_depth: int = 2
    head_dim: int = 16  # fixed; the number of heads grows with width
    init_std: float = 0.02  # base std of the hidden matrices and the unembedding
    embedding_std: float = 1.0  # unit-scale token embeddings (as in the muP / CompleteP papers)
    # the base model's hidden-matrix (attention, MLP) LR relative to the base LR (embeddings, norms, unembedding),
    # tuned at the base width (32 x 2, 120 steps, best loss over the LR grid): 1 -> 5.94, 1/2 -> 5.47, 1/4 -> 5.26,
    # 1/8 -> 5.24, 1/16 -> 5.23 nats. At 1 one LR cannot suit unit-scale embeddings and small hidden matrices, the
    # optimum is a compromise between the two, and it moves with width as the hidden matrices' share grows
    hidden_lr: float = 0.25
    alpha: float = 1.0  # CompleteP depth exponent of the LR sweeps and the search
    # base optimizer (AdamW); lr is swept
    steps: int = 120
    warmup_fraction: float = 0.2
    grad_clip: float = 1.0  # max gradient norm; only loss spikes reach it (typical norms are 0.1-0.5)
    weight_decay: float = 0.1
    eps: float = 1e-8
    beta1: float = 0.9
    beta2: float = 0.95
    threads: int = 1  # torch CPU threads; 1 avoids OpenMP spin-waits on a shared machine
    # 1. coordinate check
    coord_widths: tuple[int, ...] = (32, 64, 128, 256)
    coord_depths: tuple[int, ...] = (2, 4, 8, 16)
    coord_alphas: tuple[float, ...] = (0.5, 1.0)
    coord_steps: int = 10
    coord_log2_lr: float = -5.0
    seeds: int = 2  # initialisations averaged per loss of the LR sweeps and the per-module search
    # 2. learning-rate sweeps (base LR = 2 ** log2_lr)
    sweep_widths: tuple[int, ...] = (16, 32, 64, 128)  # at base_depth
    sweep_depths: tuple[int, ...] = (2, 4, 8, 16)  # at base_width
    log2_lrs: tuple[float, ...] = (-7.5, -6.0, -4.5, -3.0, -1.5)  # coarse grid of the width sweep
    max_extensions: int = 2  # grid steps added past an end of the grid that holds a curve's minimum
    refine_offsets: tuple[float, ...] = (-0.75, 0.75)  # extra LRs around each width curve's coarse minimum
    # the depth sweep trains 3x longer: at 120 steps one initialisation of a deep model can spike near the
    # optimum (depth 8 at 2^-2.5: 5.67 against 5.29 nats for the other) and not recover, which moves the
    # optima by more than the drift to measure (1.54 at 120 steps, 0.26 at 360)
    depth_steps: int = 360
    depth_log2_lrs: tuple[float, ...] = (-4.0, -3.5, -3.0, -2.5, -2.0)  # fine grid, extended at its ends
    depth_refine_offsets: tuple[float, ...] = ()
    contrast_seeds: int = 1  # initialisations of muP's depth curves (the contrast, not a claim)
    bootstrap: int = 200  # resamples of the initialisations for the optima's uncertainty
    # 3. batch size (SDE rule) and duration (fixed AdamW timescale) transfer, on the base model
    batch_factors: tuple[float, ...] = (0.5, 1.0, 2.0)
    batch_log2_lr_offsets: tuple[float, ...] = (-1.0, 0.0, 1.0)  # around the SDE-predicted LR
    duration_factors: tuple[float, ...] = (0.5, 1.0, 2.0)
    timescales: tuple[float, ...] = (4.0, 1.0, 0.25)  # AdamW timescale tau, in epochs of the run
    # 4. per-module search on the base model, transferred to target_width x target_depth
    search_rounds: int = 6
    search_candidates: int = 4  # candidates per round around the incumbent
    search_radius: float = 1.0  # initial half-width of the trust region, in log2 units
    target_width: int = 128
    target_depth: int = 2
    val_every: int = 10  # validation interval of the two target runs (loss vs steps)

    PRESETS: ClassVar[dict] = {
        "smoke": {"steps": 12, "val_tokens": 1024, "seeds": 1, "coord_widths": (16, 32, 64, 128), "coord_depths": (1, 2, 3, 4),
                  "coord_steps": 3, "sweep_widths": (16, 32), "sweep_depths": (2, 4),
                  "log2_lrs": (-7.0, -5.0, -3.0), "max_extensions": 0, "refine_offsets": (), "depth_steps": 12,
                  "depth_log2_lrs": (-7.0, -5.0, -3.0), "bootstrap": 20,
                  "batch_factors": (0.5, 1.0, 2.0),
                  "batch_log2_lr_offsets": (0.0,), "duration_factors": (0.5, 1.0, 2.0), "timescales": (1.0,),
                  "search_rounds": 1, "search_candidates": 2, "target_width": 32, "target_depth": 2,
                  "val_every": 4},
        "gpu": {"vocab_size": 4096, "seq_len": 256, "batch_size": 64, "val_tokens": 262144, "base_width": 128,
                "base_depth": 2, "head_dim": 64, "steps": 2000, "threads": 8,
                "coord_widths": (128, 256, 512, 1024, 2048), "coord_depths": (2, 4, 8, 16, 32),
                "sweep_widths": (128, 256, 512, 1024), "sweep_depths": (2, 4, 8, 16),
                "log2_lrs": (-12.0, -11.0, -10.0, -9.0, -8.0, -7.0, -6.0, -5.0, -4.0), "refine_offsets": (-0.5, 0.5),
                "depth_steps": 2000, "depth_log2_lrs": (-12.0, -11.0, -10.0, -9.0, -8.0, -7.0, -6.0, -5.0, -4.0),
                "depth_refine_offsets": (-0.5, 0.5), "contrast_seeds": 2,
                "batch_factors": (0.25, 0.5, 1.0, 2.0, 4.0), "batch_log2_lr_offsets": (-1.0, -0.5, 0.0, 0.5, 1.0),
                "duration_factors": (0.25, 0.5, 1.0, 2.0, 4.0), "timescales": (8.0, 2.0, 1.0, 0.5, 0.125),
                "search_rounds": 16, "search_candidates": 8, "target_width": 1024, "target_depth": 2,
                "val_every": 100},
    }

    def __post_init__(self):
        if self.target_width not in self.sweep_widths or self.target_depth != self.base_depth:
            raise ValueError(f"target {self.target_width}x{self.target_depth} must be a width of sweep_widths "
                             f"{self.sweep_widths} at base_depth={self.base_depth}: its global-only baseline "
                             "is the width sweep's CompleteP curve")
        if self.base_width not in self.sweep_widths or self.base_depth not in self.sweep_depths:
            raise ValueError(f"base model {self.base_width}x{self.base_depth} must be in sweep_widths "
                             f"{self.sweep_widths} and sweep_depths {self.sweep_depths}")
