"""Byte-level BPE text tokenizer, trained with `tokenizers` on a mixture of domains and cached.

Byte-level BPE (no normaliser, no prefix space) maps any text to ids and back byte-exactly.
Special tokens take the first ids in SPECIAL_TOKENS order; they are never produced from
input text (a text containing "<eos>" is encoded as its characters), so encoding is a
plain function of the bytes and studies add specials by id.

    tok = get_tokenizer("default", vocab_size=4096)
    ids = tok.encode("A cat.")                 # list[int]
    tok.decode(ids) == "A cat."
    tok.eos_id, tok.mask_id, tok.special_ids["<img>"]
"""

from __future__ import annotations

from pathlib import Path
from typing import Sequence

import numpy as np
from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers

from atelier.data.cache import cached_path
from atelier.data.splits import unit_hash

SPECIAL_TOKENS = (
    "<pad>", "<bos>", "<eos>", "<mask>", "<call>", "<sep>",
    "<img>", "</img>", "<audio>", "</audio>",
    "<task:text>", "<task:caption>", "<task:draw>", "<task:speak>", "<task:transcribe>",
)  # fmt: skip
VERSION = 1

# named training mixtures: dataset -> weight (share of the training characters)
MIXTURES: dict[str, dict[str, float]] = {
    "default": {
        "wordnet-definitions": 1.0, "wordnet-examples": 1.0, "fortunes": 1.0,
        "facts-documents": 1.0, "manpages": 1.0, "python-stdlib": 1.0,
    },
    "english": {"wordnet-definitions": 1.0, "wordnet-examples": 1.0, "fortunes": 1.0, "facts-documents": 1.0},
}  # fmt: skip


class TextTokenizer:
    """A trained tokenizers.Tokenizer with batch encode/decode and named special ids."""

    def __init__(self, tokenizer: Tokenizer) -> None:
        self.tokenizer = tokenizer
        self.tokenizer.encode_special_tokens = True  # specials never come from text
        self.special_ids = {token: tokenizer.token_to_id(token) for token in SPECIAL_TOKENS}
        self.pad_id = self.special_ids["<pad>"]
        self.bos_id = self.special_ids["<bos>"]
        self.eos_id = self.special_ids["<eos>"]
        self.mask_id = self.special_ids["<mask>"]
        self.call_id = self.special_ids["<call>"]

    @property
    def vocab_size(self) -> int:
        return self.tokenizer.get_vocab_size()

    def __len__(self) -> int:
        return self.vocab_size

    def encode(self, text: str) -> list[int]:
        return self.tokenizer.encode(text, add_special_tokens=False).ids

    def encode_batch(self, texts: Sequence[str]) -> list[list[int]]:
        """Ids of each text, encoded in parallel by the Rust backend."""
        return [e.ids for e in self.tokenizer.encode_batch(list(texts), add_special_tokens=False)]

    def decode(self, ids: Sequence[int]) -> str:
        """Text of ids; special tokens appear as their strings ("<eos>")."""
        return self.tokenizer.decode(list(ids), skip_special_tokens=False)

    def decode_batch(self, batch: Sequence[Sequence[int]]) -> list[str]:
        return self.tokenizer.decode_batch([list(ids) for ids in batch], skip_special_tokens=False)

    def token(self, token_id: int) -> str:
        """The vocabulary entry of one id (byte-level symbols, e.g. "Ġcat")."""
        return self.tokenizer.id_to_token(token_id)

    def save(self, path: str | Path) -> None:
        self.tokenizer.save(str(path))

    @classmethod
    def from_file(cls, path: str | Path) -> TextTokenizer:
        return cls(Tokenizer.from_file(str(path)))


def train_bpe(texts: Sequence[str], vocab_size: int, special_tokens: Sequence[str] = SPECIAL_TOKENS) -> Tokenizer:
    """A byte-level BPE tokenizer trained on texts (specials first, then the 256 bytes)."""
    minimum = len(special_tokens) + 256
    if vocab_size < minimum:
        raise ValueError(f"vocab_size must be at least {minimum} (specials + 256 bytes), got {vocab_size}")
    tokenizer = Tokenizer(models.BPE())
    tokenizer.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tokenizer.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(
        vocab_size=vocab_size,
        special_tokens=list(special_tokens),
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
        show_progress=False,
    )
    tokenizer.train_from_iterator(texts, trainer=trainer, length=len(texts))
    return tokenizer


def training_texts(weights: dict[str, float], max_chars: int, seed: int = 0) -> list[str]:
    """Documents from the train splits, each domain taking its weight's share of max_chars."""
    from atelier.data.catalog import load

    total = sum(weights.values())
    texts: list[str] = []
    for name, weight in sorted(weights.items()):
        budget = int(max_chars * weight / total)
        docs = load(name, "train")
        order = np.argsort(unit_hash(f"{seed}:{doc_id}" for doc_id in docs["id"]))  # a shuffle stable everywhere
        shuffled = docs["text"].gather(order)
        starts = shuffled.str.len_chars().cum_sum() - shuffled.str.len_chars()
        texts.extend(shuffled.filter(starts < budget).to_list())
    return texts


def get_tokenizer(
    domains: str | dict[str, float] = "default",
    vocab_size: int = 4096,
    max_chars: int = 4_000_000,
    seed: int = 0,
) -> TextTokenizer:
    """A BPE tokenizer trained on a named mixture (see MIXTURES) or a {dataset: weight} dict,
    trained once and cached by its inputs."""
    if isinstance(domains, str):
        if domains not in MIXTURES:
            raise ValueError(f"unknown tokenizer mixture {domains!r}; valid: {', '.join(MIXTURES)} or a dict of datasets")
        domains = MIXTURES[domains]
    from atelier.data.catalog import dataset_fingerprint

    key = ["tokenizer", VERSION, domains, vocab_size, max_chars, seed, SPECIAL_TOKENS,
           {name: dataset_fingerprint(name) for name in sorted(domains)}]  # fmt: skip

    def build(path: Path) -> None:
        train_bpe(training_texts(domains, max_chars, seed), vocab_size).save(str(path))

    return TextTokenizer.from_file(cached_path(key, build, suffix="json"))
