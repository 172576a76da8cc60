"""FactScore proxy: split a generation into atomic facts with the facts documents' own sentence
templates, check each against the KB, and note whether its value was written by the bigger model.

A sentence that matches no template (or is cut off) states no checkable fact. A sentence that
names its subject is checked for that subject; "It ..." sentences refer to the prompt's subject.
List values (languages, borders, discoverers) give one fact per member.
"""

from __future__ import annotations

import re

from atelier.data import check_fact

# (relation group names) appear as named groups; "s" is the subject when the sentence names it
TEMPLATES = [
    r"(?P<s>.+?) is a city in (?P<country>.+)",
    r"The city of (?P<s>.+?) lies in (?P<country>.+)",
    r"It has a population of (?P<population>.+)",
    r"About (?P<population>.+?) people live in (?P<s>.+)",
    r"Its coordinates are (?P<latitude>[^,]+), (?P<longitude>.+)",
    r"(?P<s>.+?) lies at latitude (?P<latitude>.+?) and longitude (?P<longitude>.+)",
    r"It is in the state of (?P<admin_region>.+)",
    r"(?P<s>.+?) belongs to the state of (?P<admin_region>.+)",
    r"(?P<s>.+?) is a country in (?P<subregion>.+?), part of (?P<region>.+)",
    r"Its capital is (?P<capital>.+)",
    r"The capital of (?P<s>.+?) is (?P<capital>.+)",
    r"(?P<capital>.+?) serves as the capital of (?P<s>.+)",
    r"It covers (?P<area>.+?) square kilometres",
    r"(?P<s>.+?) has an area of (?P<area>.+?) km²",
    r"Languages spoken there include (?P<language>.+)",
    r"(?P<language>.+?) (?:is|are) spoken in (?P<s>.+)",
    r"(?P<s>.+?) shares borders with (?P<borders>.+)",
    r"It borders (?P<borders>.+)",
    r"(?P<s>.+?) is the chemical element with symbol (?P<symbol>.+?) and atomic number (?P<atomic_number>.+)",
    r"(?P<s>.+?) \((?P<symbol>.+?)\) is a chemical element with atomic number (?P<atomic_number>.+)",
    r"It sits in group (?P<group>.+?) and period (?P<period>.+?) of the periodic table",
    r"(?P<s>.+?) is found in period (?P<period>.+?), group (?P<group>.+)",
    r"It sits in period (?P<period>.+?) of the periodic table",
    r"It is a (?P<block>.+?)-block element, one of the (?P<series>.+)",
    r"At room temperature it is a (?P<phase>.+)",
    r"(?P<s>.+?) is a (?P<phase>.+?) at room temperature",
    r"It was discovered by (?P<discovered_by>.+?) in (?P<discovery_year>.+)",
    r"(?P<discovered_by>.+?) discovered (?P<s>.+?) in (?P<discovery_year>.+)",
]
PATTERNS = [re.compile(t + r"\.") for t in TEMPLATES]
LIST_RELATIONS = {"language", "borders", "discovered_by"}
SENTENCE_END = re.compile(r"(?:(?<=° [NSEW]\.)|(?<=[^A-Z]\.)(?<!\bSt\.))\s+(?=[A-Z(])")  # not after initials, "St."
LIST_SEPARATOR = re.compile(r", | and ")


def sentences(text: str) -> list[tuple[int, str]]:
    """(start offset, sentence) of each sentence of text."""
    out, start = [], 0
    for m in SENTENCE_END.finditer(text):
        out.append((start, text[start : m.start()]))
        start = m.end()
    out.append((start, text[start:]))
    return [(s, t) for s, t in out if t]


def atomic_facts(text: str, subject: str) -> list[dict]:
    """Facts stated in text: subject, relation, value and the value's character span."""
    facts = []
    for offset, sentence in sentences(text):
        match = next((m for p in PATTERNS if (m := p.fullmatch(sentence))), None)
        if match is None:
            continue
        named = match.groupdict().get("s") or subject
        for relation, value in match.groupdict().items():
            if relation == "s" or value is None:
                continue
            start = offset + match.start(relation)
            pieces = LIST_SEPARATOR.split(value) if relation in LIST_RELATIONS else [value]
            for piece in pieces:
                at = text.find(piece, start)
                facts.append({"subject": named, "relation": relation, "value": piece, "span": (at, at + len(piece))})
    return facts


def score_generation(prompt: str, text: str, from_big: list[bool], subject: str, kind: str) -> list[dict]:
    """Every atomic fact of prompt + text whose value lies in the generated text, with
    supported (True / False / None = unverifiable) and delegated (the bigger model wrote part of it)."""
    full = prompt + text
    flags = [False] * len(prompt) + list(from_big)
    scored = []
    for fact in atomic_facts(full, subject):
        a, b = fact.pop("span")
        if a < len(prompt):
            continue
        fact["supported"] = check_fact(fact["subject"], fact["relation"], fact["value"], kind=kind)
        fact["delegated"] = any(flags[a:b])
        scored.append(fact)
    return scored
