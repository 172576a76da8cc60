"""Builtin text sources parse what Debian and Python ship.

Expected sizes come from the sources themselves, not from this code: WordNet 3.0 has 117,659
synsets (one definition each; one has only an example) and its glosses hold 48,339 balanced
quoted examples (a few glosses miss a quote). Debian 12's fortunes + fortunes-min hold
~15,200 '%'-separated fortunes (the often-quoted ~14k counts an older release); the
offensive collection (fortunes-off) is excluded.
"""

from pathlib import Path

import pytest

from atelier.data import SourceUnavailable, load
from atelier.data.sources import fortunes, manpages, wordnet


def needs(module):
    reason = module.unavailable()
    return pytest.mark.skipif(reason is not None, reason=reason or "")


@needs(wordnet)
def test_wordnet_counts_and_content():
    definitions, examples = load("wordnet-definitions", "all"), load("wordnet-examples", "all")
    assert 117_600 <= definitions.height <= 117_659
    assert 48_000 <= examples.height <= 48_600
    assert definitions["id"].n_unique() == definitions.height
    assert not definitions["text"].str.contains('"').any()
    dog = definitions.filter(definitions["lemmas"].list.contains("dog") & (definitions["pos"] == "noun"))
    assert dog["text"].str.contains("domesticated").any()


def test_gloss_split():
    gloss = 'in the Christian era; used before dates; "in AD 200"; "AD 1066"'
    assert wordnet.split_gloss(gloss) == ("in the Christian era; used before dates", ["in AD 200", "AD 1066"])
    assert wordnet.split_gloss('a notice; "a notice of sale') == ("a notice", ["a notice of sale"])


@needs(fortunes)
def test_fortunes_counts_and_cleaning():
    docs = load("fortunes", "all")
    assert 14_000 <= docs.height <= 16_500
    assert "off" not in set(docs["category"]) and not docs["text"].str.contains("\x08").any()
    assert not docs["text"].str.contains(r"(?m)^%$").any()
    assert fortunes.replay_backspaces("a_\bb c\b\bxy") == "abxy"  # b over "_"; x, y over " ", c
    assert fortunes.replay_backspaces("_\bA_\bB") == "AB"


def test_python_stdlib_is_code_of_this_python():
    docs = load("python-stdlib", "all")
    os_module = docs.filter(docs["id"] == "os.py")
    assert os_module.height == 1 and "def makedirs" in os_module["text"][0]
    assert not docs["id"].str.contains("site-packages").any()


@needs(manpages)
@pytest.mark.slow
def test_manpages_render_to_plain_text():
    docs = load("manpages", "all")
    assert docs.height > 900
    read = docs.filter(docs["id"] == "read.2")["text"][0]
    assert read.startswith("NAME") and "read from a file descriptor" in read
    assert "\x1b" not in read and "\x08" not in read  # no terminal escapes or overstrikes


def test_missing_debian_package_is_named(monkeypatch, tmp_path):
    monkeypatch.setattr(wordnet, "ROOT", Path(tmp_path / "nowhere"))
    with pytest.raises(SourceUnavailable, match=r"apt-get install wordnet-base"):
        wordnet.definitions()
    monkeypatch.setattr(fortunes, "ROOT", Path(tmp_path / "nowhere"))
    with pytest.raises(SourceUnavailable, match=r"apt-get install fortunes"):
        fortunes.fortunes()
