"""Study 02 (LaCy): labelling rules, span alignment, the cascade's hand-over and the fact parser,
each against a brute-force or hand-computed reference."""

import numpy as np
import pytest
import torch

from atelier import data
from atelier.studies.lacy import Config
from atelier.studies.lacy.cascade import generate
from atelier.studies.lacy.corpus import overlap_mask, pack_texts, value_spans
from atelier.studies.lacy.factscore import atomic_facts, score_generation
from atelier.studies.lacy.helpers import CorpusHelper, first_word
from atelier.studies.lacy.labels import IGNORE, call_labels, call_targets, precision_recall, top_fraction


def test_top_fraction_matches_sorting():
    g = torch.Generator().manual_seed(0)
    score, eligible = torch.randn(6, 9, generator=g), torch.rand(6, 9, generator=g) < 0.7
    mask = top_fraction(score, eligible, 0.3)
    k = round(0.3 * int(eligible.sum()))
    expected = np.sort(score[eligible].numpy())[::-1][:k]
    assert int(mask.sum()) == k and not (mask & ~eligible).any()
    np.testing.assert_allclose(np.sort(score[mask].numpy())[::-1], expected)


def test_rules_label_the_same_budget_and_lacy_only_factual():
    g = torch.Generator().manual_seed(1)
    loss_ref, loss_big = torch.rand(8, 20, generator=g) * 5, torch.rand(8, 20, generator=g) * 5
    valid = torch.ones(8, 20, dtype=torch.bool)
    valid[:, 15:] = False
    factual = torch.rand(8, 20, generator=g) < 0.4
    n = int(valid.sum())
    for rule in ("loss", "rho", "lacy"):
        labels = call_labels(rule, 0.1, loss_ref, loss_big, valid, factual)
        assert int(labels.sum()) == round(0.1 * n) and not (labels & ~valid).any()
    lacy = call_labels("lacy", 0.1, loss_ref, loss_big, valid, factual)
    assert not (lacy & ~factual).any()
    rho = call_labels("rho", 0.1, loss_ref, loss_big, valid, factual)
    excess = (loss_ref - loss_big)[valid]
    assert (loss_ref - loss_big)[rho].min() >= excess.sort(descending=True).values[round(0.1 * n) - 1]
    assert not call_labels("none", 0.1, loss_ref, loss_big, valid, factual).any()
    with pytest.raises(ValueError, match="valid: none, loss, rho, lacy"):
        call_labels("judge", 0.1, loss_ref, loss_big, valid, factual)


def test_call_targets_replace_labelled_next_tokens():
    tokens = torch.tensor([[1, 10, 11, 12, 0]])
    valid = torch.tensor([[True, True, True, False]])
    labels = torch.tensor([[False, True, False, False]])
    assert call_targets(tokens, valid, labels, call_id=4).tolist() == [[10, 4, 12, IGNORE]]


def test_precision_recall_by_hand():
    selected = torch.tensor([True, True, False, False, True])
    positive = torch.tensor([True, False, True, False, True])
    assert precision_recall(selected, positive) == (2 / 3, 2 / 3)


def test_overlap_mask_matches_character_sets():
    rng = np.random.default_rng(0)
    starts = np.sort(rng.integers(0, 50, 12))
    tokens = np.stack([starts, starts + rng.integers(1, 5, 12)], axis=1)
    labels = [(3, 7), (20, 21), (40, 48)]
    chars = {c for s, e in labels for c in range(s, e)}
    expected = [bool(set(range(a, b)) & chars) for a, b in tokens]
    assert overlap_mask(tokens, labels).tolist() == expected
    assert value_spans("a 12 b 12", ["12"]) == [(2, 4), (7, 9)]


def test_pack_texts_keeps_order_and_budget():
    texts = [f"t{i}" for i in range(9)]
    lengths = [3, 4, 20, 2, 2, 2, 9, 1, 1]
    packed = pack_texts(texts, lengths, budget=10)
    assert " ".join(packed).split() == texts  # nothing lost, order kept
    size = dict(zip(texts, lengths))
    for group in packed:
        words = group.split()
        assert len(words) == 1 or sum(size[w] + 1 for w in words) <= 10
    # greedy: no group could have taken the next group's first text
    for a, b in zip(packed, packed[1:]):
        assert sum(size[w] + 1 for w in a.split()) + size[b.split()[0]] + 1 > 10


def test_parser_recovers_every_documents_facts():
    docs = data.facts_documents(n_cities=5, variants=2)
    for text, subject, kind, facts in docs.select("text", "subject", "kind", "facts").iter_rows():
        parsed = {(f["relation"], data.facts.check.normalise(f["value"])) for f in atomic_facts(text, subject)}
        stated = {(f["relation"], data.facts.check.normalise(f["value"])) for f in facts}
        if "Bosnia and Herzegovina" in text or "D.C." in text:
            continue  # "X and Y" inside one list member is ambiguous to any list splitter
        assert parsed == stated, text


def test_score_generation_checks_facts_and_delegation():
    prompt, text = "Paris is a city in", " Germany. It has a population of 2,138,551."
    flags = [False] * len(text)
    at = text.index("2,138,551")
    flags[at : at + 3] = [True] * 3  # the bigger model wrote "2,1"
    scored = {f["relation"]: f for f in score_generation(prompt, text, flags, "Paris", "city")}
    assert scored["country"]["supported"] is False and scored["country"]["delegated"] is False
    assert scored["population"]["delegated"] is True


