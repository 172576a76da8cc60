"""Image and audio codecs, image-caption and speech-text pairs, the multimodal vocabulary and datamodule.

    pairs = digits_pairs()                                  # 8x8 digits as 64 codes + captions
    speech = speech_pairs(["seven", "forty two"])           # espeak-ng renderings at 16 kHz
    codec = train_audio_codec(texts, codebook_size=256)     # log-mel k-means, ~25 codes/s
    vocab = MultimodalVocab(text_tokenizer, codec)          # one id space for all three
    dm = MultimodalDataModule(vocab, texts, pairs, speech, weights={"text": 1, "image": 1, "audio": 1})
"""

from atelier.data.media.audio import AudioCodec, train_audio_codec
from atelier.data.media.classifiers import Classifier, digit_classifier, spoken_word_classifier
from atelier.data.media.datamodule import KINDS, MixtureDataset, MultimodalDataModule
from atelier.data.media.image import CAPTION_TEMPLATES, caption, decode_image, digits_pairs, encode_image
from atelier.data.media.mel import Mel, MelConfig
from atelier.data.media.speech import (DEFAULT_VOICES, NUMBER_WORDS, SAMPLE_RATE, english_voices, number_words,
                                       render, render_many, speech_pairs, speech_texts, write_wav)
from atelier.data.media.vocab import MODALITIES, SPECIALS, TASKS, Example, MultimodalVocab

__all__ = [
    "AudioCodec", "train_audio_codec", "Classifier", "digit_classifier", "spoken_word_classifier", "KINDS",
    "MixtureDataset", "MultimodalDataModule", "CAPTION_TEMPLATES", "caption", "decode_image", "digits_pairs",
    "encode_image", "Mel", "MelConfig", "DEFAULT_VOICES", "NUMBER_WORDS", "SAMPLE_RATE", "english_voices",
    "number_words", "render", "render_many", "speech_pairs", "speech_texts", "write_wav", "MODALITIES",
    "SPECIALS", "TASKS", "Example", "MultimodalVocab",
]
