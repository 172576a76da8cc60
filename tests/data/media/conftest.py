"""Shared fixtures for the media tests: a byte-level text tokenizer and a small audio codec."""

import pytest

from atelier.data.media import NUMBER_WORDS, train_audio_codec

CODEC_VOICES = ("en", "en-us", "en+m3", "en+f2")


class ByteTokenizer:
    """Four specials, then UTF-8 bytes as ids: a round trip exact by construction. It holds only
    some of the multimodal specials, so the vocabulary must append the rest."""

    special_ids = {"<pad>": 0, "<mask>": 1, "<bos>": 2, "<eos>": 3}
    vocab_size = 4 + 256

    def encode(self, text: str) -> list[int]:
        return [4 + b for b in text.encode()]

    def decode(self, ids: list[int]) -> str:
        return bytes(i - 4 for i in ids).decode(errors="replace")


@pytest.fixture(scope="session")
def text_tokenizer():
    return ByteTokenizer()


@pytest.fixture(scope="session")
def codec_voices():
    return CODEC_VOICES


@pytest.fixture(scope="session")
def codec():
    """64 centroids fitted on the ten number words in four voices (the en+f3 voice stays unseen)."""
    return train_audio_codec(list(NUMBER_WORDS), voices=CODEC_VOICES, speeds=(160,), codebook_size=64)
