"""Speech-text pairs rendered offline with espeak-ng.

espeak-ng (Debian package `espeak-ng`) is a formant synthesiser: the same text, voice and speed
give the same samples on every run, so a rendering is cached on disk by a hash of those inputs.
Voices are espeak-ng voice names, optionally with a variant (`en`, `en-us`, `en+f3`, `en+m3`,
`en-gb-scotland+f2`, ...); speed is in words per minute. Waveforms are float32 mono at 16 kHz.
"""

from __future__ import annotations

import functools
import os
import shutil
import subprocess
import tempfile
import wave
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
import polars as pl
from scipy.signal import resample_poly

from atelier.data.cache import cached, stable_hash
from atelier.data.catalog import load
from atelier.data.splits import unit_hash

SAMPLE_RATE = 16_000
DEFAULT_VOICES = ("en", "en-us", "en+f3", "en+m3")
SPEED_RANGE = (80, 450)  # espeak-ng accepts 80..450 words per minute

NUMBER_WORDS = ("zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine")
_TEENS = ("ten", "eleven", "twelve", "thirteen", "fourteen", "fifteen", "sixteen", "seventeen", "eighteen",
          "nineteen")
_TENS = ("", "", "twenty", "thirty", "forty", "fifty", "sixty", "seventy", "eighty", "ninety")


