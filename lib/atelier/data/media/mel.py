"""Log-mel analysis and its approximate inverse (mel pseudo-inverse + Griffin-Lim), in torch.

The audio codec quantises log-mel frames; to listen to codes we need the way back:
log-mel -> mel power -> linear magnitude (least-squares inverse of the filterbank, clipped at
zero) -> waveform by Griffin-Lim (Griffin & Lim 1984) with the fast momentum update of
Perraudin et al. (2013). Analysis runs at a fine hop (10 ms) and frames are averaged in groups
of `pool` to the codec's frame rate (40 ms -> 25 frames per second); synthesis interpolates back
to the fine hop before the inverse.
"""

from __future__ import annotations

import dataclasses

import numpy as np
import torch
import torch.nn.functional as F


def hz_to_mel(f: torch.Tensor) -> torch.Tensor:
    """HTK mel scale: 2595 log10(1 + f / 700)."""
    return 2595.0 * torch.log10(1.0 + f / 700.0)


def mel_to_hz(m: torch.Tensor) -> torch.Tensor:
    return 700.0 * (10.0 ** (m / 2595.0) - 1.0)


def mel_filterbank(n_freqs: int, n_mels: int, sample_rate: int, f_min: float, f_max: float) -> torch.Tensor:
    """Triangular filters, equally spaced on the mel scale, peak 1 -> [n_mels, n_freqs]."""
    freqs = torch.linspace(0.0, sample_rate / 2, n_freqs, dtype=torch.float64)
    edges = mel_to_hz(torch.linspace(hz_to_mel(torch.tensor(f_min)), hz_to_mel(torch.tensor(f_max)), n_mels + 2,
                                     dtype=torch.float64))
    lower, centre, upper = edges[:-2, None], edges[1:-1, None], edges[2:, None]  # [n_mels, 1] each
    rising = (freqs - lower) / (centre - lower)
    falling = (upper - freqs) / (upper - centre)
    return torch.clamp(torch.minimum(rising, falling), min=0.0).float()


@dataclasses.dataclass(frozen=True)
class MelConfig:
    """Analysis settings. Defaults: 16 kHz, 25 ms windows every 10 ms, pooled by 4 -> 25 frames/s."""

    sample_rate: int = 16_000
    n_fft: int = 512
    win_length: int = 400
    hop_length: int = 160
    pool: int = 4
    n_mels: int = 64
    f_min: float = 50.0
    f_max: float = 8_000.0
    floor: float = 1e-5  # mel power floor before the log: silence sits at log(floor)
    griffin_lim_iters: int = 64
    momentum: float = 0.99

    @property
    def frames_per_second(self) -> float:
        return self.sample_rate / (self.hop_length * self.pool)


class Mel:
    """Waveform <-> pooled log-mel frames for one MelConfig."""

    def __init__(self, config: MelConfig = MelConfig()):
        self.config = c = config
        self.window = torch.hann_window(c.win_length)
        self.filters = mel_filterbank(c.n_fft // 2 + 1, c.n_mels, c.sample_rate, c.f_min, c.f_max)  # [M, F]
        self.inverse_filters = torch.linalg.pinv(self.filters)  # [F, M]

    def _stft(self, wave: torch.Tensor) -> torch.Tensor:
        c = self.config
        return torch.stft(wave, c.n_fft, c.hop_length, c.win_length, self.window, center=True, return_complex=True)

    def log_mel(self, waveform: np.ndarray | torch.Tensor) -> torch.Tensor:
        """Float waveform [L] -> pooled log-mel frames [ceil((1 + L // hop) / pool), n_mels]."""
        c = self.config
        wave = torch.from_numpy(np.array(waveform, dtype=np.float32))  # a copy: inputs may be read-only
        if wave.ndim != 1:
            raise ValueError(f"waveform must be 1-D (mono samples), got shape {tuple(wave.shape)}")
        power = self._stft(wave).abs() ** 2  # [F, T]
        log_mel = torch.log(torch.clamp(self.filters @ power, min=c.floor))  # [M, T]
        pad = -log_mel.shape[1] % c.pool
        log_mel = F.pad(log_mel, (0, pad), value=float(np.log(c.floor)))  # [M, T'] with T' % pool == 0
        return log_mel.reshape(c.n_mels, -1, c.pool).mean(-1).T.contiguous()  # [T' / pool, M]

    def to_magnitude(self, log_mel: torch.Tensor) -> torch.Tensor:
        """Pooled log-mel [N, n_mels] -> linear STFT magnitude [n_fft/2+1, N * pool] at the fine hop."""
        c = self.config
        fine = F.interpolate(log_mel.T[None], scale_factor=c.pool, mode="linear", align_corners=False)[0]  # [M, N*pool]
        mel_power = torch.exp(fine)
        power = torch.clamp(self.inverse_filters @ mel_power, min=0.0)  # [F, N*pool]
        return power.sqrt()

    def griffin_lim(self, magnitude: torch.Tensor, seed: int = 0) -> torch.Tensor:
        """Magnitude [F, T] -> waveform [(T - 1) * hop] whose STFT magnitude approximates it."""
        c = self.config
        length = (magnitude.shape[1] - 1) * c.hop_length
        gen = torch.Generator().manual_seed(seed)
        phase = torch.exp(2j * torch.pi * torch.rand(magnitude.shape, generator=gen))
        previous = torch.zeros_like(phase)
        for _ in range(c.griffin_lim_iters):
            wave = torch.istft(magnitude * phase, c.n_fft, c.hop_length, c.win_length, self.window, length=length)
            projected = self._stft(wave)
            accelerated = projected + c.momentum * (projected - previous)
            previous = projected
            phase = accelerated / accelerated.abs().clamp(min=1e-8)
        return torch.istft(magnitude * phase, c.n_fft, c.hop_length, c.win_length, self.window, length=length)

    def invert(self, log_mel: torch.Tensor, seed: int = 0) -> np.ndarray:
        """Pooled log-mel [N, n_mels] -> float32 waveform [~N * pool * hop] in [-1, 1]."""
        wave = self.griffin_lim(self.to_magnitude(torch.as_tensor(log_mel, dtype=torch.float32)), seed)
        return torch.clamp(wave, -1.0, 1.0).numpy().astype(np.float32)
