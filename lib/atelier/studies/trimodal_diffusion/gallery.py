"""Sample galleries of the default sampler: digits drawn from captions, spoken words (log-mel
frames and WAV files), captions of held-out digits, text continuations."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import polars as pl

from atelier.data.media import NUMBER_WORDS, write_wav
from atelier.data.media.image import decode_image
from atelier.studies.trimodal_diffusion.data import StudyData
from atelier.studies.trimodal_diffusion.prompts import (i2t_prompts, t2i_prompts, target_audio, target_image,
                                                        target_text, text_prompts, tts_prompts)
from atelier.studies.trimodal_diffusion.sampling import draw


def image_gallery(model, data: StudyData, default: dict, steps: int, n: int, digit_clf, seed: int
                  ) -> pl.DataFrame:
    """n text-to-image samples: one row per pixel (sample, digit, predicted, x, y, grey 0..16)."""
    prompts, digits = t2i_prompts(data, n)
    samples, _ = draw(model, data, prompts, {**default, "steps": steps, "tau": None}, seed)
    codes = np.stack([target_image(data, row) for row in samples])  # [n, 64]
    predicted = digit_clf.predict(codes)
    grey = decode_image(codes)  # [n, 8, 8]
    i, y, x = np.meshgrid(np.arange(n), np.arange(8), np.arange(8), indexing="ij")
    return pl.DataFrame({"sample": i.ravel(), "digit": digits[i.ravel()], "predicted": predicted[i.ravel()],
                         "x": x.ravel(), "y": y.ravel(), "grey": grey.ravel()})


def speech_gallery(model, data: StudyData, default: dict, steps: int, folder: Path, word_clf, seed: int
                   ) -> pl.DataFrame:
    """One text-to-speech sample per word: WAV files in `folder` (Griffin-Lim from the codebook),
    and one row per (word, frame, mel band) of the sampled log-mel frames."""
    prompts, words = tts_prompts(data, len(data.words))
    samples, _ = draw(model, data, prompts, {**default, "steps": steps, "tau": None}, seed)
    rows = []
    folder.mkdir(parents=True, exist_ok=True)
    for word, row in zip(words, samples):
        codes = target_audio(data, row)
        name = data.words[word]
        heard = data.words[word_clf.predict([codes])[0]] if len(codes) else ""
        if len(codes):
            write_wav(folder / f"tts_{name.replace(' ', '_')}.wav", data.codec.decode(codes, seed))
        log_mel = data.codec.log_mel(codes).numpy() if len(codes) else np.zeros((0, data.codec.mel.config.n_mels))
        frame, band = np.meshgrid(np.arange(len(log_mel)), np.arange(log_mel.shape[1]), indexing="ij")
        rows.append(pl.DataFrame({"frame": frame.ravel(), "band": band.ravel(), "log_mel": log_mel.ravel()},
                                 schema={"frame": pl.Int64, "band": pl.Int64, "log_mel": pl.Float64})
                    .select(word=pl.lit(name), heard=pl.lit(heard), frame="frame", band="band", log_mel="log_mel"))
    return pl.concat(rows)


def caption_gallery(model, data: StudyData, default: dict, steps: int, seed: int) -> pl.DataFrame:
    """Captions sampled for one held-out image of each digit, and whether they name that digit."""
    prompts, digits = i2t_prompts(data)
    samples, _ = draw(model, data, prompts, {**default, "steps": steps, "tau": None}, seed)
    captions = [target_text(data, row) for row in samples]
    words = [set(c.replace(",", " ").split()) for c in captions]
    return pl.DataFrame({"digit": digits, "caption": captions,
                         "names_digit": [NUMBER_WORDS[d] in w or str(d) in w for d, w in zip(digits, words)]})


def text_gallery(model, data: StudyData, default: dict, steps: int, n: int, prefix: int, seed: int
                 ) -> pl.DataFrame:
    """Continuations of held-out documents' first `prefix` tokens."""
    prompts, prefixes = text_prompts(data, n, prefix)
    samples, _ = draw(model, data, prompts, {**default, "steps": steps, "tau": None}, seed)
    return pl.DataFrame({"prefix": prefixes,
                         "continuation": [target_text(data, row, skip=prefix) for row in samples]})
