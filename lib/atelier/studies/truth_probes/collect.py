"""Ask the model, grade its answers, and read its residual stream at the end of each answer.

Generation is the expensive step (minutes on a CPU), so answers and activations are cached in
``cache_root()/truth_probes``, keyed by a hash of the model files, the prompts and the
settings: a rerun with the same questions reads them back in a second.
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
from pathlib import Path

import numpy as np
import polars as pl

from atelier.paths import cache_root
from atelier.pretrained import ChatLM, load
from atelier.pretrained.smollm import converted_dir
from atelier.studies.truth_probes import grading, tasks

MODEL = "smollm2-135m-instruct"


def cache_key(**parts) -> str:
    return hashlib.sha256(json.dumps(parts, sort_keys=True).encode()).hexdigest()[:20]


def save_atomic(path: Path, arrays: dict[str, np.ndarray]) -> None:
    """np.savez into a temporary sibling, then rename: readers never see half a file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, suffix=".npz")
    os.close(fd)
    np.savez(tmp, **arrays)
    os.replace(tmp, path)


def collect(questions: pl.DataFrame, layers: tuple[int, ...], max_new_tokens: int = 8,
            batch_size: int = 32, lm: ChatLM | None = None) -> tuple[pl.DataFrame, np.ndarray]:
    """Answer, grade and embed every question.

    Returns the questions with columns ``answer`` (its first line) and ``correct``, and the
    activations [N, len(layers), D] at the last token of chat prompt + prefill + answer.
    """
    model_key = converted_dir().name
    prompts = questions["question"].to_list()
    prefills = questions["prefill"].to_list()
    key = cache_key(model=model_key, prompts=prompts, prefills=prefills, max_new_tokens=max_new_tokens,
                    layers=list(layers))
    path = cache_root() / "truth_probes" / f"{key}.npz"
    if path.exists():
        cached = np.load(path)
        answers, acts = cached["answers"].tolist(), cached["acts"]
    else:
        lm = lm or load(MODEL)
        raw = lm.answer(prompts, max_new_tokens=max_new_tokens, batch_size=batch_size, prefill=prefills)
        answers = [grading.first_line(a) for a in raw]
        texts = [p + " " + a for p, a in zip(lm.chat(prompts, prefill=prefills), answers)]
        acts = lm.hidden_states(texts, layers=layers, batch_size=batch_size).numpy()
        save_atomic(path, {"answers": np.array(answers), "acts": acts})
    frame = questions.with_columns(
        answer=pl.Series(answers, dtype=pl.String),
        correct=pl.Series(tasks.grade(questions, answers), dtype=pl.Boolean),
    )
    return frame, acts
