import numpy as np
import pytest
from sklearn.datasets import load_digits

from atelier.data.media import CAPTION_TEMPLATES, NUMBER_WORDS, decode_image, digits_pairs, encode_image


def test_codes_are_the_nearest_of_16_grey_levels():
    images = load_digits().images  # [N, 8, 8] in 0..16
    levels = np.arange(16) * 16 / 15
    distance = np.abs(images.reshape(-1, 64)[..., None] - levels)  # [N, 64, 16], brute force over the levels
    codes = encode_image(images)
    chosen = np.take_along_axis(distance, codes[..., None], -1)[..., 0]
    np.testing.assert_array_equal(chosen, distance.min(-1))  # a nearest level (ties: either is fine)


def test_round_trip_is_exact_on_quantised_images():
    codes = encode_image(load_digits().images)
    quantised = decode_image(codes)
    np.testing.assert_array_equal(encode_image(quantised), codes)
    np.testing.assert_array_equal(decode_image(encode_image(quantised)), quantised)
    all_levels = np.tile(np.arange(16), 4)  # every code, shaped as one image
    np.testing.assert_array_equal(encode_image(decode_image(all_levels)), all_levels)


def test_raster_order():
    image = np.zeros((8, 8))
    image[2, 5] = 16
    assert encode_image(image).argmax() == 2 * 8 + 5


def test_digits_pairs():
    pairs = digits_pairs(seed=0)
    assert pairs.columns == ["id", "image", "label", "caption"]
    assert len(pairs) == 1797 and pairs["id"].n_unique() == 1797
    np.testing.assert_array_equal(np.array(pairs["image"].to_list()), encode_image(load_digits().images))
    for label, text in zip(pairs["label"], pairs["caption"]):
        assert NUMBER_WORDS[label] in text or str(label) in text
    assert pairs["caption"].n_unique() > 5 * 10  # several phrasings of each digit
    assert digits_pairs(seed=0)["caption"].equals(pairs["caption"])
    assert not digits_pairs(seed=1)["caption"].equals(pairs["caption"])
    assert len(CAPTION_TEMPLATES) >= 5


def test_bad_input_is_named():
    with pytest.raises(ValueError, match="grey values"):
        encode_image(np.full((8, 8), 17.0))
    with pytest.raises(ValueError, match="image codes"):
        decode_image(np.full(64, 16))
    with pytest.raises(ValueError, match="shape"):
        encode_image(np.zeros(63))
