"""Training the atelier Transformer: memorisation under both objectives, its optimizer groups, its FLOPs."""

import pytest
import torch
from torch.utils.data import DataLoader

from atelier.diffusion import Linear, MaskedDiffusionLoss
from atelier.nn import Parameterisation, Transformer, TransformerConfig
from atelier.train import (
    LanguageModel, NextTokenLoss, TrainConfig, counted_flops_per_token, evaluate, fit, flops_per_token,
)

V, T = 12, 8


def transformer(attention="causal", depth=1):
    torch.manual_seed(0)
    return Transformer(TransformerConfig(vocab_size=V, width=32, depth=depth, n_heads=2, max_len=T,
                                         attention=attention))


def test_transformer_memorises_a_batch_next_token(tmp_path):
    tokens = torch.randint(0, V, (4, T), generator=torch.Generator().manual_seed(3))
    tokens[:, 0] = torch.arange(4)  # distinct first tokens: every prefix has one continuation
    data = DataLoader([{"tokens": t} for t in tokens], batch_size=4)
    config = TrainConfig(steps=150, lr=1e-2, warmup_steps=10, schedule="constant", log_every=50)
    model = fit(config, transformer(), NextTokenLoss(), data, run_dir=tmp_path, peak_flops=1e9).model
    final = evaluate(model, NextTokenLoss(), data)
    assert final["loss"] < 0.05 and final["accuracy"] == 1.0


def test_transformer_memorises_a_sequence_masked_diffusion(tmp_path):
    """One sequence, so every masked position has one right answer and the NELBO can reach ~0.

    Its first token is an anchor that is never masked (loss_mask False): with rotary positions
    and every other input masked, the anchor is what tells positions apart.
    """
    sequence = torch.randint(0, V - 2, (T,), generator=torch.Generator().manual_seed(4))  # V-1 is the mask
    sequence[0] = V - 2
    visible_anchor = torch.arange(T) > 0
    data = DataLoader([{"tokens": sequence, "loss_mask": visible_anchor}] * 8, batch_size=8)
    objective = MaskedDiffusionLoss(Linear(), mask_id=V - 1)
    config = TrainConfig(steps=250, lr=3e-3, warmup_steps=10, schedule="constant", log_every=50)
    model = fit(config, transformer("bidirectional", depth=2), objective, data, run_dir=tmp_path, peak_flops=1e9).model
    torch.manual_seed(1)
    before = evaluate(transformer("bidirectional", depth=2), objective, [next(iter(data))] * 10)["loss"]
    after = evaluate(model, objective, [next(iter(data))] * 10)["loss"]
    assert before > 1.0
    assert after < 0.05


def test_optimizer_groups_follow_mup(tmp_path):
    """muP at 4x the base width: hidden matrices get lr / 4 and eps / 4, embeddings keep lr."""
    model = Transformer(TransformerConfig(vocab_size=V, width=64, depth=2, n_heads=2, max_len=T),
                        Parameterisation(kind="mup", base_width=16))
    config = TrainConfig(steps=10, lr=1e-2, eps=1e-8, warmup_steps=2)
    optimizer = LanguageModel(model, NextTokenLoss(), config).configure_optimizers()["optimizer"]
    group_of = {id(p): g for g in optimizer.param_groups for p in g["params"]}
    params = dict(model.named_parameters())
    hidden = group_of[id(params["blocks.0.attn.qkv.weight"])]
    mlp = group_of[id(params["blocks.1.mlp.down.weight"])]
    embedding = group_of[id(params["tok_emb.weight"])]
    factor = 1 / 2  # first warmup step of 2
    assert hidden["lr"] == pytest.approx(1e-2 / 4 * factor) and mlp["lr"] == pytest.approx(1e-2 / 4 * factor)
    assert hidden["eps"] == pytest.approx(1e-8 / 4)
    assert embedding["lr"] == pytest.approx(1e-2 * factor)


def test_transformer_flops_formula_agrees_with_counted_flops():
    """6N + 12 L H d_head T from the model vs 3 x counted forward FLOPs: they differ by the
    norm gains only (counted as parameters, but no matmul)."""
    model = Transformer(TransformerConfig(vocab_size=V, width=32, depth=2, n_heads=4, max_len=16))
    tokens = torch.randint(0, V, (2, 16))
    norm_gains = sum(p.numel() for n, p in model.named_parameters() if "norm" in n)
    assert flops_per_token(model, tokens) == model.flops_per_token(16)
    assert counted_flops_per_token(model, tokens) == model.flops_per_token(16) - 6 * norm_gains
