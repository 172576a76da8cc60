import numpy as np
import torch

from atelier.data.media import Mel, MelConfig
from atelier.data.media.mel import hz_to_mel, mel_filterbank


def test_filters_peak_at_centres_equally_spaced_in_mel():
    n_freqs, sr = 1025, 16_000
    filters = mel_filterbank(n_freqs, 20, sr, 100.0, 7000.0)  # [20, 1025]
    peaks_hz = filters.argmax(-1).double() * (sr / 2) / (n_freqs - 1)
    steps = torch.diff(hz_to_mel(peaks_hz))
    assert torch.allclose(steps, steps.mean().expand_as(steps), rtol=0.05)
    assert torch.allclose(filters.max(-1).values, torch.ones(20), atol=0.05)


def test_frame_rate_is_25_per_second():
    mel = Mel()
    frames = mel.log_mel(np.zeros(2 * 16_000, np.float32))
    assert MelConfig().frames_per_second == 25
    assert abs(len(frames) - 50) <= 1


def test_griffin_lim_recovers_a_tone():
    """Analysis then inversion of a 440 Hz tone gives back a waveform whose spectrum peaks at 440 Hz."""
    t = np.arange(16_000) / 16_000
    tone = 0.5 * np.sin(2 * np.pi * 440 * t).astype(np.float32)
    mel = Mel()
    back = mel.invert(mel.log_mel(tone))
    spectrum = np.abs(np.fft.rfft(back))
    assert abs(np.fft.rfftfreq(len(back), 1 / 16_000)[spectrum.argmax()] - 440) < 40  # within one mel band
    assert 0.5 < len(back) / len(tone) < 1.1
