"""Config of the finetuning-forgetting study: defaults are the cpu preset (about 40 CPU-minutes, one thread).

The cpu preset finetunes for long on small target sets (8 and 16 sequences, seen hundreds of
times): the paper's injection finding is about that regime, where the target set is learnt and
the pretraining loss keeps drifting without injection; short runs on large sets end before it.

The forgetting law is about the early-stopped checkpoint, which these sets reach 8-15 steps into
finetuning, where the forgetting grows 10-40% per step. Three measurement errors that vanish at
the paper's scale (thousands of steps to the early stop) dominate it here: the integer step grid
(one step is ~10% of the early-stop time: the early stop is located in continuous time), the
validation set that locates a flat minimum (32 blocks move it by about a step and the forgetting
by 20-25%: law_val_blocks = 256) and the pretrained model (another seed moves the forgetting of a
width by ~14%, and a width-32 model's by up to 40%: law_seeds = 6, about 20 of the 40 CPU-minutes;
the law's points are the early stops of the seed-mean curves).

Each size pretrains on 20 tokens per parameter, as the paper's sizes are trained compute-optimally:
with one budget for all, the sizes ended close together and the early-stopped forgetting was flat
in N. With it the forgetting falls with N; on 3 seeds it seemed to level off from width 48 to 64
(held-out error ~0.2), on 6-8 seeds the law predicts the held-out width within 6-8%.
"""

from __future__ import annotations

import dataclasses
from typing import ClassVar

from atelier.studies.config import StudyConfig


@dataclasses.dataclass(frozen=True)
class Config(StudyConfig):
    # data: the model pretrains on a general English mixture; the targets are held out from it
    pretrain_domains: tuple[str, ...] = ("wordnet-definitions", "wordnet-examples", "manpages")
    targets: tuple[str, ...] = ("python-stdlib", "fortunes")
    tokenizer: str = "default"  # atelier.data.get_tokenizer mixture (trained on every domain)
    vocab_size: int = 1024
    seq_len: int = 64
    val_blocks: int = 32  # blocks of each validation set (pretraining, every target)
    # the models: atelier.nn.Transformer, one per width, all of this depth and head size
    widths: tuple[int, ...] = (16, 32, 48, 64)
    depth: int = 2
    head_dim: int = 16
    # muP (atelier.nn.Parameterisation) relative to base_width: the learning rates below are tuned
    # for a model of base_width and transfer to every width (hidden-matrix LR * base_width / width)
    parameterisation: str = "mup"  # sp | mup
    base_width: int = 16
    # pretraining: each size on pretrain_tokens_per_param tokens per non-embedding parameter (compute-optimal
    # budgets, like the paper's models: a larger model is also longer trained), each block seen once, the budgets
    # nested prefixes of one stream; warmup is pretrain_warmup_fraction of a size's steps, then cosine decay
    pretrain_tokens_per_param: float = 20.0
    pretrain_batch: int = 32
    pretrain_lr: float = 3e-2
    pretrain_warmup_fraction: float = 0.1
    # finetuning grid: unique target tokens x injection fraction, constant LR after a warmup
    target_tokens: tuple[int, ...] = (512, 1024)
    injection: tuple[float, ...] = (0.0, 0.001, 0.005, 0.01, 0.05)
    finetune_steps: int = 400
    finetune_batch: int = 16
    finetune_lr: float = 1e-2
    finetune_warmup: int = 10
    eval_points: int = 80  # evaluations along each run spaced geometrically in the step (every step to 15) ...
    eval_even: int = 10  # ... and this many spaced evenly
    # the forgetting law's points: every run again for law_seeds pretraining seeds (seed, seed + 1, ...), each
    # stopped `patience` evaluations past its lowest target validation loss on a larger set (law_val_blocks); the
    # point is the early stop of the run's seed-mean curves, located in continuous time
    law_val_blocks: int = 256
    patience: int = 8
    law_seeds: int = 6
    # fits: the forgetting law is fitted on all but the largest model and tested on it
    heldout_width: int = 64

    PRESETS: ClassVar[dict] = {
        "smoke": {"widths": (16, 32), "heldout_width": 32, "targets": ("python-stdlib",),
                  "target_tokens": (1024, 2048, 4096), "injection": (0.0, 0.01, 0.05), "val_blocks": 8,
                  "pretrain_tokens_per_param": 0.5, "pretrain_batch": 8,
                  "law_val_blocks": 16, "patience": 3, "law_seeds": 2,
                  "finetune_steps": 12, "finetune_batch": 8, "finetune_lr": 1e-2, "finetune_warmup": 2,
                  "eval_points": 4, "eval_even": 4},
        "gpu": {"targets": ("python-stdlib", "facts-documents", "fortunes"), "vocab_size": 4096, "seq_len": 256,
                "val_blocks": 512, "widths": (128, 192, 256, 384, 512), "depth": 6, "head_dim": 64,
                "heldout_width": 512, "pretrain_batch": 128, "pretrain_lr": 1e-2, "target_tokens": (4096, 16384, 65536),
                "finetune_steps": 3000, "finetune_batch": 32, "finetune_lr": 3e-3, "finetune_warmup": 100,
                "law_val_blocks": 1024, "patience": 8, "law_seeds": 1,
                "eval_points": 128, "eval_even": 32},
    }
