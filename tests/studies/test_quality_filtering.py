"""Study 05 building blocks against independent references: variants, permutations, the
filter, multiple-choice scoring, likelihoods, the pool and the task questions."""

import numpy as np
import polars as pl
import pytest
import torch
import torch.nn.functional as F

from atelier.data import check_fact
from atelier.nn import Transformer, TransformerConfig
from atelier.studies.quality_filtering import Config, classifier, lm, permute, pool, tasks, variants

TEXT = "The first sentence. A second one! Is this the third? The fourth and last."


def test_truncate_keeps_a_prefix_of_30_to_70_percent():
    rng = np.random.default_rng(0)
    for _ in range(50):
        cut = variants.truncate(TEXT, rng)
        assert TEXT.startswith(cut) and 0.3 * len(TEXT) - 1 <= len(cut) <= 0.7 * len(TEXT)


def test_shuffle_reorders_sentences_and_lines_without_changing_them():
    rng = np.random.default_rng(1)
    out = variants.shuffle_sentences(TEXT, rng)
    assert sorted(out.split(" ")) == sorted(TEXT.split(" "))
    assert sorted(variants.units(out)) == sorted(["The first sentence.", "A second one!", "Is this the third?",
                                                  "The fourth and last."])
    code = "import os\nx = 1\n\ny = 2\nprint(x)"
    assert sorted(variants.shuffle_sentences(code, rng).split("\n")) == sorted(["import os", "x = 1", "y = 2", "print(x)"])


def test_boilerplate_surrounds_the_intact_text_with_known_lines():
    out = variants.add_boilerplate(TEXT, np.random.default_rng(2))
    lines = out.split("\n")
    assert TEXT in lines and 2 <= len(lines) - 1 <= 4
    assert all(line in variants.BOILERPLATE for line in lines if line != TEXT)


def test_unknown_variant_names_the_valid_ones():
    with pytest.raises(ValueError, match="clean, boilerplate, truncated, shuffled"):
        variants.make_variant(TEXT, "garbled", np.random.default_rng(0))


@pytest.mark.parametrize("q", [0.0, 0.3, 0.5, 1.0])
def test_permute_fraction_moves_only_a_fraction_and_keeps_the_tokens(q):
    ids = list(range(1000, 1200))  # distinct tokens: a moved token is visible
    out = permute.permute_fraction(ids, q, np.random.default_rng(3))
    assert sorted(out) == ids
    moved = sum(a != b for a, b in zip(ids, out))
    assert moved <= round((1 - q) * len(ids))
    if q < 1:
        assert moved >= 0.8 * round((1 - q) * len(ids))  # a random permutation fixes few points
    with pytest.raises(ValueError, match=r"\[0, 1\]"):
        permute.permute_fraction(ids, 1.5, np.random.default_rng(0))


def test_keep_top_matches_a_sort():
    scores = np.random.default_rng(4).normal(size=101)
    for r in (1.0, 0.5, 0.25, 0.1):
        k = int(np.ceil(r * 101))
        assert set(np.flatnonzero(classifier.keep_top(scores, r))) == set(np.argsort(scores)[::-1][:k])
    with pytest.raises(ValueError, match="keep fraction"):
        classifier.keep_top(scores, 0.0)


def test_classifier_ranks_documents_by_their_hq_ngrams():
    rng = np.random.default_rng(5)
    common = ["the", "a", "of", "and", "to", "in"]
    def docs(marker, n):
        return [" ".join([*rng.choice(common, 8), marker, *rng.choice(common, 8)]) for _ in range(n)]
    clf = classifier.QualityClassifier(n_features=2**12).fit(docs("encyclopedia", 50), docs("clickbait", 50))
    hq, lq = clf.score(docs("encyclopedia", 20)), clf.score(docs("clickbait", 20))
    assert hq.min() > lq.max()


