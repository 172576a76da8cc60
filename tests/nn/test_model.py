"""The transformer: masks, RoPE, hidden states, features/unembed, counts."""

import pytest
import torch

from atelier.nn import Transformer, TransformerConfig, apply_rope, block_mask, rope_cache

V, T = 23, 12


def make(attention="causal", **kw):
    torch.manual_seed(0)
    cfg = TransformerConfig(vocab_size=V, width=32, depth=2, n_heads=4, attention=attention, max_len=T, **kw)
    return Transformer(cfg).eval()


def changed_positions(model, j, mask=None):
    """Positions whose logits move when the token at position j changes."""
    x = torch.randint(0, V, (1, T), generator=torch.Generator().manual_seed(1))
    y = x.clone()
    y[0, j] = (x[0, j] + 1) % V
    with torch.no_grad():
        diff = (model(x, mask=mask) - model(y, mask=mask)).abs().amax(-1)[0]  # [T]
    return set(torch.nonzero(diff > 1e-6).flatten().tolist())


def test_causal_mask_never_lets_a_future_token_change_an_earlier_logit():
    model = make("causal", qk_norm=True)
    for j in (0, 5, T - 1):
        assert changed_positions(model, j) == set(range(j, T))


def test_bidirectional_lets_every_token_change_every_logit():
    model = make("bidirectional")
    assert changed_positions(model, T - 1) == set(range(T))
    assert changed_positions(make("causal"), T - 1, mask="bidirectional") == set(range(T))


def test_block_mask_matches_brute_force_definition():
    for block in (1, 3, 5, T):
        expected = torch.zeros(T, T, dtype=torch.bool)
        for i in range(T):
            for j in range(T):
                expected[i, j] = j // block <= i // block  # key j's block is not after query i's
        assert torch.equal(block_mask(T, block), expected)
    assert torch.equal(block_mask(T, 1), torch.ones(T, T).tril().bool())


def test_block_mask_in_the_model_sees_its_own_block_and_earlier_ones():
    model, block = make("bidirectional"), 4
    mask = block_mask(T, block)
    # A token in block 1 (positions 4..7) changes logits from its block on, never in block 0.
    assert changed_positions(model, 6, mask) == set(range(4, T))
    # A causal Bool mask gives the same logits as the is_causal fast path.
    x = torch.randint(0, V, (2, T))
    with torch.no_grad():
        torch.testing.assert_close(model(x, mask=block_mask(T, 1)), model(x, mask="causal"))
        # A [B, 1, T, T] mask applies per example.
        per_example = torch.stack([block_mask(T, 1), torch.ones(T, T, dtype=torch.bool)])[:, None]
        out = model(x, mask=per_example)
        torch.testing.assert_close(out[0], model(x[:1], mask="causal")[0])
        torch.testing.assert_close(out[1], model(x[1:], mask="bidirectional")[0])


def test_rope_scores_depend_only_on_relative_position():
    d = 16
    cos, sin = rope_cache(d, 64)
    q, k = torch.randn(d), torch.randn(d)

    def score(m, n):  # q at position m, k at position n
        return apply_rope(q, cos[m], sin[m]) @ apply_rope(k, cos[n], sin[n])

    for m, n in [(3, 1), (10, 10), (0, 7)]:
        for shift in (1, 5, 40):
            torch.testing.assert_close(score(m, n), score(m + shift, n + shift))
    assert not torch.isclose(score(3, 1), score(1, 3))  # the relative offset does matter
    torch.testing.assert_close(apply_rope(q, cos[5], sin[5]).norm(), q.norm())  # a rotation


def test_hidden_states_come_from_the_same_forward_and_features_unembed_compose():
    model = make(tie_embeddings=True)
    x = torch.randint(0, V, (2, T))
    with torch.no_grad():
        logits, hidden = model(x, return_hidden=True)
        assert len(hidden) == model.cfg.depth + 1 and all(h.shape == (2, T, 32) for h in hidden)
        torch.testing.assert_close(hidden[0], model.tok_emb(x))
        torch.testing.assert_close(model.norm(hidden[-1]), model.features(x))
        torch.testing.assert_close(logits, model.unembed(model.features(x)))
        torch.testing.assert_close(logits[:, 3], model.unembed(model.features(x)[:, 3]))


def test_parameter_counts_follow_the_shapes():
    cfg = TransformerConfig(vocab_size=V, width=32, depth=3, n_heads=4, mlp_ratio=2.0)
    model = Transformer(cfg)
    per_block = 32 * 3 * 32 + 32 * 32 + 3 * 32 * 64 + 2 * 32  # qkv, proj, SwiGLU, two norms
    assert model.num_params() == 3 * per_block + 32  # + final norm
    assert model.num_params(non_embedding=False) == model.num_params() + 2 * V * 32
    tied = Transformer(TransformerConfig(vocab_size=V, width=32, depth=3, n_heads=4, mlp_ratio=2.0,
                                         tie_embeddings=True))
    assert tied.num_params(non_embedding=False) == model.num_params() + V * 32
    assert model.flops_per_token(10) == 6 * (model.num_params() + V * 32) + 12 * 3 * 4 * 8 * 10


def test_bad_inputs_name_the_valid_values():
    with pytest.raises(ValueError, match="bidirectional"):
        TransformerConfig(vocab_size=V, width=32, depth=1, n_heads=4, attention="sideways")
    with pytest.raises(ValueError, match="n_heads"):
        TransformerConfig(vocab_size=V, width=30, depth=1, n_heads=4)
    model = make()
    with pytest.raises(ValueError, match="causal"):
        model(torch.zeros(1, T, dtype=torch.long), mask="diagonal")
    with pytest.raises(ValueError, match="max_len"):
        model(torch.zeros(1, T + 1, dtype=torch.long))
    with pytest.raises(ValueError, match="shape"):
        model(torch.zeros(1, T, dtype=torch.long), mask=torch.ones(T, T - 1, dtype=torch.bool))


def test_position_embedding_adds_one_learned_vector_per_position_to_the_block_input():
    torch.manual_seed(0)
    cfg = TransformerConfig(vocab_size=13, width=16, depth=1, n_heads=2, max_len=10, attention="bidirectional",
                            pos_embedding=True)
    model = Transformer(cfg)
    tokens = torch.full((2, 6), 4)  # one token everywhere: only the position embedding tells positions apart
    _, hidden = model(tokens, return_hidden=True)
    expected = (model.tok_emb.weight[4] + model.pos_emb.weight[:6]) * model.embedding_scale  # [6, D]
    torch.testing.assert_close(hidden[0], expected.expand(2, 6, 16))
    assert model.parameter_roles()["pos_emb.weight"] == "embedding"
    plain = Transformer(TransformerConfig(vocab_size=13, width=16, depth=1, n_heads=2, max_len=10))
    assert model.num_params(non_embedding=True) == plain.num_params(non_embedding=True)
    assert model.num_params(non_embedding=False) == plain.num_params(non_embedding=False) + 10 * 16
