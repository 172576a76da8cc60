"""Automatic grading of short free-text answers against known facts.

Answers are normalised (accents stripped, lower case, punctuation to spaces) before matching:
an entity answer is right when one of the accepted aliases appears in it as whole words; a
symbol answer when its first word is the symbol; a number answer when its first number
equals the gold value.
"""

from __future__ import annotations

import re
import unicodedata
from typing import Sequence

NUMBER = re.compile(r"-?\d+(?:,\d{3})*(?:\.\d+)?")


def normalise(text: str) -> str:
    """Lower-case ASCII words separated by single spaces ("São Paulo!" -> "sao paulo")."""
    ascii_ = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    return " ".join(re.sub(r"[^a-z0-9]+", " ", ascii_.lower()).split())


def first_line(answer: str) -> str:
    """The answer up to its first line break (models often continue with unrelated text)."""
    return answer.strip().split("\n", 1)[0].strip()


def mentions(answer: str, aliases: Sequence[str]) -> bool:
    """Whether any alias occurs in the answer as whole normalised words."""
    padded = f" {normalise(answer)} "
    return any(f" {a} " in padded for a in map(normalise, aliases) if a)


def first_word_is(answer: str, symbol: str) -> bool:
    """Whether the answer's first word is ``symbol`` (case-insensitive: "fe." matches "Fe")."""
    words = normalise(answer).split()
    return bool(words) and words[0] == normalise(symbol)


def first_number(answer: str) -> float | None:
    """The first number written in the answer ("1,024.5 apples" -> 1024.5), None when there is none."""
    match = NUMBER.search(answer)
    return float(match.group().replace(",", "")) if match else None


def number_is(answer: str, gold: float) -> bool:
    """Whether the answer's first number equals ``gold``."""
    value = first_number(answer)
    return value is not None and abs(value - gold) < 1e-9
