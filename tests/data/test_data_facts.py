"""The facts KB, its documents and the fact checker.

References are independent of the code: known chemistry (the 11 gases and 2 liquids among
elements at room temperature) and geography, the KB frames read directly, and the text
of each document.
"""

import polars as pl
import pytest

from atelier.data import check_fact, facts_kb, load
from atelier.data.facts.check import parse_number


def test_kb_frames_hold_known_facts():
    kb = facts_kb()
    elements = kb["elements"]
    assert elements.height == 118 and elements["atomic_number"].to_list() == list(range(1, 119))
    gases = set(elements.filter(pl.col("phase") == "gas")["symbol"])
    assert gases == {"H", "He", "N", "O", "F", "Ne", "Cl", "Ar", "Kr", "Xe", "Rn"}
    assert set(elements.filter(pl.col("phase") == "liquid")["symbol"]) == {"Br", "Hg"}
    france = kb["countries"].filter(pl.col("name") == "France").row(0, named=True)
    assert france["capital"] == "Paris" and "Spain" in france["borders"] and "French" in france["languages"]
    assert kb["cities"].height > 20_000


@pytest.mark.parametrize(
    ("text", "value", "tolerance"),
    [("2,138,551", 2138551, 0.5), ("2.1 million", 2.1e6, 5e4), ("48.85° N", 48.85, 0.005), ("33.87° S", -33.87, 0.005), ("640,679 km²", 640679, 0.5)],
)
def test_parse_number(text, value, tolerance):
    got, tol = parse_number(text)
    assert got == pytest.approx(value) and tol == pytest.approx(tolerance)


def test_check_fact_against_known_facts():
    assert check_fact("France", "capital", "Paris") is True
    assert check_fact("france", "capital", "the paris.") is True
    assert check_fact("France", "capital", "Lyon") is False
    assert check_fact("Mercury", "phase", "liquid") is True
    assert check_fact("Iron", "symbol", "Fe") is True and check_fact("Iron", "atomic_number", "26") is True
    assert check_fact("Iron", "atomic_number", "27") is False
    assert check_fact("Germany", "borders", "Poland") is True and check_fact("Germany", "borders", "Spain") is False
    assert check_fact("Atlantis", "capital", "Poseidonia") is None
    with pytest.raises(ValueError, match="valid:"):
        check_fact("France", "favourite_food", "cheese")


def test_check_fact_tolerance_follows_stated_precision():
    population = facts_kb()["countries"].filter(pl.col("name") == "France")["population"][0]
    millions = population / 1e6
    assert check_fact("France", "population", f"{millions:.1f} million") is True
    assert check_fact("France", "population", f"{millions + 0.2:.1f} million") is False
    assert check_fact("France", "population", f"{population:,}") is True
    assert check_fact("France", "population", f"{population + 1:,}") is False


def test_every_document_states_its_facts_and_they_agree_with_the_kb():
    docs = load("facts-documents", "all")
    assert docs.height > 5_000 and set(docs["kind"]) == {"city", "country", "element"}
    n_facts = 0
    for text, kind, facts in docs.select("text", "kind", "facts").iter_rows():
        assert len(facts) >= 2
        for fact in facts:
            assert fact["value"] in text and fact["subject"] in text
            assert check_fact(fact["subject"], fact["relation"], fact["value"], kind=kind) is True, (fact, text)
            n_facts += 1
    assert n_facts > 4 * docs.height


def test_documents_vary_in_phrasing():
    docs = load("facts-documents", "all").filter(pl.col("subject") == "France")
    assert docs.height == 3 and docs["text"].n_unique() == 3
