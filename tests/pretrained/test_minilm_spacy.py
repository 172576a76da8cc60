"""all-MiniLM-L6-v2 embeddings and the spaCy English pipeline, from their packages."""

import pytest
import torch

from atelier.pretrained import load, load_spacy

pytestmark = pytest.mark.slow


def test_minilm_ranks_a_paraphrase_above_an_unrelated_sentence():
    emb = load("minilm-l6")
    v = emb.encode(["A man is playing a guitar.", "Someone plays the guitar.", "The stock market fell today."])
    assert v.shape == (3, 384)
    torch.testing.assert_close(v.norm(dim=1), torch.ones(3))
    assert v[0] @ v[1] > v[0] @ v[2] + 0.3


def test_minilm_embedding_does_not_depend_on_the_batch():
    """Mean pooling must ignore padding: alone or next to a long sentence, the same vector."""
    emb = load("minilm-l6")
    texts = ["short one", "a considerably longer sentence that forces padding of the short one"]
    together = emb.encode(texts, batch_size=2)
    alone = torch.cat([emb.encode([t]) for t in texts])
    torch.testing.assert_close(together, alone, atol=1e-5, rtol=1e-5)


def test_spacy_tags_paris_as_a_place_and_a_proper_noun():
    doc = load_spacy()("Paris is the capital of France.")
    assert ("Paris", "GPE") in [(e.text, e.label_) for e in doc.ents]
    assert doc[0].text == "Paris" and doc[0].pos_ == "PROPN"
    assert load_spacy() is load_spacy()  # loaded once per process
