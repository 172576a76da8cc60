"""train_lean against fit(): the same optimisation without Lightning gives the same losses."""

from __future__ import annotations

import dataclasses

import polars as pl
import pytest
import torch

from atelier.nn import Parameterisation, Transformer, TransformerConfig
from atelier.train import NextTokenLoss, TrainConfig, fit, train_lean


class _TinyData:
    """Random token blocks served like a TextDataModule: seeded shuffled training order, fixed validation."""

    def __init__(self):
        gen = torch.Generator().manual_seed(0)
        self.train_blocks = torch.randint(0, 64, (40, 8), generator=gen)
        self.val_blocks = torch.randint(0, 64, (12, 8), generator=gen)

    def _loader(self, blocks, shuffle):
        dataset = [{"tokens": row} for row in blocks]
        return torch.utils.data.DataLoader(dataset, batch_size=4, shuffle=shuffle, drop_last=shuffle,
                                           generator=torch.Generator().manual_seed(3) if shuffle else None)

    def train_dataloader(self):
        return self._loader(self.train_blocks, True)

    def val_dataloader(self):
        return self._loader(self.val_blocks, False)


def _model() -> Transformer:
    """A CompleteP model away from its base, so every per-group LR, eps and weight decay differs."""
    torch.manual_seed(1)
    config = TransformerConfig(vocab_size=64, width=16, depth=3, n_heads=2, head_dim=8, max_len=8)
    return Transformer(config, Parameterisation("completep", base_width=8, base_depth=1, alpha=1.0))


def test_lean_loop_trains_exactly_like_fit(tmp_path):
    # 10 steps (the whole pass): warmup, cosine decay, clipping, weight decay, two validations
    config = TrainConfig(steps=10, lr=2.0 ** -5, weight_decay=0.1, warmup_steps=3, grad_clip=0.5, seed=0,
                         log_every=3, val_every=5, accelerator="cpu")
    data = _TinyData()
    lean = train_lean(config, _model(), NextTokenLoss(), data)
    ref = fit(config, _model(), NextTokenLoss(), train=data.train_dataloader(), val=data.val_dataloader(),
              run_dir=tmp_path, peak_flops=1e9).metrics
    for column in ("loss", "val_loss"):
        got, want = (f.filter(pl.col(column).is_not_null()).select("step", column) for f in (lean, ref))
        assert got["step"].to_list() == want["step"].to_list()
        assert got[column].to_list() == pytest.approx(want[column].to_list(), abs=1e-5)


def test_lean_loop_refuses_a_second_pass_and_unsupported_options():
    config = TrainConfig(steps=11, lr=1e-3, accelerator="cpu")
    with pytest.raises(ValueError, match="steps=11 but the training data holds 10 batches"):
        train_lean(config, _model(), NextTokenLoss(), _TinyData())
    with pytest.raises(ValueError, match="ema_decay or compile"):
        train_lean(dataclasses.replace(config, steps=5, ema_decay=0.99), _model(), NextTokenLoss(), _TinyData())
