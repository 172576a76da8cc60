import wave

import numpy as np
import pytest

from atelier.data.media import SAMPLE_RATE, number_words, render, speech_pairs, speech_texts, write_wav
from atelier.data.media.speech import _render_uncached


def test_rendering_is_deterministic_and_cached():
    a = _render_uncached("forty two", "en+f3", 150)
    b = _render_uncached("forty two", "en+f3", 150)
    np.testing.assert_array_equal(a, b)
    np.testing.assert_array_equal(render("forty two", "en+f3", 150), a)
    assert a.dtype == np.float32 and 0.05 < np.abs(a).max() <= 1.0


def test_voice_and_speed_change_the_audio():
    slow, fast = render("seven", "en", 100), render("seven", "en", 300)
    assert len(slow) > 1.5 * len(fast)  # words per minute
    assert 0.2 < len(render("seven", "en", 160)) / SAMPLE_RATE < 2.0  # one short word, in seconds
    assert not np.array_equal(render("seven", "en+f3"), render("seven", "en+m3"))


def test_speech_pairs_is_the_product_of_its_knobs():
    pairs = speech_pairs(["one", "two"], voices=("en", "en+f3"), speeds=(140, 180))
    assert pairs.columns == ["id", "text", "voice", "speed", "sample_rate", "waveform"]
    assert len(pairs) == 8 and pairs["id"].n_unique() == 8
    row = pairs.row(5, named=True)
    rendered = render(row["text"], row["voice"], row["speed"])
    np.testing.assert_array_equal(np.asarray(row["waveform"], np.float32), rendered)


def test_number_words():
    assert [number_words(n) for n in (0, 7, 13, 20, 42, 99)] == [
        "zero", "seven", "thirteen", "twenty", "forty two", "ninety nine"]


def test_speech_texts_are_the_first_numbers_then_distinct_lemmas_then_short_sentences():
    texts = speech_texts(n_lemmas=30, n_sentences=4, max_words=5, n_numbers=12)
    assert texts[:12] == [number_words(n) for n in range(12)]
    lemmas, sentences = texts[12:42], texts[42:]
    assert len(set(lemmas)) == 30 and all(w.isalpha() and w.islower() for w in lemmas)
    assert not set(lemmas) & set(texts[:12])
    assert len(sentences) == 4 and all(len(s.split()) <= 5 for s in sentences)
    assert speech_texts(n_lemmas=30, n_sentences=0, n_numbers=12) == texts[:42]  # a stable order
    with pytest.raises(ValueError, match="n_numbers=101"):
        speech_texts(n_numbers=101)


def test_wav_file_round_trip(tmp_path):
    wave_in = render("three")
    path = write_wav(tmp_path / "three.wav", wave_in)
    with wave.open(str(path)) as w:
        assert (w.getframerate(), w.getnchannels(), w.getsampwidth()) == (SAMPLE_RATE, 1, 2)
        back = np.frombuffer(w.readframes(w.getnframes()), "<i2") / 32767
    np.testing.assert_allclose(back, wave_in, atol=1 / 32767)


def test_bad_input_is_named():
    with pytest.raises(ValueError, match="unknown espeak-ng voice 'klingon'.*en-us"):
        render("one", "klingon")
    with pytest.raises(ValueError, match="variant"):
        render("one", "en+nosuch")
    with pytest.raises(ValueError, match="speed 10"):
        render("one", "en", 10)