def test_choice_accuracy_raw_and_calibrated_against_loops():
    rng = np.random.default_rng(6)
    S = rng.normal(size=(30, 4, 4))
    for calibrate in (False, True):
        got = tasks.choice_accuracy(S, calibrate)
        for g in range(30):
            for i in range(4):
                score = [S[g, i, j] - (S[g, :, j].mean() if calibrate else 0) for j in range(4)]
                assert got[g, i] == (int(np.argmax(score)) == i)
    # answer 0 is likely under every prompt (a prior); each prompt raises its own answer by 1
    prior = np.array([5.0, 0.0, 0.0, 0.0])
    S = (prior[None, :] + np.eye(4))[None]
    assert tasks.choice_accuracy(S, False).mean() == 0.25 and tasks.choice_accuracy(S, True).all()


@pytest.fixture(scope="module")
def tiny_model():
    torch.manual_seed(0)
    return Transformer(TransformerConfig(vocab_size=50, width=16, depth=1, n_heads=2, max_len=16)).eval()


def reference_nll(model, context, continuation, bos):
    """-log p(continuation | bos + context) token by token, from one unpadded forward pass."""
    seq = torch.tensor([[bos, *context, *continuation]])
    logp = F.log_softmax(model(seq)[0].double(), -1)  # [T, V]
    start = 1 + len(context)
    return -sum(logp[t - 1, seq[0, t]].item() for t in range(start, seq.shape[1]))


def test_continuation_nll_matches_unpadded_token_by_token_sums(tiny_model):
    contexts = [[3, 4], [], [7, 8, 9, 10], [5]]
    continuations = [[11, 12, 13], [20], [21, 22], [30, 31, 32, 33, 34]]
    nll, counts = lm.continuation_nll(tiny_model, contexts, continuations, bos_id=1, pad_id=0, max_len=16, batch_size=3)
    want = [reference_nll(tiny_model, c, x, 1) for c, x in zip(contexts, continuations)]
    np.testing.assert_allclose(nll, want, rtol=1e-4)
    np.testing.assert_array_equal(counts, [3, 1, 2, 5])


class CharTokenizer:
    """Ids of characters: enough of TextTokenizer's interface for answer_logprobs."""

    eos_id, pad_id = 1, 0

    def encode_batch(self, texts):
        return [[2 + ord(c) % 40 for c in t] for t in texts]


def test_answer_logprobs_pairs_every_prompt_with_every_answer_of_its_group(tiny_model):
    q = pl.DataFrame({"group": [0, 0, 0, 1, 1, 1], "prompt": ["ab", "cd", "e", "fg", "h", "ij"],
                      "answer": [" x", " yz", " w", " v", " uu", " t"]})
    S = lm.answer_logprobs(tiny_model, CharTokenizer(), q, k=3, max_len=16)
    enc = CharTokenizer().encode_batch
    for g in range(2):
        for i in range(3):
            for j in range(3):
                p, a = enc([q["prompt"][3 * g + i], q["answer"][3 * g + j]])
                assert S[g, i, j] == pytest.approx(-reference_nll(tiny_model, p, a, 1), rel=1e-4)


def test_cap_cuts_long_documents_at_a_line_break():
    assert pool.cap("short", 10) == "short"
    assert pool.cap("line one\nline two\nline three", 20) == "line one\nline two"
    assert pool.cap("x" * 30, 10) == "x" * 10


def test_pool_shares_exclusion_and_variants():
    weights = {"fortunes": 0.5, "wordnet-definitions": 0.5}
    hq_train, _, _ = pool.hq_split({"wordnet-definitions": 1.0}, 200, 50, 500, seed=0)
    p = pool.build_pool(weights, 200_000, 0.5, 500, seed=0, exclude=hq_train)
    assert not set(p.filter(pl.col("domain") == "wordnet-definitions")["id"]) & set(hq_train["id"])
    clean = p.filter(pl.col("variant") == "clean")
    shares = clean.group_by("domain").agg(pl.col("text").str.len_chars().sum())
    shares = dict(zip(shares["domain"], shares["text"] / shares["text"].sum()))
    assert shares["fortunes"] == pytest.approx(0.5, abs=0.05)
    assert (p["variant"] != "clean").mean() == pytest.approx(0.5, abs=0.05)
    entries = clean.filter(pl.col("domain") == "wordnet-definitions")["text"]
    assert entries.str.contains(": ").all()  # dictionary entries: "word: definition"


