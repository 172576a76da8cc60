"""Image codec and image-caption pairs from scikit-learn's digits (1,797 8x8 images, grey 0..16).

An image becomes 64 tokens in raster order (row by row), each one of 16 grey levels: the
nearest level, code = floor(value * 15 / 16 + 1/2) for value in 0..16, and back value =
code * 16 / 15. Decoding then encoding returns the same codes exactly; encoding then decoding
returns the quantised image.
"""

from __future__ import annotations

import functools

import numpy as np
import polars as pl
import sklearn
from sklearn.datasets import load_digits

from atelier.data.media.speech import NUMBER_WORDS

LEVELS = 16
SIDE = 8
N_TOKENS = SIDE * SIDE
MAX_VALUE = 16.0  # sklearn digits' grey scale is 0..16

CAPTION_TEMPLATES = (
    "the digit {word}",
    "a handwritten {digit}",
    "an image of the number {word}",
    "a picture of the digit {digit}",
    "the number {digit}, written by hand",
    "a handwritten digit {word}",
    "{word}",
)


def encode_image(image: np.ndarray) -> np.ndarray:
    """Grey image [..., 8, 8] or [..., 64] with values 0..16 -> int64 codes [..., 64] in 0..15."""
    image = np.asarray(image, dtype=np.float64)
    if image.shape[-2:] == (SIDE, SIDE):
        image = image.reshape(*image.shape[:-2], N_TOKENS)  # raster order
    if image.shape[-1] != N_TOKENS:
        raise ValueError(f"an image must be [..., 8, 8] or [..., 64], got shape {image.shape}")
    if image.size and (image.min() < 0 or image.max() > MAX_VALUE):
        raise ValueError(f"grey values must lie in [0, {MAX_VALUE}], got [{image.min()}, {image.max()}]")
    return np.floor(image * (LEVELS - 1) / MAX_VALUE + 0.5).astype(np.int64)  # nearest level, ties up


def decode_image(codes: np.ndarray) -> np.ndarray:
    """Codes [..., 64] in 0..15 -> float image [..., 8, 8] with values in 0..16."""
    codes = np.asarray(codes)
    if codes.shape[-1] != N_TOKENS or (codes.size and (codes.min() < 0 or codes.max() >= LEVELS)):
        raise ValueError(f"image codes must be [..., 64] in 0..{LEVELS - 1}, got shape {codes.shape}")
    return (codes * MAX_VALUE / (LEVELS - 1)).reshape(*codes.shape[:-1], SIDE, SIDE)


def caption(label: int, template: int) -> str:
    """Caption of digit `label` in phrasing `template` (an index into CAPTION_TEMPLATES)."""
    return CAPTION_TEMPLATES[template].format(word=NUMBER_WORDS[label], digit=label)


def fingerprint() -> list:
    """What the pairs depend on besides their arguments (the catalog's builtin-source hook)."""
    return [1, sklearn.__version__, CAPTION_TEMPLATES]


@functools.cache
def _digits() -> tuple[np.ndarray, np.ndarray]:
    data = load_digits()
    return data.images, data.target


def digits_pairs(seed: int = 0) -> pl.DataFrame:
    """All 1,797 digits -> DataFrame(id, image: 64 codes, label, caption), a phrasing drawn per image by `seed`."""
    images, labels = _digits()
    templates = np.random.default_rng(seed).integers(len(CAPTION_TEMPLATES), size=len(labels))
    return pl.DataFrame({
        "id": [f"digits-{i:04d}" for i in range(len(labels))],
        "image": encode_image(images).tolist(),
        "label": labels.astype(np.int64),
        "caption": [caption(int(y), int(t)) for y, t in zip(labels, templates)],
    }, schema_overrides={"image": pl.List(pl.Int64)})
