"""The study's data: text documents, digit-caption pairs and spoken short texts in one id space.

Text: fortunes and WordNet usage examples (short examples joined into documents of a few
sentences, so a text example fills most of its sequence). Image-text: sklearn's 8x8 digits as 64
grey-level codes with captions in several phrasings. Audio-text: espeak-ng renderings of short
texts (number words and WordNet lemmas) in several voices and speeds, coded by a k-means log-mel
codebook fitted on them (cached); the first number words are the text-to-speech prompts. The
vocabulary lays text BPE ids, image codes, audio codes and the boundary / task specials in one
id space (atelier.data.media.MultimodalVocab), with text-to-image examples on a fixed canvas
(layout.CanvasVocab).

Examples are pure functions of (seed, split, index) (atelier.data.media.MixtureDataset): a run's
training stream is the prefix of one long stream, so a cooldown branch reads exactly the
examples the longer run would have read next, and two batch sizes read the same examples.
"""

from __future__ import annotations

import dataclasses

import numpy as np
import polars as pl
import torch
from torch.utils.data import DataLoader, Dataset, Subset

from atelier.data import get_tokenizer, load
from atelier.data.media import (AudioCodec, MultimodalDataModule, digits_pairs, number_words, speech_pairs,
                                speech_texts, train_audio_codec)
from atelier.data.splits import unit_hash
from atelier.studies.trimodal_diffusion.config import Config
from atelier.studies.trimodal_diffusion.layout import CanvasVocab

KINDS = ("text", "image", "audio")  # mixture kinds, in the order of Config.mixtures' weights
CODEC_SPEED = 160  # the codebook is fitted on renderings at this speed


@dataclasses.dataclass
class StudyData:
    """Everything the experiments draw examples from."""

    vocab: CanvasVocab
    texts: list[str]
    images: pl.DataFrame  # digits_pairs(): id, image (64 codes), label, caption
    speech: pl.DataFrame  # speech_pairs(): id, text, voice, speed, waveform
    words: tuple[str, ...]  # the text-to-speech prompts and spoken-word classes (in the speech pool)
    seq_len: int

    @property
    def codec(self) -> AudioCodec:
        return self.vocab.audio

    def prompted(self) -> StudyData:
        """The same data with its speech narrowed to renderings of the prompted words."""
        return dataclasses.replace(self, speech=self.speech.filter(pl.col("text").is_in(list(self.words))))

    def datamodule(self, weights=(1.0, 1.0, 1.0), examples: int = 1, val_examples: int = 1, seed: int = 0
                   ) -> MultimodalDataModule:
        """A datamodule over the mixture `weights` (text, image, audio), set up."""
        dm = MultimodalDataModule(self.vocab, self.texts, self.images, self.speech, dict(zip(KINDS, weights)),
                                  seq_len=self.seq_len, train_examples=examples, val_examples=val_examples,
                                  seed=seed)
        dm.setup()
        return dm


def text_documents(domains: tuple[str, ...], per_domain: int, words_per_doc: int, seed: int) -> list[str]:
    """per_domain documents of each domain, in a seeded order stable across machines; documents
    shorter than words_per_doc words are joined with their successors until they reach it."""
    docs = []
    for domain in domains:
        frame = load(domain, "all")
        order = np.argsort(unit_hash([f"{seed}:{i}" for i in frame["id"]]))
        joined, current = [], []
        for text in frame["text"].gather(order).to_list():
            current.append(" ".join(text.split()))
            if sum(len(t.split()) for t in current) >= words_per_doc:
                joined.append(" ".join(current))
                current = []
            if len(joined) == per_domain:
                break
        docs += joined
    return docs


def build_data(cfg: Config, seed: int = 0) -> StudyData:
    """Tokenizer, codec and pools of the study (tokenizer, codebook and renderings are cached)."""
    tokenizer = get_tokenizer({d: 1.0 for d in cfg.text_domains}, vocab_size=cfg.text_vocab_size)
    words = tuple(number_words(n) for n in range(cfg.speech_words))  # "zero", "one", ...
    spoken = speech_texts(cfg.speech_lemmas, n_sentences=0, n_numbers=cfg.speech_numbers)
    codec = train_audio_codec(spoken, voices=cfg.speech_voices, speeds=(CODEC_SPEED,),
                              codebook_size=cfg.codebook_size)
    texts = text_documents(cfg.text_domains, cfg.text_documents, words_per_doc=cfg.seq_len // 2, seed=seed)
    return StudyData(CanvasVocab(tokenizer, codec), texts, digits_pairs(seed),
                     speech_pairs(spoken, cfg.speech_voices, cfg.speech_speeds), words, cfg.seq_len)


def stream(dataset: Dataset, start: int, stop: int, batch_size: int) -> DataLoader:
    """Batches of examples start..stop-1 of a training stream, in order."""
    if stop > len(dataset):
        raise ValueError(f"examples {start}..{stop} exceed the stream's {len(dataset)}")
    return DataLoader(Subset(dataset, range(start, stop)), batch_size, shuffle=False)


def eval_batches(data: StudyData, cfg: Config, seed: int) -> list[dict[str, torch.Tensor]]:
    """The fixed validation set every model is scored on: balanced mixture, held-out items."""
    dm = data.datamodule(examples=1, val_examples=cfg.eval_examples, seed=seed)
    return list(DataLoader(dm.datasets["val"], batch_size=64, shuffle=False))
