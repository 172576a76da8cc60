import numpy as np
import torch

from atelier.data.media import NUMBER_WORDS, digit_classifier, digits_pairs, render, spoken_word_classifier


def test_digit_classifier_is_well_above_chance():
    clf = digit_classifier()
    assert clf.n_test > 200 and clf.accuracy >= 0.8  # chance: 0.1
    pairs = digits_pairs()
    predicted = clf.predict(np.array(pairs["image"].to_list()))
    assert (predicted == pairs["label"].to_numpy()).mean() >= 0.9  # train + held out


def test_spoken_word_classifier_generalises_to_unseen_voices(codec):
    clf = spoken_word_classifier(codec)
    assert clf.n_test == 60 and clf.accuracy >= 0.5  # chance: 0.1; 10 words x 2 unseen voices x 3 speeds
    again = spoken_word_classifier(codec)  # from the cache
    torch.testing.assert_close(again.weight, clf.weight)


def test_spoken_word_classifier_scores_resynthesised_speech(codec):
    """codes -> Griffin-Lim waveform -> codes again is still heard as the same word (the TTS scoring path)."""
    clf = spoken_word_classifier(codec)
    utterances = [codec.encode(codec.decode(codec.encode(render(w, "en+f3", 160)))) for w in NUMBER_WORDS]
    assert (clf.predict(utterances) == np.arange(10)).mean() >= 0.5
