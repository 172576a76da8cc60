"""Audio codec: waveform <-> discrete codes at ~25 per second via a k-means codebook of log-mel frames.

encode: 16 kHz waveform -> pooled log-mel frames (mel.Mel, 40 ms each) -> index of the nearest
centroid. decode: codes -> centroid log-mels -> mel pseudo-inverse -> Griffin-Lim waveform.
The codebook is MiniBatchKMeans fitted on the frames of a corpus of espeak-ng renderings and
cached on disk by a hash of everything it depends on (texts, voices, speeds, size, mel settings,
seed, espeak-ng version).
"""

from __future__ import annotations

import dataclasses

import numpy as np
import torch
from sklearn.cluster import MiniBatchKMeans

from atelier.data.cache import cached
from atelier.data.media.mel import Mel, MelConfig
from atelier.data.media.speech import DEFAULT_VOICES, espeak_version, render_many


class AudioCodec:
    """A codebook of log-mel centroids [K, n_mels] and the Mel analysis it was fitted with."""

    def __init__(self, centroids: np.ndarray | torch.Tensor, mel_config: MelConfig = MelConfig()):
        self.centroids = torch.as_tensor(np.asarray(centroids), dtype=torch.float32)  # [K, M]
        if self.centroids.ndim != 2 or self.centroids.shape[1] != mel_config.n_mels:
            raise ValueError(f"centroids must be [K, n_mels={mel_config.n_mels}], got {tuple(self.centroids.shape)}")
        self.mel = Mel(mel_config)

    @property
    def codebook_size(self) -> int:
        return self.centroids.shape[0]

    @property
    def codes_per_second(self) -> float:
        return self.mel.config.frames_per_second

    def encode(self, waveform: np.ndarray) -> np.ndarray:
        """Waveform [L] at the codec's sample rate -> int64 codes [N], N ~ 25 * seconds."""
        frames = self.mel.log_mel(waveform)  # [N, M]
        return torch.cdist(frames, self.centroids).argmin(-1).numpy()

    def log_mel(self, codes: np.ndarray | torch.Tensor) -> torch.Tensor:
        """Codes [N] -> centroid log-mel frames [N, n_mels]."""
        codes = torch.as_tensor(np.asarray(codes), dtype=torch.long)
        if codes.numel() and not 0 <= int(codes.min()) <= int(codes.max()) < self.codebook_size:
            raise ValueError(f"audio codes must lie in [0, {self.codebook_size}), got range "
                             f"[{int(codes.min())}, {int(codes.max())}]")
        return self.centroids[codes]

    def decode(self, codes: np.ndarray | torch.Tensor, seed: int = 0) -> np.ndarray:
        """Codes [N] -> float32 waveform (Griffin-Lim; `seed` fixes its initial phase)."""
        return self.mel.invert(self.log_mel(codes), seed)


def train_audio_codec(texts: list[str], voices: tuple[str, ...] = DEFAULT_VOICES, speeds: tuple[int, ...] = (160,),
                      codebook_size: int = 256, mel_config: MelConfig = MelConfig(), seed: int = 0) -> AudioCodec:
    """Fit (or load from the cache) a k-means codebook on the log-mel frames of every rendering."""
    texts = sorted(set(texts))
    key = ["audio_codec", texts, list(voices), list(speeds), codebook_size, dataclasses.asdict(mel_config), seed,
           espeak_version()]
    return AudioCodec(cached(key, lambda: _fit_codebook(texts, voices, speeds, codebook_size, mel_config, seed),
                             fmt="npy"), mel_config)


def _fit_codebook(texts, voices, speeds, codebook_size, mel_config, seed) -> np.ndarray:
    mel = Mel(mel_config)
    waves = render_many([(t, v, s) for t in texts for v in voices for s in speeds])
    frames = torch.cat([mel.log_mel(w) for w in waves]).numpy()  # [frames of the corpus, n_mels]
    if len(frames) < codebook_size:
        raise ValueError(f"codebook_size {codebook_size} exceeds the {len(frames)} frames of the corpus: "
                         "use more texts/voices/speeds or a smaller codebook")
    kmeans = MiniBatchKMeans(codebook_size, random_state=seed, batch_size=2048, n_init=3).fit(frames)
    return kmeans.cluster_centers_.astype(np.float32)  # [K, n_mels]
