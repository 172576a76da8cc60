"""Check one atomic fact (subject, relation, value) against the knowledge base.

Used for FactScore-style grading: an atomic fact is supported when the KB holds the same
value for that subject and relation. Strings match case-insensitively (a leading "the" and
surrounding punctuation ignored); for a list relation (borders, language, discovered_by) the
value must be one of the members. Numbers are read as written ("2,138,551", "2.1 million",
"48.85° N", "640,679 km²") and match when the KB value rounds to them: the tolerance is half
a unit of the last digit stated, so "2.1 million" accepts 2,050,000 to 2,150,000.
"""

from __future__ import annotations

import re
from collections import defaultdict
from functools import lru_cache

from atelier.data.facts.kb import NUMERIC_RELATIONS, RELATIONS, facts_table

SCALES = {"thousand": 1e3, "million": 1e6, "billion": 1e9}
NUMBER = re.compile(
    r"^\s*(?P<sign>[-+−])?(?P<num>\d[\d,]*(?:\.(?P<dec>\d+))?)\s*"
    r"(?P<scale>thousand|million|billion)?\s*°?\s*(?P<hemi>[NSEW])?\b",
    re.IGNORECASE,
)
RELATION_NAMES = sorted({r for _, relations in RELATIONS.values() for r in relations})


def parse_number(text: str) -> tuple[float, float] | None:
    """(value, tolerance) of a number as written, or None if text does not start with one."""
    match = NUMBER.match(str(text))
    if not match:
        return None
    scale = SCALES[match["scale"].lower()] if match["scale"] else 1.0
    decimals = len(match["dec"] or "")
    value = float(match["num"].replace(",", "")) * scale
    if match["sign"] in ("-", "−") or (match["hemi"] or "").upper() in ("S", "W"):
        value = -value
    return value, 0.5 * 10.0**-decimals * scale


def normalise(text: str) -> str:
    """Casefolded text without a leading "the" or surrounding punctuation and spaces."""
    text = re.sub(r"^the\s+", "", str(text).strip().casefold())
    return text.strip(" .,;:!?\"'")


@lru_cache(maxsize=1)
def _index() -> dict[tuple[str, str], list[tuple[str, str]]]:
    """(normalised subject, relation) -> [(kind, value)] over every fact of the KB."""
    index: dict[tuple[str, str], list[tuple[str, str]]] = defaultdict(list)
    for kind, subject, relation, value in facts_table().select("kind", "subject", "relation", "value").iter_rows():
        index[normalise(subject), relation].append((kind, value))
    return dict(index)


def _matches(relation: str, stated: str, known: str) -> bool:
    if relation in NUMERIC_RELATIONS:
        parsed = parse_number(stated)
        if parsed is None:
            return False
        value, tolerance = parsed
        return abs(float(known) - value) <= tolerance * (1 + 1e-9)
    return normalise(stated) == normalise(known)


def check_fact(subject: str, relation: str, value: str, kind: str | None = None) -> bool | None:
    """True if the KB supports (subject, relation, value), False if it contradicts it, None if
    the KB does not know that subject and relation (unverifiable).

    kind (city / country / element) restricts the subject when names are shared (Singapore
    is a city and a country); without it, any entity of that name may support the fact.
    """
    if relation not in RELATION_NAMES:
        raise ValueError(f"unknown relation {relation!r}; valid: {', '.join(RELATION_NAMES)}")
    if kind is not None and kind not in RELATIONS:
        raise ValueError(f"unknown kind {kind!r}; valid: {', '.join(RELATIONS)}")
    known = [v for k, v in _index().get((normalise(subject), relation), []) if kind in (None, k)]
    if not known:
        return None
    return any(_matches(relation, value, v) for v in known)
