import numpy as np
import pytest
import torch

from atelier.data.media import (KINDS, MODALITIES, NUMBER_WORDS, TASKS, MixtureDataset, MultimodalDataModule,
                                MultimodalVocab, digits_pairs, speech_pairs)

TEXTS = [f"document number {i} says something about {w}" for i, w in enumerate(NUMBER_WORDS * 5)]


@pytest.fixture(scope="module")
def sources():
    images = digits_pairs().head(200)
    speech = speech_pairs(list(NUMBER_WORDS), voices=("en", "en+f2"), speeds=(160,))
    return TEXTS, images, speech


@pytest.fixture(scope="module")
def vocab(text_tokenizer, codec):
    return MultimodalVocab(text_tokenizer, codec)


def make(vocab, sources, **kwargs):
    kwargs = {"seq_len": 128, "batch_size": 16, "train_examples": 64, "val_examples": 32, "val_fraction": 0.2,
              **kwargs}
    dm = MultimodalDataModule(vocab, *sources, **kwargs)
    dm.setup("fit")
    return dm


def test_batches_have_the_diffusion_loss_keys(vocab, sources):
    batch = next(iter(make(vocab, sources).train_dataloader()))
    assert batch["tokens"].shape == batch["loss_mask"].shape == batch["modality"].shape == (16, 128)
    assert batch["tokens"].dtype == torch.long and batch["loss_mask"].dtype == torch.bool
    assert batch["task"].shape == (16,)
    torch.testing.assert_close(batch["modality"], vocab.modality_of(batch["tokens"]))
    assert batch["loss_mask"].any(1).all() and (~batch["loss_mask"]).any(1).all()  # every row: a target, a task token
    assert (batch["tokens"][:, -1] == vocab.pad_id).float().mean() > 0.5  # padded to a fixed length


def test_order_is_fixed_by_the_seed(vocab, sources):
    first = [b["tokens"] for b in make(vocab, sources, seed=3).train_dataloader()]
    again = [b["tokens"] for b in make(vocab, sources, seed=3).train_dataloader()]
    other = [b["tokens"] for b in make(vocab, sources, seed=4).train_dataloader()]
    assert all(torch.equal(a, b) for a, b in zip(first, again))
    assert not all(torch.equal(a, b) for a, b in zip(first, other))


def test_mixture_follows_the_weights(vocab, sources):
    """Kind frequencies over 600 draws match the weights within 4 binomial standard deviations."""
    weights = {"text": 0.2, "image": 0.5, "audio": 0.3}
    ds = make(vocab, sources, weights=weights, train_examples=600).datasets["train"]
    tasks = np.array([int(ds[i]["task"]) for i in range(len(ds))])
    task_names = np.array(list(TASKS))[tasks]
    for kind, w in weights.items():
        share = np.isin(task_names, KINDS[kind]).mean()
        assert abs(share - w) < 4 * np.sqrt(w * (1 - w) / 600), (kind, share)
    assert set(task_names) == set(TASKS)  # both directions of each pair kind occur


def test_zero_weight_leaves_a_kind_out(vocab, sources):
    ds = make(vocab, sources, weights={"text": 0.0, "image": 1.0, "audio": 0.0}).datasets["train"]
    assert {list(TASKS)[int(ds[i]["task"])] for i in range(len(ds))} <= {"t2i", "i2t"}


def test_long_texts_are_cropped_to_fit(vocab):
    ds = MixtureDataset(vocab, {"text": ["word " * 500]}, {"text": 1.0}, seq_len=128, length=1, seed=0, split="train")
    item = ds[0]
    assert item["tokens"].shape == (128,)
    assert (item["modality"] == MODALITIES.index("text")).sum() == 128 - 3  # task, <bos>, <eos>


def test_splits_hold_out_distinct_items(vocab, sources):
    """About val_fraction of the 200 images are held out, and no image is in both splits."""
    dm = make(vocab, sources, weights={"image": 1.0})
    pools = {split: {tuple(codes) for _, codes in ds.pools["image"]} for split, ds in dm.datasets.items()}
    assert not pools["train"] & pools["val"]
    assert abs(len(dm.datasets["val"].pools["image"]) / 200 - 0.2) < 4 * np.sqrt(0.2 * 0.8 / 200)


def test_bad_weights_are_named(vocab, sources):
    with pytest.raises(ValueError, match="video"):
        MultimodalDataModule(vocab, *sources, weights={"video": 1.0})
    with pytest.raises(ValueError, match="no \\['val'\\] items"):
        make(vocab, sources, val_fraction=0.0)
    with pytest.raises(ValueError, match="image-text pair needs 9[0-9] tokens > seq_len 64"):
        make(vocab, sources, seq_len=64)


def test_masked_diffusion_loss_consumes_a_batch(vocab, sources):
    from atelier.diffusion import Linear, MaskedDiffusionLoss
    from atelier.nn import Transformer, TransformerConfig

    torch.manual_seed(0)
    model = Transformer(TransformerConfig(len(vocab), 32, 1, 2, max_len=128, attention="bidirectional"))
    batch = next(iter(make(vocab, sources).train_dataloader()))
    loss, _ = MaskedDiffusionLoss(Linear(), mask_id=vocab.mask_id)(model, batch)
    assert torch.isfinite(loss)
    loss.backward()


def test_visible_pads_come_with_an_attention_mask(vocab, sources):
    from atelier.diffusion import Linear, MaskedDiffusionLoss
    from atelier.nn import Transformer, TransformerConfig

    batch = next(iter(make(vocab, sources, noisable_pads=False).train_dataloader()))
    pads = batch["tokens"] == vocab.pad_id
    assert pads.any() and not (batch["loss_mask"] & pads).any()
    torch.testing.assert_close(batch["attention_mask"], ~pads)
    model = Transformer(TransformerConfig(len(vocab), 32, 1, 2, max_len=128, attention="bidirectional"))
    assert torch.isfinite(MaskedDiffusionLoss(Linear(), mask_id=vocab.mask_id)(model, batch)[0])
