import numpy as np
import pytest

from atelier.data.media import NUMBER_WORDS, AudioCodec, render, train_audio_codec
from atelier.data.media.speech import _render_uncached


def correlation(a, b) -> float:
    n = min(len(a), len(b))
    return float(np.corrcoef(np.asarray(a[:n]).ravel(), np.asarray(b[:n]).ravel())[0, 1])


def test_text_to_codes_is_deterministic(codec):
    first = codec.encode(_render_uncached("the digit seven", "en+f3", 160))
    second = codec.encode(_render_uncached("the digit seven", "en+f3", 160))
    np.testing.assert_array_equal(first, second)
    assert first.min() >= 0 and first.max() < codec.codebook_size


def test_codes_per_second(codec):
    for text in ("seven", "forty two", "an image of the number three"):
        wave = render(text, "en-us", 160)
        rate = len(codec.encode(wave)) / (len(wave) / 16_000)
        assert 20 <= rate <= 30, (text, rate)


def test_round_trip_keeps_a_recognisable_spectrogram(codec):
    """Decoded speech of an unseen voice: its log-mel correlates > 0.8 with the original's, and it is
    closer to its own word than to any of the other nine. The second test carries the weight: two
    different words from one voice already correlate 0.7 to 0.9 (shared silence and voice timbre)."""
    originals = {w: codec.mel.log_mel(render(w, "en+f3", 160)) for w in NUMBER_WORDS}
    for word in NUMBER_WORDS:
        decoded = codec.mel.log_mel(codec.decode(codec.encode(render(word, "en+f3", 160))))
        scores = {other: correlation(decoded, m) for other, m in originals.items()}
        assert scores[word] > 0.8, (word, scores[word])
        assert max(scores, key=scores.get) == word, (word, scores)


def test_codebook_is_cached_and_keyed_by_its_inputs(codec, codec_voices):
    again = train_audio_codec(list(reversed(NUMBER_WORDS)), voices=codec_voices, speeds=(160,), codebook_size=64)
    np.testing.assert_array_equal(again.centroids, codec.centroids)  # texts are a set
    smaller = train_audio_codec(list(NUMBER_WORDS), voices=codec_voices, speeds=(160,), codebook_size=16)
    assert smaller.codebook_size == 16


def test_bad_input_is_named(codec):
    with pytest.raises(ValueError, match=r"audio codes must lie in \[0, 64\)"):
        codec.log_mel(np.array([64]))
    with pytest.raises(ValueError, match="codebook_size 100000"):
        train_audio_codec(["one"], voices=("en",), codebook_size=100_000)
    with pytest.raises(ValueError, match="n_mels"):
        AudioCodec(np.zeros((4, 3)))
