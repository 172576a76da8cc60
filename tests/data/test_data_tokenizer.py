"""Byte-level BPE: byte-exact round trips of arbitrary unicode, specials by id only, caching."""

import random

import pytest

from atelier.data import SPECIAL_TOKENS, TextTokenizer, get_tokenizer
from atelier.data.tokenizer import train_bpe

CORPUS = [
    "The cat sat on the mat. The dog sat on the log.",
    "def add(a, b):\n    return a + b\n",
    "Paris is the capital of France; Berlin is the capital of Germany.",
] * 50


@pytest.fixture(scope="module")
def tok():
    return TextTokenizer(train_bpe(CORPUS, vocab_size=len(SPECIAL_TOKENS) + 256 + 64))


def random_text(rng: random.Random, n: int) -> str:
    """Characters from every plane: ASCII, controls, accents, CJK, emoji, astral, private use."""
    pools = [(0, 0x7F), (0x80, 0x7FF), (0x800, 0xD7FF), (0xE000, 0xFFFF), (0x10000, 0x10FFFF)]
    return "".join(chr(rng.randint(*rng.choice(pools))) for _ in range(n))


def test_round_trip_is_byte_exact(tok):
    rng = random.Random(0)
    texts = [random_text(rng, rng.randint(0, 80)) for _ in range(200)]
    texts += ["", " ", "  leading and trailing  ", "\r\n\t\x00", "naïve café 東京 🌍👩‍👩‍👧", "e\u0301 vs é"]
    for text, ids in zip(texts, tok.encode_batch(texts)):
        assert ids == tok.encode(text)
        assert tok.decode(ids).encode("utf-8", "surrogatepass") == text.encode("utf-8", "surrogatepass")
    assert tok.decode_batch(tok.encode_batch(texts)) == texts


def test_specials_have_the_first_ids_and_never_come_from_text(tok):
    assert [tok.special_ids[s] for s in SPECIAL_TOKENS] == list(range(len(SPECIAL_TOKENS)))
    assert (tok.pad_id, tok.bos_id, tok.eos_id, tok.mask_id) == (0, 1, 2, 3) and tok.call_id == tok.special_ids["<call>"]
    text = "a <eos> and <img> in text"
    ids = tok.encode(text)
    assert not set(ids) & set(range(len(SPECIAL_TOKENS))) and tok.decode(ids) == text
    assert tok.decode([tok.bos_id, *tok.encode("hi"), tok.eos_id]) == "<bos>hi<eos>"


def test_training_learns_merges_and_checks_vocab_size(tok):
    assert tok.vocab_size == len(SPECIAL_TOKENS) + 256 + 64
    assert len(tok.encode("The cat sat on the mat.")) < len("The cat sat on the mat.")
    with pytest.raises(ValueError, match="at least"):
        train_bpe(CORPUS, vocab_size=100)


def test_get_tokenizer_is_cached(tmp_path, monkeypatch):
    monkeypatch.setenv("ATELIER_CACHE", str(tmp_path))
    first = get_tokenizer({"fortunes": 1.0}, vocab_size=400, max_chars=50_000)
    files = sorted((tmp_path / "tokenizer").iterdir())
    second = get_tokenizer({"fortunes": 1.0}, vocab_size=400, max_chars=50_000)
    assert len(files) == 1 and sorted((tmp_path / "tokenizer").iterdir()) == files
    assert first.tokenizer.get_vocab() == second.tokenizer.get_vocab() and first.vocab_size == 400
    with pytest.raises(ValueError, match="valid: default"):
        get_tokenizer("klingon")
