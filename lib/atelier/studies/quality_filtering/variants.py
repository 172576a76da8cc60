"""Lower-quality variants of a document: boilerplate-laden, truncated, sentence-shuffled.

These are the defects a web crawl is full of and a quality filter is meant to remove:
navigation and cookie banners around the text, pages cut off mid-sentence, and text whose
sentences (or lines, for code and man pages) are out of order. Every variant is a pure
function of the text and a numpy Generator, so a pool is reproducible from its seed.
"""

from __future__ import annotations

import re

import numpy as np

VARIANTS = ("clean", "boilerplate", "truncated", "shuffled")

BOILERPLATE = (
    "Home | About | Contact | Privacy Policy",
    "Skip to main content",
    "This site uses cookies. By continuing to browse you agree to our use of cookies. Accept",
    "Share on Facebook Share on Twitter Share by email",
    "Click here to subscribe to our newsletter!",
    "Posted by admin | 0 comments",
    "Copyright (c) All rights reserved.",
    "Login | Register | Forgot your password?",
    "Related posts: You may also like",
    "Advertisement",
    "Sign up for free today and get 20% off your first order",
    "Previous page | Next page",
)
SENTENCE_END = re.compile(r"(?<=[.!?])\s+")


def add_boilerplate(text: str, rng: np.random.Generator, n_lines: tuple[int, int] = (2, 5)) -> str:
    """text with 2-4 boilerplate lines: some before it, the rest after it."""
    k = int(rng.integers(*n_lines))
    lines = [BOILERPLATE[i] for i in rng.choice(len(BOILERPLATE), size=k, replace=False)]
    head = int(rng.integers(0, k + 1))
    return "\n".join([*lines[:head], text, *lines[head:]])


def truncate(text: str, rng: np.random.Generator, keep: tuple[float, float] = (0.3, 0.7)) -> str:
    """The first 30-70% of the characters, cut wherever that falls (mid-word too)."""
    return text[: max(1, int(len(text) * rng.uniform(*keep)))]


def units(text: str) -> list[str]:
    """The text's sentences, or its lines when it has several (code, man pages, verse)."""
    lines = [line for line in text.split("\n") if line.strip()]
    return lines if len(lines) > 1 else SENTENCE_END.split(text.strip())


def shuffle_sentences(text: str, rng: np.random.Generator) -> str:
    """The sentences (or lines) of text in a random order."""
    parts = units(text)
    joiner = "\n" if "\n" in text.strip() else " "
    return joiner.join(parts[i] for i in rng.permutation(len(parts)))


def make_variant(text: str, variant: str, rng: np.random.Generator) -> str:
    """text turned into `variant` (one of VARIANTS; "clean" returns it unchanged)."""
    if variant == "clean":
        return text
    if variant == "boilerplate":
        return add_boilerplate(text, rng)
    if variant == "truncated":
        return truncate(text, rng)
    if variant == "shuffled":
        return shuffle_sentences(text, rng)
    raise ValueError(f"unknown variant {variant!r}; valid: {', '.join(VARIANTS)}")
