"""The text the study trains on: one domain, a BPE tokenizer trained on it, packed blocks.

Every run of a sweep reads the same blocks in the same order (the seed fixes both), so the
losses of two runs differ only by their hyperparameters and sizes: common random numbers make
the optimum of a loss-vs-LR curve far less noisy than independent data would.
"""

from __future__ import annotations

from atelier.data import Mixture, get_tokenizer
from atelier.data.datamodule import TextDataModule
from atelier.studies.completep.config import Config


def longest_run(cfg: Config) -> int:
    """Steps of the study's longest run at the base batch: the longest duration or the depth sweep."""
    return max(round(cfg.steps * max(cfg.duration_factors)), cfg.depth_steps)


def build_data(cfg: Config, seed: int) -> TextDataModule:
    """Packed blocks of cfg.domain, enough for the longest run without repeating a block."""
    tokenizer = get_tokenizer({cfg.domain: 1.0}, vocab_size=cfg.vocab_size)
    tokens_per_step = cfg.batch_size * cfg.seq_len
    datamodule = TextDataModule(
        tokenizer, Mixture({cfg.domain: 1.0}, seed=seed), block_size=cfg.seq_len, batch_size=cfg.batch_size,
        train_tokens=longest_run(cfg) * tokens_per_step, val_tokens=cfg.val_tokens, seed=seed,
    )
    datamodule.setup()
    return datamodule


def with_batch_size(datamodule: TextDataModule, batch_size: int) -> TextDataModule:
    """The same blocks (already tokenized) served in batches of batch_size."""
    other = TextDataModule(datamodule.tokenizer, datamodule.train_source, datamodule.val_source,
                           block_size=datamodule.block_size, batch_size=batch_size,
                           train_tokens=datamodule.train_tokens, val_tokens=datamodule.val_tokens,
                           seed=datamodule.seed)
    other.train_blocks, other.val_blocks = datamodule.train_blocks, datamodule.val_blocks
    return other
