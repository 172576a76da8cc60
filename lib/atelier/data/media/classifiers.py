"""Small classifiers that score generated samples: which digit an 8x8 image shows, which number word
an utterance says.

Both are linear scikit-learn classifiers on standardised features, with a held-out accuracy
measured at fit time, and both read the codecs' tokens, so they score text-to-image and
text-to-speech samples directly:
- digits: logistic regression on quantised images (64 codes of 16 grey levels) from sklearn
  digits, held out by a hash of the id;
- spoken words: ridge classifier (closed form: ~1000 features, ~100 utterances) on audio codes ->
  centroid log-mels -> speech frames (silence trimmed) resampled to a fixed number of frames;
  trained on some espeak-ng voices, tested on other voices.
A fit is folded into one affine map (scores = features @ weight + bias) and cached on disk by a
hash of its inputs, so later runs skip both the renderings and the fit.
"""

from __future__ import annotations

import dataclasses
import functools
import hashlib
from typing import Callable

import numpy as np
import sklearn
import torch
import torch.nn.functional as F
from sklearn.linear_model import LogisticRegression, RidgeClassifier
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from atelier.data.cache import cached
from atelier.data.media.audio import AudioCodec
from atelier.data.media.image import LEVELS, digits_pairs
from atelier.data.media.image import fingerprint as digits_fingerprint
from atelier.data.media.speech import NUMBER_WORDS, render_many
from atelier.data.media.speech import fingerprint as speech_fingerprint
from atelier.data.splits import unit_hash


@dataclasses.dataclass
class Classifier:
    """A linear classifier over features(samples) [N, F]; accuracy is held out, over n_test examples."""

    weight: torch.Tensor  # [F, C]
    bias: torch.Tensor  # [C]
    accuracy: float
    n_test: int
    classes: tuple
    features: Callable[..., np.ndarray]  # samples -> [N, F]

    def predict(self, samples) -> np.ndarray:
        """Class index of each sample [N]."""
        x = torch.as_tensor(self.features(samples), dtype=torch.float64)
        return (x @ self.weight + self.bias).argmax(-1).numpy()


def _fit(estimator, x: np.ndarray, y: np.ndarray, test: np.ndarray) -> dict:
    """Fit standardise + estimator on ~test rows, score on test rows; fold into weight [F, C], bias [C]."""
    model = make_pipeline(StandardScaler(), estimator).fit(x[~test], y[~test])
    scaler, linear = model[0], model[-1]
    weight = linear.coef_.T / scaler.scale_[:, None]  # [F, C]
    bias = linear.intercept_ - (scaler.mean_ / scaler.scale_) @ linear.coef_.T  # [C]
    return {"weight": torch.as_tensor(weight), "bias": torch.as_tensor(bias),
            "accuracy": float((model.predict(x[test]) == y[test]).mean()), "n_test": int(test.sum())}


def _image_features(codes) -> np.ndarray:
    return np.asarray(codes, dtype=np.float64).reshape(-1, 64) / (LEVELS - 1)  # [N, 64]


@functools.cache
def digit_classifier(test_fraction: float = 0.2, seed: int = 0) -> Classifier:
    """Image codes [N, 64] (0..15) -> digits [N]; logistic regression on the quantised grey levels."""
    def build() -> dict:
        pairs = digits_pairs()
        test = unit_hash(pairs["id"].to_list()) < test_fraction  # Bool[N]
        estimator = LogisticRegression(C=0.1, max_iter=1000, random_state=seed)
        return _fit(estimator, _image_features(pairs["image"].to_list()), pairs["label"].to_numpy(), test)

    fit = cached(["classifier-digits", test_fraction, seed, digits_fingerprint()], build, fmt="pt")
    return Classifier(fit["weight"], fit["bias"], fit["accuracy"], fit["n_test"], tuple(range(10)), _image_features)


def utterance_features(codec: AudioCodec, codes: np.ndarray, frames: int = 16) -> np.ndarray:
    """Audio codes [N] -> [frames * n_mels]: centroid log-mels of the speech part, resampled in time.

    Speech frames are those whose mean log-mel lies more than 2 nats above the silence floor; the
    span from the first to the last such frame is kept (all frames when none qualify).
    """
    log_mel = codec.log_mel(codes)  # [N, M]
    loud = (log_mel.mean(-1) > np.log(codec.mel.config.floor) + 2.0).nonzero().flatten()
    if len(loud):
        log_mel = log_mel[loud[0]:loud[-1] + 1]
    resized = F.interpolate(log_mel.T[None], size=frames, mode="linear", align_corners=True)[0]  # [M, frames]
    return resized.T.reshape(-1).numpy()


def spoken_word_classifier(codec: AudioCodec, train_voices: tuple[str, ...] = ("en", "en-us", "en+m3", "en+f2"),
                           test_voices: tuple[str, ...] = ("en+f3", "en-gb-scotland"),
                           speeds: tuple[int, ...] = (130, 160, 190), words: tuple[str, ...] = NUMBER_WORDS
                           ) -> Classifier:
    """Utterances (a list of audio-code arrays) -> indices into `words`.

    Trained on train_voices; the accuracy is over the unseen test_voices.
    """
    requests = [(w, v, s) for voices in (train_voices, test_voices) for w in words for v in voices for s in speeds]

    def build() -> dict:
        x = np.stack([utterance_features(codec, codec.encode(wave)) for wave in render_many(requests)])
        y = np.array([words.index(w) for w, _, _ in requests])
        test = np.array([v in test_voices for _, v, _ in requests])
        return _fit(RidgeClassifier(alpha=10.0), x, y, test)

    codebook = hashlib.sha256(codec.centroids.numpy().tobytes()).hexdigest()
    key = ["classifier-spoken-words", requests, codebook, dataclasses.asdict(codec.mel.config), speech_fingerprint(),
           sklearn.__version__]
    fit = cached(key, build, fmt="pt")
    return Classifier(fit["weight"], fit["bias"], fit["accuracy"], fit["n_test"], tuple(words),
                      lambda utterances: np.stack([utterance_features(codec, c) for c in utterances]))
