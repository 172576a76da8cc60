"""The training corpus: facts documents (seen entities) and WordNet definitions (packed several to a row), as padded
per-document sequences, with two per-token masks aligned to the BPE tokens:

- ``factual`` (spaCy, what LaCy uses): the token overlaps a named entity, a PROPN or NUM token,
  or the head of a noun chunk that contains one of the document's fact values;
- ``fact_value`` (the documents' own facts, an independent ground truth for evaluation only):
  the token overlaps the text of a fact value stated in the document.

spaCy tokens and BPE tokens are aligned by character spans (the tokenizer's offsets): a BPE
token takes a label when its span intersects a labelled spaCy token's span.
"""

from __future__ import annotations

import dataclasses

import numpy as np
import polars as pl
import torch

from atelier import data
from atelier.data.splits import unit_hash
from atelier.pretrained import load_spacy


@dataclasses.dataclass
class Corpus:
    """Padded training sequences [N, T+1] (bos, document, eos, pad...) and per-target masks [N, T]."""

    tokenizer: data.TextTokenizer
    texts: list[str]
    tokens: torch.Tensor  # Long[N, T+1]; targets are tokens[:, 1:]
    valid: torch.Tensor  # Bool[N, T]: the target is a real token (not padding)
    factual: torch.Tensor  # Bool[N, T]: spaCy says the target token is factual
    fact_value: torch.Tensor  # Bool[N, T]: the target token is part of a stated fact value
    pos: list[list[str]]  # spaCy category of every target token ("ENT:GPE", "NUM", "NOUN", ...)
    documents: pl.DataFrame  # the facts documents trained on (id, text, kind, subject, facts)
    heldout: pl.DataFrame  # facts documents of entities never trained on


def split_entities(docs: pl.DataFrame, heldout_fraction: float, seed: int, entity_fraction: float = 1.0
                   ) -> tuple[pl.DataFrame, pl.DataFrame]:
    """(seen, held-out) documents of a hashed entity_fraction of the entities: whole entities (all
    their phrasings) go to one side, by hash."""
    entity = (docs["kind"] + ":" + docs["subject"]).to_list()
    keep = unit_hash(f"keep:{e}" for e in entity) < entity_fraction
    held = unit_hash(f"{seed}:{e}" for e in entity) < heldout_fraction
    return docs.filter(pl.Series(keep & ~held)), docs.filter(pl.Series(keep & held))


def overlap_mask(token_spans: np.ndarray, label_spans: list[tuple[int, int]]) -> np.ndarray:
    """Bool[n_tokens]: token span [a, b) intersects some labelled span [s, e)."""
    if not label_spans or len(token_spans) == 0:
        return np.zeros(len(token_spans), dtype=bool)
    spans = np.asarray(label_spans)  # [S, 2]
    a, b = token_spans[:, :1], token_spans[:, 1:]  # [n, 1]
    return ((a < spans[:, 1]) & (spans[:, 0] < b)).any(axis=1)


def value_spans(text: str, values: list[str]) -> list[tuple[int, int]]:
    """Character spans of every occurrence of each value in text."""
    spans = []
    for value in values:
        start = text.find(value)
        while start >= 0:
            spans.append((start, start + len(value)))
            start = text.find(value, start + 1)
    return spans


def spacy_labels(doc, values: list[str]) -> tuple[list[tuple[int, int]], list[tuple[int, int, str]]]:
    """(factual spans, every token's (start, end, category)) of a parsed spaCy doc."""
    fact_spans = value_spans(doc.text, values)
    heads = set()
    for chunk in doc.noun_chunks:
        s, e = chunk.start_char, chunk.end_char
        if any(a < e and s < b for a, b in fact_spans):
            heads.add(chunk.root.i)
    factual, categories = [], []
    for t in doc:
        span = (t.idx, t.idx + len(t.text))
        category = f"ENT:{t.ent_type_}" if t.ent_type_ else t.pos_
        categories.append((*span, category))
        if t.ent_type_ or t.pos_ in ("PROPN", "NUM") or t.i in heads:
            factual.append(span)
    return factual, categories


def pack_texts(texts: list[str], lengths: list[int], budget: int) -> list[str]:
    """Consecutive texts joined with spaces into groups of at most `budget` tokens (by their
    lengths; a text longer than the budget stays alone), so short texts do not waste a padded row each."""
    groups: list[list[str]] = [[]]
    used = 0
    for text, n in zip(texts, lengths):
        if groups[-1] and used + n + 1 > budget:  # +1: the joining space may cost a token
            groups.append([])
            used = 0
        groups[-1].append(text)
        used += n + 1
    return [" ".join(g) for g in groups if g]


def build_corpus(n_cities: int, variants: int, heldout_fraction: float, n_wordnet: int, vocab_size: int,
                 seq_len: int, seed: int, entity_fraction: float = 1.0) -> Corpus:
    """Tokenize, parse and align the corpus (see the module docstring); the n_wordnet WordNet
    definitions are packed several to a sequence."""
    tokenizer = data.get_tokenizer("english", vocab_size=vocab_size)
    seen, heldout = split_entities(data.facts_documents(n_cities=n_cities, variants=variants), heldout_fraction, seed,
                                   entity_fraction)
    wordnet = data.load("wordnet-definitions", "train")["text"].head(n_wordnet).to_list()
    wordnet = pack_texts(wordnet, [len(ids) for ids in tokenizer.encode_batch(wordnet)], seq_len - 1)
    texts = seen["text"].to_list() + wordnet
    values = [[f["value"] for f in facts] for facts in seen["facts"].to_list()] + [[] for _ in wordnet]
    encodings = tokenizer.tokenizer.encode_batch(texts, add_special_tokens=False)
    nlp = load_spacy()
    n, T = len(texts), seq_len
    tokens = torch.full((n, T + 1), tokenizer.pad_id, dtype=torch.long)
    valid, factual, fact_value = (torch.zeros(n, T, dtype=torch.bool) for _ in range(3))
    pos: list[list[str]] = []
    for i, (enc, doc) in enumerate(zip(encodings, nlp.pipe(texts, batch_size=64))):
        ids = [tokenizer.bos_id, *enc.ids, tokenizer.eos_id][: T + 1]
        spans = np.asarray(enc.offsets, dtype=np.int64).reshape(-1, 2)
        m = min(len(spans), T)  # targets 0..m-1 are the document's tokens, target m (if any) is eos
        tokens[i, : len(ids)] = torch.tensor(ids)
        valid[i, : len(ids) - 1] = True
        fact_spans, categories = spacy_labels(doc, values[i])
        factual[i, :m] = torch.from_numpy(overlap_mask(spans[:m], fact_spans))
        fact_value[i, :m] = torch.from_numpy(overlap_mask(spans[:m], value_spans(texts[i], values[i])))
        pos.append(categories_of(spans[:m], categories, len(texts[i])) + ["EOS"] * (len(ids) - 1 - m))
    return Corpus(tokenizer, texts, tokens, valid, factual, fact_value, pos, seen, heldout)


def categories_of(token_spans: np.ndarray, categories: list[tuple[int, int, str]], n_chars: int) -> list[str]:
    """spaCy category of each BPE token: that of the spaCy token covering its last character
    (a BPE token's span may start with the space before a word); "SPACE" where none does."""
    names = ["SPACE"] + [c for _, _, c in categories]
    at_char = np.zeros(n_chars + 1, dtype=np.int64)  # index into names of every character
    for k, (s, e, _) in enumerate(categories, start=1):
        at_char[s:e] = k
    last = np.clip(token_spans[:, 1] - 1, 0, n_chars)
    return [names[k] for k in at_char[last]]