class Stub(torch.nn.Module):
    """Greedy stub: the next token after a context of length T is script(T)."""

    def __init__(self, script, vocab_size):
        super().__init__()
        self.script, self.vocab_size = script, vocab_size

    def forward(self, tokens):
        B, T = tokens.shape
        logits = torch.zeros(B, T, self.vocab_size)
        logits[:, -1, self.script(T)] = 1.0
        return logits


@pytest.fixture(scope="module")
def tokenizer():
    return data.get_tokenizer("english", vocab_size=2048)


def test_cascade_hands_one_word_to_the_helper_in_text_space(tokenizer):
    V = tokenizer.vocab_size
    piece = next(i for i in range(300, V) if tokenizer.token(i).isascii() and tokenizer.token(i).isalpha())  # no "Ġ"
    prompt = "Paris is a city in"
    P = 1 + len(tokenizer.encode(prompt))
    seen = []

    def helper(texts):
        seen.extend(texts)
        return [" France"] * len(texts)

    # the small model calls at its first prediction, then writes `piece` forever
    slm = Stub(lambda T: tokenizer.call_id if T == P else piece, V)
    [g] = generate(slm, helper, tokenizer, [prompt], max_new_tokens=5)
    france = tokenizer.encode(" France")
    assert seen == [prompt]  # the helper reads the text so far
    assert g.text == " France" + tokenizer.decode([piece] * (5 - len(france)))
    assert g.from_big == [True] * len(" France") + [False] * (len(g.text) - len(" France"))
    assert g.calls == 1 and g.steps == 1 + 5 - len(france)  # one call, then the small model's own tokens
    [h] = generate(slm, lambda texts: [""] * len(texts), tokenizer, [prompt], max_new_tokens=5)
    assert h.text == "" and h.calls == 1  # a helper with no word ends the row


def test_corpus_helper_stops_before_the_next_word(tokenizer):
    V = tokenizer.vocab_size
    words = [i for i in range(300, V) if tokenizer.token(i).startswith("Ġ") and tokenizer.token(i)[1:].isalpha()]
    pieces = [i for i in range(300, V) if tokenizer.token(i).isascii() and tokenizer.token(i).isalpha()]  # no "Ġ"
    prompt = "Paris is"
    P = 1 + len(tokenizer.encode(prompt))
    script = [words[0], pieces[0], pieces[1], words[1]]  # indexed by generated position
    big = Stub(lambda T: script[T - P], V)
    assert CorpusHelper(big, tokenizer, max_span=6)([prompt]) == [tokenizer.decode(script[:3])]
    assert CorpusHelper(big, tokenizer, max_span=2)([prompt]) == [tokenizer.decode(script[:2])]


def test_first_word_of_a_continuation():
    assert first_word(" 2,138,551 people live") == " 2,138,551"
    assert first_word("Paris. It") == "Paris."
    assert first_word("\nParis") == "" and first_word("   ") == ""


def test_config_presets_and_bad_rules():
    assert Config.preset("smoke").slm_steps < Config().slm_steps
    with pytest.raises(ValueError, match="rules="):
        Config(rules=("none", "judge"))
    with pytest.raises(ValueError, match="valid: atelier, smollm2"):
        Config(helper="gpt")


def test_entities_never_straddle_the_split():
    from atelier.studies.lacy.corpus import split_entities

    docs = data.facts_documents(n_cities=10, variants=2)
    seen, held = split_entities(docs, 0.3, seed=0, entity_fraction=0.5)
    key = lambda d: set(zip(d["kind"], d["subject"]))  # noqa: E731
    assert not key(seen) & key(held) and len(held) > 0
    assert len(seen) + len(held) < len(docs)


def test_summary_and_matched_rate_by_hand():
    import polars as pl

    from atelier.studies.lacy.experiments import at_matched_rate, summarise

    gens = pl.DataFrame({"rule": ["a", "a", "b", "b"], "budget": [0.1, 0.2, 0.1, 0.2],
                         "calls": [1, 3, 2, 4], "steps": [10, 10, 10, 10], "n_facts": [2, 2, 2, 2]})
    facts = pl.DataFrame({"rule": ["a", "a", "a", "b", "b", "b"], "budget": [0.1, 0.1, 0.2, 0.1, 0.2, 0.2],
                          "supported": [True, False, True, None, False, True],
                          "delegated": [False, False, True, False, True, False]})
    s = summarise(facts, gens)
    row = s.filter((pl.col("rule") == "a") & (pl.col("budget") == 0.1)).row(0, named=True)
    assert row["call_rate"] == 0.1 and row["factscore"] == 0.5 and row["leakage"] == 0.5
    r_star, matched = at_matched_rate(s, ("a", "b"))
    assert r_star == pytest.approx(0.25)  # rates a: 0.1-0.3, b: 0.2-0.4 -> overlap 0.2-0.3
    a = matched.filter(pl.col("rule") == "a").row(0, named=True)
    assert a["factscore"] == pytest.approx(0.5 + 0.75 * 0.5)  # 3/4 of the way from 0.5 to 1.0
