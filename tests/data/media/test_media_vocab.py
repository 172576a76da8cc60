import numpy as np
import pytest
import torch

from atelier.data.media import MODALITIES, SPECIALS, TASKS, MultimodalVocab


@pytest.fixture(scope="module")
def vocab(text_tokenizer, codec):
    return MultimodalVocab(text_tokenizer, codec)


def test_modalities_are_disjoint_and_cover_the_space(vocab, codec, text_tokenizer):
    ids = torch.arange(len(vocab))
    counts = torch.bincount(vocab.modality_of(ids), minlength=len(MODALITIES))
    expected = {"special": len(SPECIALS), "text": 256, "image": 16, "audio": codec.codebook_size}
    assert counts.tolist() == [expected[m] for m in MODALITIES]
    assert len(vocab) == sum(expected.values())
    reused = text_tokenizer.special_ids  # the tokenizer's specials keep their ids; the others are appended
    assert {s: vocab.special[s] for s in reused} == reused
    n_appended = len(SPECIALS) - len(reused)
    appended = sorted(set(vocab.special.values()) - set(reused.values()))
    assert appended == list(range(len(vocab) - n_appended, len(vocab)))
    assert len(set(vocab.special[s] for s in SPECIALS)) == len(SPECIALS)


def examples(rng):
    image = rng.integers(16, size=64)
    audio = rng.integers(64, size=37)
    return {"text": (None, "a few words"), "t2i": ("the digit seven", image), "i2t": (image, "a handwritten 7"),
            "tts": ("forty two", audio), "asr": (audio, "forty two")}


@pytest.mark.parametrize("task", list(TASKS))
def test_encode_decode_round_trip(vocab, task):
    condition, target = examples(np.random.default_rng(0))[task]
    for length in (None, 200):
        example = vocab.encode(task, target, condition, length=length)
        back = vocab.decode(example.tokens)
        assert back["task"] == task
        for want, got in ((target, back["target"]), (condition, back["condition"])):
            if isinstance(want, str) or want is None:
                assert got == want
            else:
                np.testing.assert_array_equal(got, want)


@pytest.mark.parametrize("task", list(TASKS))
def test_loss_mask_marks_exactly_the_target(vocab, task):
    """Noisable = the target's content, its closing boundary and the trailing pads; nothing else."""
    condition, target = examples(np.random.default_rng(1))[task]
    example = vocab.encode(task, target, condition, length=200)
    tokens, loss_mask = example.tokens, example.loss_mask
    target_modality = TASKS[task][1]
    n_target = len(target.encode()) if isinstance(target, str) else len(target)  # byte tokenizer: one id a byte
    n_visible = 200 - n_target - 1 - (tokens == vocab.pad_id).sum()  # minus target content and its closing
    assert (~loss_mask).sum() == n_visible
    assert loss_mask[n_visible:].all() and not loss_mask[:n_visible].any()
    modality = vocab.modality_of(tokens)
    assert (modality[:n_visible] != MODALITIES.index(target_modality))[-1]  # last visible is the opening
    assert (modality[loss_mask & (modality != 0)] == MODALITIES.index(target_modality)).all()


def test_prompt_masks_the_target_only(vocab):
    image = np.arange(64) % 16
    example = vocab.prompt("i2t", image, length=100)
    assert (example.tokens[example.loss_mask] == vocab.mask_id).all()
    assert not (example.tokens[~example.loss_mask] == vocab.mask_id).any()
    np.testing.assert_array_equal(vocab.decode(example.tokens)["condition"], image)


def test_split_is_lenient_with_generated_sequences(vocab):
    """A generated target may hold wrong-modality ids, leftover masks and no closing boundary."""
    s = vocab.special
    text_a = vocab.content_ids("text", "a")[0]
    tokens = torch.tensor([s["<task:draw>"], s["<bos>"], text_a, s["<eos>"], s["<img>"],
                           vocab.offset["image"] + 3, text_a, vocab.mask_id, vocab.offset["image"] + 5, vocab.pad_id,
                           vocab.offset["image"] + 7])
    parts = vocab.split(tokens)
    assert [m for m, _ in parts] == ["text", "image"]
    np.testing.assert_array_equal(vocab.decode(tokens)["target"], [3, 5])


def test_bad_input_is_named(vocab):
    with pytest.raises(ValueError, match="unknown task 'x2y'"):
        vocab.encode("x2y", "a")
    with pytest.raises(ValueError, match="does not fit length 10"):
        vocab.encode("text", "a long sentence that cannot fit", length=10)
    with pytest.raises(ValueError, match=r"image ids must lie in \[0, 16\)"):
        vocab.encode("t2i", [16] * 64, "seven")
    with pytest.raises(ValueError, match="takes a text condition"):
        vocab.encode("t2i", [0] * 64)
    with pytest.raises(ValueError, match="must start with a task token"):
        vocab.decode(torch.tensor([vocab.pad_id]))


def test_reuses_the_specials_of_atelier_text_tokenizer(codec):
    """With the BPE TextTokenizer, whose specials include all of SPECIALS, nothing is appended."""
    from atelier.data.tokenizer import TextTokenizer, train_bpe

    text = TextTokenizer(train_bpe(["the digit seven", "a handwritten 7", "forty two"] * 20, vocab_size=320))
    vocab = MultimodalVocab(text, codec)
    assert len(vocab) == text.vocab_size + 16 + codec.codebook_size
    assert vocab.mask_id == text.mask_id and vocab.pad_id == text.pad_id
    example = vocab.encode("t2i", np.arange(64) % 16, "the digit seven", length=80)
    back = vocab.decode(example.tokens)
    assert back["condition"] == "the digit seven"
    np.testing.assert_array_equal(back["target"], np.arange(64) % 16)
