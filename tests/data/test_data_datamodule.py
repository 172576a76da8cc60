"""Packing and the text datamodule: blocks are the eos-joined token stream cut in order, each
block is served exactly once per epoch, and the order is fixed by the seed."""

from collections import Counter

import pytest
import torch

from atelier.data import SPECIAL_TOKENS, Mixture, TextDataModule, TextTokenizer, pack
from atelier.data.tokenizer import train_bpe

TEXTS = [f"document {i}: " + "word " * (i % 7 + 1) for i in range(300)]


@pytest.fixture(scope="module")
def tok():
    return TextTokenizer(train_bpe(TEXTS, vocab_size=len(SPECIAL_TOKENS) + 256 + 32))


def test_pack_matches_hand_concatenation():
    blocks = pack([[5, 6, 7], [8], [9, 10, 11, 12]], block_size=3, eos_id=0)
    # stream: 5 6 7 0 8 0 9 10 11 12 0 -> 3 full blocks, tail [12, 0] dropped
    assert blocks.tolist() == [[5, 6, 7], [0, 8, 0], [9, 10, 11]]
    assert pack([], block_size=4, eos_id=0).shape == (0, 4)


def test_blocks_are_the_token_stream_and_each_is_served_once(tok):
    dm = TextDataModule(tok, TEXTS, block_size=16, batch_size=4, seed=0)
    dm.setup("fit")
    stream = [t for ids in tok.encode_batch(TEXTS) for t in [*ids, tok.eos_id]]
    n = len(stream) // 16
    assert dm.train_blocks.tolist() == [stream[i * 16 : (i + 1) * 16] for i in range(n)]
    served = torch.cat([batch["tokens"] for batch in dm.train_dataloader()])  # [n_batches * 4, 16]
    assert served.shape == (n // 4 * 4, 16)  # drop_last: only the incomplete last batch is skipped
    served_count = Counter(map(tuple, served.tolist()))
    block_count = Counter(map(tuple, dm.train_blocks.tolist()))
    assert all(served_count[row] <= block_count[row] for row in served_count)  # no block twice
    assert dm.val_dataloader() == []


def test_order_is_fixed_by_the_seed(tok):
    def first_batch(seed):
        dm = TextDataModule(tok, TEXTS, block_size=16, batch_size=4, seed=seed)
        dm.setup("fit")
        return next(iter(dm.train_dataloader()))["tokens"]

    assert torch.equal(first_batch(0), first_batch(0)) and not torch.equal(first_batch(0), first_batch(1))


def test_mixture_source_draws_enough_tokens(tok):
    mix = Mixture({"fortunes": 0.5, "wordnet-examples": 0.5}, seed=0)
    dm = TextDataModule(tok, mix, block_size=32, batch_size=8, train_tokens=5_000, val_tokens=1_000)
    dm.setup("fit")
    assert dm.train_blocks.numel() >= 5_000 and dm.val_blocks.numel() >= 1_000
    assert next(iter(dm.val_dataloader()))["tokens"].shape == (8, 32)
    with pytest.raises(ValueError, match="batch_size"):
        TextDataModule(tok, TEXTS[:2], block_size=64, batch_size=8).setup("fit")
