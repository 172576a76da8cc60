"""Mixture: domain frequencies follow the weights (chi-square), per-call weights, injection,
reproducibility, and no repeated document within a pass over a domain."""

import numpy as np
import pytest
from scipy.stats import chisquare

from atelier.data import Mixture

WEIGHTS = {"fortunes": 0.6, "wordnet-examples": 0.3, "facts-documents": 0.1}


def test_domain_frequencies_match_weights():
    mix = Mixture(WEIGHTS, seed=0)
    domains = mix.draw_domains(20_000)
    counts = np.array([(domains == d).sum() for d in WEIGHTS])
    expected = np.array(list(WEIGHTS.values())) * 20_000
    assert chisquare(counts, expected).pvalue > 0.001


def test_per_call_weights_and_sampled_documents():
    mix = Mixture(WEIGHTS, seed=1)
    docs = mix.sample(3_000, weights={"fortunes": 0.2, "wordnet-examples": 0.8})
    counts = docs["domain"].value_counts().sort("domain")
    observed = dict(zip(counts["domain"], counts["count"]))
    assert "facts-documents" not in observed
    assert chisquare([observed["fortunes"], observed["wordnet-examples"]], [600, 2400]).pvalue > 0.001
    with pytest.raises(ValueError, match="not in this mixture"):
        mix.sample(10, weights={"manpages": 1.0})


def test_same_seed_same_documents_and_no_repeats_within_a_pass():
    a, b = Mixture(WEIGHTS, seed=3), Mixture(WEIGHTS, seed=3)
    first = a.sample(500)
    assert first.equals(b.sample(500)) and not first.equals(Mixture(WEIGHTS, seed=4).sample(500))
    fortunes = first.filter(first["domain"] == "fortunes")
    assert fortunes["id"].n_unique() == fortunes.height


def test_inject_mixes_in_a_fraction():
    target = Mixture({"facts-documents": 1.0}, seed=0)
    pretraining = Mixture({"fortunes": 0.5, "wordnet-examples": 0.5}, seed=0)
    mixed = target.inject(pretraining, p=0.01)
    assert mixed.weights == pytest.approx({"facts-documents": 0.99, "fortunes": 0.005, "wordnet-examples": 0.005})
    assert target.inject("fortunes", 0.1).weights == pytest.approx({"facts-documents": 0.9, "fortunes": 0.1})
    with pytest.raises(ValueError, match=r"\[0, 1\]"):
        target.inject("fortunes", 1.5)


def test_character_unit_balances_text_share():
    mix = Mixture({"fortunes": 0.5, "wordnet-examples": 0.5}, seed=0, unit="characters")
    docs = mix.sample(6_000)
    chars = {d: docs.filter(docs["domain"] == d)["text"].str.len_chars().sum() for d in ("fortunes", "wordnet-examples")}
    share = chars["fortunes"] / sum(chars.values())
    assert 0.4 < share < 0.6  # documents differ ~8x in length; unit="documents" would give ~0.9


def test_bad_weights():
    with pytest.raises(ValueError, match=">= 0"):
        Mixture({"fortunes": -1.0})
    with pytest.raises(ValueError, match="valid: documents, characters"):
        Mixture({"fortunes": 1.0}, unit="tokens")
