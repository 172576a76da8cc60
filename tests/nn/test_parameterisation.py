"""SP / muP / CompleteP: init scales, residual multipliers, optimizer groups, coordinate check."""

import math

import polars as pl
import pytest
import torch
import torch.nn.functional as F

from atelier.nn import Parameterisation, Transformer, TransformerConfig, coord_check, param_groups

V, T = 64, 16
BATCH = {"tokens": torch.randint(0, V, (4, T), generator=torch.Generator().manual_seed(0))}


def next_token_ce(model, batch):
    logits = model(batch["tokens"][:, :-1])
    return F.cross_entropy(logits.flatten(0, 1), batch["tokens"][:, 1:].flatten())


def config(width, depth, **kw):
    return TransformerConfig(vocab_size=V, width=width, depth=depth, n_heads=width // 16, max_len=T, **kw)


def hidden_rms_ratio(kind, widths, steps, lr=0.0, multipliers=None):
    """Largest / smallest RMS across widths of the hidden layers (branches and residual
    stream), worst layer, at the last of `steps` steps."""
    p = Parameterisation(kind, base_width=widths[0], base_depth=2, multipliers=multipliers or {})
    df = coord_check(lambda w, d: Transformer(config(w, d), p), next_token_ce, BATCH,
                     widths=widths, depths=[2], steps=steps, lr=lr)
    hidden = df.filter(df["layer"].str.starts_with("block") & (df["step"] == steps - 1))
    per_layer = hidden.group_by("layer").agg(ratio=pl.col("rms").max() / pl.col("rms").min())
    return per_layer["ratio"].max()


@pytest.mark.parametrize("kind", ["mup", "completep"])
def test_hidden_activation_rms_at_init_is_width_independent(kind):
    assert hidden_rms_ratio(kind, [32, 128, 512], steps=1) <= 2.0


def test_sp_hidden_activation_rms_grows_with_width():
    # With a fixed init std the branch outputs grow like sqrt(width): 4x over a 16x range.
    assert hidden_rms_ratio("sp", [32, 128, 512], steps=1) > 2.0


def test_mup_coordinates_stay_flat_after_adam_steps_while_sp_drifts():
    # Embeddings at std 1 (not 0.02) keep the block inputs correlated across the first large
    # updates, so the base width of 32 is already close to the width limit.
    embedding_std_1 = {"embedding": {"init": 50.0}}
    assert hidden_rms_ratio("mup", [32, 256], steps=4, lr=1e-2, multipliers=embedding_std_1) <= 2.0
    assert hidden_rms_ratio("sp", [32, 256], steps=4, lr=1e-2, multipliers=embedding_std_1) > 2.0


def test_hidden_init_std_scales_as_one_over_sqrt_width_multiplier():
    model = Transformer(config(256, 2), Parameterisation("mup", base_width=64, init_std=0.02,
                                                         multipliers={"mlp": {"init": 0.5}}))
    assert model.blocks[0].attn.qkv.weight.std().item() == pytest.approx(0.02 / 2, rel=0.03)
    assert model.blocks[0].mlp.up.weight.std().item() == pytest.approx(0.02 / 2 * 0.5, rel=0.03)
    assert model.tok_emb.weight.std().item() == pytest.approx(0.02, rel=0.03)
    assert torch.all(model.blocks[1].norm1.weight == 1)


@pytest.mark.parametrize("alpha", [0.5, 1.0])
def test_completep_residual_branch_multiplier_is_depth_mult_to_minus_alpha(alpha):
    cfg = config(32, 8)  # base depth 2: m_d = 4
    completep = Transformer(cfg, Parameterisation("completep", base_width=32, base_depth=2, alpha=alpha))
    mup = Transformer(cfg, Parameterisation("mup", base_width=32, base_depth=2))
    with torch.no_grad():
        completep.blocks[0].mlp.down.weight.zero_()  # block 0's update is then its attention branch
        mup.load_state_dict(completep.state_dict())
        x = BATCH["tokens"]
        _, h_cp = completep(x, return_hidden=True)
        _, h_mup = mup(x, return_hidden=True)
    torch.testing.assert_close(h_cp[1] - h_cp[0], 4.0 ** -alpha * (h_mup[1] - h_mup[0]))


def test_output_multiplier_is_one_over_width_mult():
    cfg = config(128, 2)
    wide = Transformer(cfg, Parameterisation("mup", base_width=32))  # m_w = 4
    base = Transformer(cfg, Parameterisation("mup", base_width=128))  # m_w = 1
    base.load_state_dict(wide.state_dict())
    with torch.no_grad():
        torch.testing.assert_close(wide(BATCH["tokens"]), base(BATCH["tokens"]) / 4)


def groups_by_role(model, **kw):
    return {g["role"]: g for g in param_groups(model, **kw)}


def test_completep_groups_carry_the_formula_values():
    # m_w = 256 / 64 = 4, m_d = 8 / 2 = 4, alpha = 0.5: by hand,
    # hidden: lr * 1/4 * 4^-0.5 = lr/8, eps * 1/4 * 4^-0.5 = eps/8, wd * 4;
    # norms: lr * 4^-0.5 = lr/2, eps/8, wd 0; final norm: lr, eps/4; embeddings: lr, eps/4, wd.
    model = Transformer(config(256, 8, qk_norm=True),
                        Parameterisation("completep", base_width=64, base_depth=2, alpha=0.5))
    g = groups_by_role(model, lr=1.6e-2, weight_decay=0.1, eps=1.6e-7, betas=(0.9, 0.95))
    for role in ("attention", "mlp"):
        assert (g[role]["lr"], g[role]["eps"], g[role]["weight_decay"]) == pytest.approx((2e-3, 2e-8, 0.4))
    assert (g["norm"]["lr"], g["norm"]["eps"], g["norm"]["weight_decay"]) == pytest.approx((8e-3, 2e-8, 0.0))
    assert (g["final_norm"]["lr"], g["final_norm"]["eps"], g["final_norm"]["weight_decay"]) == pytest.approx(
        (1.6e-2, 4e-8, 0.0))
    for role in ("embedding", "unembedding"):
        assert (g[role]["lr"], g[role]["eps"], g[role]["weight_decay"]) == pytest.approx((1.6e-2, 4e-8, 0.1))
    assert g["final_norm"]["name"] == "norm" and g["mlp"]["name"] == "mlp"
    # QK-norm gains are norms: 8 blocks x (2 block norms + q_norm + k_norm).
    assert len(g["norm"]["params"]) == 8 * 4
    # Every parameter sits in exactly one group.
    grouped = [p for group in g.values() for p in group["params"]]
    assert len(grouped) == len({id(p) for p in grouped}) == len(list(model.parameters()))


def test_mup_ignores_depth_and_sp_ignores_both():
    cfg = config(256, 8)
    mup = groups_by_role(Transformer(cfg, Parameterisation("mup", base_width=64, base_depth=2)),
                         lr=1.0, weight_decay=1.0, eps=1.0)
    assert (mup["mlp"]["lr"], mup["mlp"]["eps"], mup["mlp"]["weight_decay"]) == pytest.approx((0.25, 0.25, 4.0))
    assert mup["norm"]["lr"] == pytest.approx(1.0)
    sp = groups_by_role(Transformer(cfg, Parameterisation("sp", base_width=64, base_depth=2)),
                        lr=1.0, weight_decay=1.0, eps=1.0)
    for role, group in sp.items():
        assert (group["lr"], group["eps"]) == (1.0, 1.0)
        assert group["weight_decay"] == (0.0 if "norm" in role else 1.0)


def test_per_module_multipliers_and_lr_times_wd_constant_in_width():
    p = Parameterisation("completep", base_width=64, base_depth=2, alpha=1.0,
                         multipliers={"mlp": {"lr": 2.0, "wd": 3.0}, "embedding": {"eps": 0.5},
                                      "norm": {"lr": 0.1}})
    g = groups_by_role(Transformer(config(128, 2, tie_embeddings=True), p), lr=1.0, weight_decay=1.0, eps=1.0)
    assert "unembedding" not in g  # tied: the shared matrix follows the embedding rules
    assert (g["mlp"]["lr"], g["mlp"]["weight_decay"]) == pytest.approx((2 / 2, 3 * 2))
    assert (g["attention"]["lr"], g["attention"]["weight_decay"]) == pytest.approx((1 / 2, 2))
    assert g["embedding"]["eps"] == pytest.approx(0.5 / 2)
    assert g["norm"]["lr"] == g["final_norm"]["lr"] == pytest.approx(0.1)
    for width in (64, 256, 1024):
        hidden = groups_by_role(Transformer(config(width, 1), Parameterisation("mup", base_width=64)),
                                lr=1e-3, weight_decay=0.1)["attention"]
        assert hidden["lr"] * hidden["weight_decay"] == pytest.approx(1e-4)


def test_attention_scale_and_optimizer_accepts_the_groups():
    cfg = config(64, 2)
    assert Transformer(cfg).blocks[0].attn.scale == pytest.approx(1 / math.sqrt(16))
    mup = Transformer(cfg, Parameterisation("mup", multipliers={"attention": {"mult": 2.0}}))
    assert mup.blocks[0].attn.scale == pytest.approx(2 / 16)
    optimizer = torch.optim.AdamW(param_groups(mup, lr=1e-3, weight_decay=0.1))
    next_token_ce(mup, BATCH).backward()
    optimizer.step()


def test_bad_parameterisations_name_the_valid_values():
    with pytest.raises(ValueError, match="completep"):
        Parameterisation("ntk")
    with pytest.raises(ValueError, match="unembedding"):
        Parameterisation("mup", multipliers={"head": {"lr": 2.0}})
    with pytest.raises(ValueError, match="'lr', 'eps'"):
        Parameterisation("mup", multipliers={"norm": {"wd": 2.0}})
    with pytest.raises(ValueError, match="alpha"):
        Parameterisation("completep", alpha=2.0)