def test_hq_split_shares_and_disjoint_held_out_parts():
    shares = {"wordnet-definitions": 3.0, "fortunes": 1.0}
    train, held_out, spare = pool.hq_split(shares, 400, 80, 500, seed=0)
    assert train["domain"].value_counts().sort("domain").rows() == [("fortunes", 100), ("wordnet-definitions", 300)]
    assert held_out["domain"].value_counts().sort("domain").rows() == [("fortunes", 20), ("wordnet-definitions", 60)]
    assert not set(held_out["id"]) & set(spare["id"]) and not set(train["id"]) & set(held_out["id"])
    with pytest.raises(ValueError, match="hq_shares"):
        Config(hq_shares={"not-a-domain": 1.0})


def test_well_formed_questions_pair_each_intact_text_with_its_corruptions():
    texts = pl.Series(["a b c d e", "one two  three four five six", "x x x x", "p q"])
    q = tasks.well_formed_questions(texts, n_groups=5, seed=0)
    assert q["group"].n_unique() == 2  # "x x x x" has no swap that changes it, "p q" too few words
    for _, group in q.group_by("group"):
        group = group.sort("choice")
        intact, swapped, boiler, cut = group["text"].to_list()
        assert group["correct"].to_list() == [True, False, False, False]
        words = intact.split()
        assert " ".join(words) == intact and intact in {" ".join(t.split()) for t in texts}
        diff = [i for i, (a, b) in enumerate(zip(words, swapped.split())) if a != b]
        assert sorted(swapped.split()) == sorted(words) and len(diff) == 2 and diff[1] == diff[0] + 1
        head, line, tail = boiler.split("\n")
        assert line in variants.BOILERPLATE and f"{head} {tail}" == intact and head and tail
        assert intact.startswith(cut) and 0.3 * len(intact) - 1 <= len(cut) <= 0.7 * len(intact)
    with pytest.raises(ValueError, match="swapped, boilerplate, truncated"):
        tasks.corrupt("a b c", "reversed", np.random.default_rng(0))


def test_groups_have_k_distinct_answers():
    items = pl.DataFrame({"prompt": [f"p{i}" for i in range(40)], "answer": [f"a{i % 6}" for i in range(40)]})
    groups = tasks._groups(items, 4, 8, np.random.default_rng(0))
    per_group = groups.group_by("group").agg(pl.len(), pl.col("answer").n_unique().alias("distinct"))
    assert per_group.height == 8 and (per_group["len"] == 4).all() and (per_group["distinct"] == 4).all()


def test_facts_questions_state_true_kb_facts():
    docs = pl.DataFrame({"domain": ["facts-documents"] * 4,
                         "id": ["city:Lyon:0", "country:France:1", "element:Calcium:0", "city:Osaka:2"]})
    q = tasks.facts_questions(docs, k=1, n_groups=5, seed=0)
    city = q.filter(pl.col("relation") == "city_country")
    for prompt, answer in city.select("prompt", "answer").iter_rows():
        assert check_fact(prompt.removesuffix(" is a city in"), "country", answer.strip(" ."), kind="city")
    capital = q.filter(pl.col("relation") == "country_capital").row(0, named=True)
    assert check_fact("France", "capital", capital["answer"].strip(" ."), kind="country")
    symbol = q.filter(pl.col("relation") == "element_symbol").row(0, named=True)
    assert symbol["answer"] == " Ca"