def number_words(n: int) -> str:
    """0..99 spelled out in English words ("forty two")."""
    if not 0 <= n <= 99:
        raise ValueError(f"number_words covers 0..99, got {n}")
    if n < 10:
        return NUMBER_WORDS[n]
    if n < 20:
        return _TEENS[n - 10]
    return _TENS[n // 10] + ("" if n % 10 == 0 else " " + NUMBER_WORDS[n % 10])


def speech_texts(n_lemmas: int = 200, n_sentences: int = 100, max_words: int = 6, seed: int = 0,
                 n_numbers: int = 100) -> list[str]:
    """Short texts to speak: the numbers 0..n_numbers-1 in words, WordNet lemmas, short WordNet usage examples.

    Lemmas are single alphabetic words that are not number words; sentences have at most max_words
    words. Which ones is a seeded order by hash of their ids, stable across machines.
    """
    if not 0 <= n_numbers <= 100:
        raise ValueError(f"n_numbers={n_numbers}: number_words spells 0..99, so use 0..100")

    def first(docs: pl.DataFrame, n: int) -> list[str]:
        order = np.argsort(unit_hash([f"{seed}:{i}" for i in docs["id"]]))[:n]
        return docs["text"].gather(order).to_list()

    lemmas = load("wordnet-definitions", "all").select("id", pl.col("word").alias("text"))
    numbers = [number_words(n) for n in range(n_numbers)]
    lemmas = lemmas.filter(pl.col("text").str.contains(r"^[a-z]+$") & ~pl.col("text").is_in(numbers))
    lemmas = lemmas.unique("text", keep="first", maintain_order=True)
    sentences = load("wordnet-examples", "all").filter(
        (pl.col("text").str.count_matches(" ") < max_words) & pl.col("text").str.contains(r"^[A-Za-z ,.'?!-]+$"))
    return numbers + first(lemmas, n_lemmas) + first(sentences, n_sentences)


def unavailable() -> str | None:
    """None when espeak-ng is installed, else what to install (the catalog's builtin-source hook)."""
    return None if shutil.which("espeak-ng") else "espeak-ng not found: apt-get install espeak-ng"


def fingerprint() -> list:
    """What renderings depend on besides their arguments (the catalog's builtin-source hook)."""
    return [1, SAMPLE_RATE, None if unavailable() else espeak_version()]


def _espeak() -> str:
    if reason := unavailable():
        raise RuntimeError(reason)
    return shutil.which("espeak-ng")


@functools.cache
def espeak_version() -> str:
    return subprocess.run([_espeak(), "--version"], capture_output=True, text=True, check=True).stdout.strip()


@functools.cache
def english_voices() -> tuple[str, ...]:
    """English espeak-ng voice names (language codes starting with 'en')."""
    out = subprocess.run([_espeak(), "--voices=en"], capture_output=True, text=True, check=True).stdout
    names = {line.split()[1] for line in out.splitlines()[1:] if line.split()}
    return tuple(sorted(names - {"variant"}))


@functools.cache
def voice_variants() -> tuple[str, ...]:
    """Variant names usable after '+' (f1..f5, m1..m7, and the named ones)."""
    out = subprocess.run([_espeak(), "--voices=variant"], capture_output=True, text=True, check=True).stdout
    return tuple(sorted(line.split()[4].removeprefix("!v/") for line in out.splitlines()[1:] if line.split()))


def _check_voice(voice: str) -> None:
    language, _, variant = voice.partition("+")
    if language not in english_voices() or (variant and variant not in voice_variants()):
        raise ValueError(f"unknown espeak-ng voice {voice!r}: use one of {english_voices()}, optionally with "
                         f"'+variant', variant one of {voice_variants()}")


def _render_uncached(text: str, voice: str, speed: int) -> np.ndarray:
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "speech.wav"
        subprocess.run([_espeak(), "-v", voice, "-s", str(speed), "-w", str(path), "--stdin"], input=text,
                       text=True, capture_output=True, check=True)
        with wave.open(str(path)) as w:
            rate, pcm = w.getframerate(), w.readframes(w.getnframes())
    samples = np.frombuffer(pcm, dtype="<i2").astype(np.float32) / 32768.0
    g = np.gcd(SAMPLE_RATE, rate)
    return resample_poly(samples, SAMPLE_RATE // g, rate // g).astype(np.float32)


def render(text: str, voice: str = "en", speed: int = 160) -> np.ndarray:
    """Speak `text` with espeak-ng -> float32 waveform [samples] at 16 kHz, cached on disk.

    The cache key holds the espeak-ng version, since another version may render differently.
    """
    if not text.strip():
        raise ValueError("render needs a non-empty text")
    _check_voice(voice)
    if not SPEED_RANGE[0] <= speed <= SPEED_RANGE[1]:
        raise ValueError(f"speed {speed} words/minute is outside espeak-ng's range {SPEED_RANGE}")
    key = ["speech", text, voice, int(speed), SAMPLE_RATE, espeak_version()]
    return cached(key, lambda: _render_uncached(text, voice, int(speed)), fmt="npy")


def render_many(requests: list[tuple[str, str, int]]) -> list[np.ndarray]:
    """render(text, voice, speed) for each request, several espeak-ng processes at a time, in order."""
    with ThreadPoolExecutor(max_workers=os.cpu_count() or 1) as pool:
        return list(pool.map(lambda r: render(*r), requests))


def speech_pairs(texts: list[str], voices: tuple[str, ...] = DEFAULT_VOICES,
                 speeds: tuple[int, ...] = (160,)) -> pl.DataFrame:
    """Every (text, voice, speed) rendered -> DataFrame(id, text, voice, speed, sample_rate, waveform).

    The id hashes text, voice and speed, so it is stable across calls and orderings.
    """
    rows = [(t, v, s) for t in texts for v in voices for s in speeds]
    return pl.DataFrame({
        "id": [stable_hash(list(r), 12) for r in rows],
        "text": [t for t, _, _ in rows],
        "voice": [v for _, v, _ in rows],
        "speed": [s for _, _, s in rows],
        "sample_rate": [SAMPLE_RATE] * len(rows),
        "waveform": render_many(rows),
    }, schema_overrides={"waveform": pl.List(pl.Float32), "speed": pl.Int64, "sample_rate": pl.Int64})


def speech_captions(n_lemmas: int = 200, n_sentences: int = 100, voices: tuple[str, ...] = ("en", "en-us"),
                    speeds: tuple[int, ...] = (160,)) -> pl.DataFrame:
    """The speech-captions dataset: speech_texts() rendered in each voice and speed."""
    return speech_pairs(speech_texts(n_lemmas, n_sentences), tuple(voices), tuple(speeds))


def write_wav(path: str | Path, waveform: np.ndarray, sample_rate: int = SAMPLE_RATE) -> Path:
    """Float waveform in [-1, 1] -> 16-bit mono WAV file (stdlib `wave`)."""
    path = Path(path)
    pcm = (np.clip(np.asarray(waveform, dtype=np.float32), -1.0, 1.0) * 32767).astype("<i2")
    with wave.open(str(path), "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(sample_rate)
        w.writeframes(pcm.tobytes())
    return path
