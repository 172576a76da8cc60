"""Samplers: termination, NFE counts, unmasking rules against brute-force references, semi-AR order."""

import math

import pytest
import torch

from atelier.diffusion import Cosine, sample
from atelier.diffusion.samplers import ancestral_rule, factor_rule, most_confident
from atelier.nn import Transformer, TransformerConfig

V, T, MASK = 10, 16, 9


@pytest.fixture(scope="module")
def model():
    torch.manual_seed(0)
    cfg = TransformerConfig(vocab_size=V, width=32, depth=1, n_heads=2, max_len=T, attention="bidirectional")
    return Transformer(cfg).eval()


def prompts():
    """Row 0: 12 masks at 3..14; row 1: 5 masks at 5..9; other positions given."""
    x = torch.randint(0, MASK, (2, T), generator=torch.Generator().manual_seed(0))
    x[0, 3:15] = MASK
    x[1, 5:10] = MASK
    return x


@pytest.mark.parametrize("method,kw", [
    ("ancestral", {"steps": 5}), ("topk", {"k": 3}), ("topk", {"steps": 4}), ("random", {"k": 2}),
    ("threshold", {"tau": 0.5}), ("factor", {"factor": 1.0}),
])
@pytest.mark.parametrize("block", [None, 4])
def test_every_sampler_fills_every_mask_and_keeps_the_prompt(model, method, kw, block):
    x = prompts()
    out, nfe = sample(model, x, mask_id=MASK, method=method, block=block, **kw)
    assert not (out == MASK).any()
    given = x != MASK
    assert torch.equal(out[given], x[given])
    assert (nfe >= 1).all()


def test_topk_nfe_is_ceil_of_masks_over_k_per_example_and_per_block(model):
    out, nfe = sample(model, prompts(), mask_id=MASK, method="topk", k=3)
    assert nfe.tolist() == [math.ceil(12 / 3), math.ceil(5 / 3)]
    # Blocks of 4 from each example's first mask: row 0 has 4 + 4 + 4, row 1 has 4 + 1.
    _, nfe = sample(model, prompts(), mask_id=MASK, method="topk", k=3, block=4)
    assert nfe.tolist() == [3 * math.ceil(4 / 3), math.ceil(4 / 3) + 1]
    _, nfe = sample(model, prompts(), mask_id=MASK, method="topk", steps=8)
    assert nfe.tolist() == [8, 5]  # fixed steps, or one token per step when fewer masks
    _, nfe = sample(model, prompts(), mask_id=MASK, method="random", k=5)
    assert nfe.tolist() == [3, 1]


def test_threshold_one_unmasks_one_token_per_step_and_zero_all_at_once(model):
    _, nfe = sample(model, prompts(), mask_id=MASK, method="threshold", tau=1.0)
    assert nfe.tolist() == [12, 5]
    _, nfe = sample(model, prompts(), mask_id=MASK, method="threshold", tau=0.0)
    assert nfe.tolist() == [1, 1]


def test_topk_unmasks_the_most_confident_positions_first(model):
    x = prompts()[:1]
    with torch.no_grad():
        probs = torch.softmax(model(x)[0, :, :MASK], -1)  # the mask id is never proposed
    confidence = probs.max(-1).values.masked_fill(x[0] != MASK, -1)
    seen = []

    def recorder(tokens):
        seen.append(tokens.clone())
        return model(tokens)

    sample(recorder, x, mask_id=MASK, method="topk", k=3)
    first = (seen[1][0] != MASK) & (x[0] == MASK)  # filled by the first step
    assert set(first.nonzero().flatten().tolist()) == set(confidence.topk(3).indices.tolist())


def fast_dllm_count(conf, factor):
    """Brute force: the largest n with (n + 1) (1 - c_(n)) < factor, c sorted descending; >= 1."""
    c = sorted(conf, reverse=True)
    best = 1
    for n in range(1, len(c) + 1):
        if (n + 1) * (1 - c[n - 1]) < factor:
            best = max(best, n)
    return best


@pytest.mark.parametrize("factor", [0.3, 1.0, 2.0, 4.0])
def test_factor_rule_matches_the_brute_force_definition(factor):
    g = torch.Generator().manual_seed(1)
    confidence = torch.rand(64, 12, generator=g) ** 0.2  # mostly confident, some not
    active = torch.rand(64, 12, generator=g) < 0.6
    active[:, 0] = True
    confidence = confidence.masked_fill(~active, -math.inf)
    chosen = factor_rule(factor)(confidence, active, torch.ones(64, dtype=torch.long), None)
    for r in range(64):
        cand = confidence[r][active[r]].tolist()
        n = fast_dllm_count(cand, factor)
        assert chosen[r].sum().item() == n
        kth = sorted(cand, reverse=True)[n - 1]
        assert (confidence[r][chosen[r]] >= kth).all()  # the n most confident


def test_most_confident_picks_the_top_count_per_row():
    confidence = torch.tensor([[0.1, 0.9, -math.inf, 0.5], [0.3, -math.inf, 0.2, 0.8]])
    chosen = most_confident(confidence, torch.tensor([2, 5]))
    assert chosen.tolist() == [[False, True, False, True], [True, False, True, True]]


def test_ancestral_unmasks_with_the_mdlm_probability():
    steps, n = 4, 200_000
    active = torch.ones(1, n, dtype=torch.bool)
    rule = ancestral_rule(steps, Cosine())
    g = torch.Generator().manual_seed(0)
    # t = 1 -> s = 3/4: (alpha_s - alpha_t) / (1 - alpha_t) = alpha(3/4) = 1 - cos(pi/8).
    chosen = rule(torch.zeros(1, n), active, torch.tensor([4]), g)
    expected = 1 - math.cos(math.pi / 8)
    assert chosen.float().mean().item() == pytest.approx(expected, abs=4 * math.sqrt(expected / n))
    # t = 1/2 -> s = 1/4: (cos(pi/4) - cos(3 pi/8)) / cos(pi/4).
    chosen = rule(torch.zeros(1, n), active, torch.tensor([2]), g)
    expected = (math.cos(math.pi / 4) - math.cos(3 * math.pi / 8)) / math.cos(math.pi / 4)
    assert chosen.float().mean().item() == pytest.approx(expected, abs=4 * math.sqrt(expected / n))
    assert rule(torch.zeros(1, n), active, torch.tensor([1]), g).all()  # the last step unmasks all


def test_semi_autoregressive_fills_blocks_in_order(model):
    x = prompts()[:1]  # 12 masks at 3..14: blocks 3..6, 7..10, 11..14
    snapshots = []

    def recorder(tokens):
        snapshots.append(tokens[0].clone())
        return model(tokens)

    out, nfe = sample(recorder, x, mask_id=MASK, method="threshold", tau=0.3, block=4)
    snapshots.append(out[0])
    todo = x[0] == MASK
    block = (torch.arange(T) - 3).div(4, rounding_mode="floor")
    for state in snapshots:
        for b in (1, 2):
            if (todo & (block == b) & (state != MASK)).any():  # block b has started ...
                assert not (state[todo & (block < b)] == MASK).any()  # ... so the earlier ones are full
    started = [int(block[todo & (state != MASK)].max()) for state in snapshots[1:]]
    assert started == sorted(started) and started[-1] == 2 and nfe.item() >= 3


def test_custom_rule_temperature_and_the_mask_token(model):
    def leftmost(confidence, active, steps_left, generator):
        return most_confident(active.float().cumsum(1).neg().masked_fill(~active, -math.inf),
                              torch.ones_like(steps_left))

    _, nfe = sample(model, prompts(), mask_id=MASK, method=leftmost)
    assert nfe.tolist() == [12, 5]
    draws = [sample(model, prompts(), mask_id=MASK, method="topk", k=2, temperature=1.0,
                    generator=torch.Generator().manual_seed(s))[0] for s in (0, 0, 1)]
    assert torch.equal(draws[0], draws[1]) and not torch.equal(draws[0], draws[2])

    def loves_the_mask(tokens):
        return torch.nn.functional.one_hot(tokens.new_full(tokens.shape, MASK), V).float() * 100

    out, _ = sample(loves_the_mask, prompts(), mask_id=MASK, method="topk", k=4)
    assert not (out == MASK).any()


def test_bad_settings_name_the_valid_values(model):
    with pytest.raises(ValueError, match="ancestral"):
        sample(model, prompts(), mask_id=MASK, method="greedy")
    with pytest.raises(ValueError, match="exactly one of k"):
        sample(model, prompts(), mask_id=MASK, method="topk")
    with pytest.raises(ValueError, match="needs steps"):
        sample(model, prompts(), mask_id=MASK, method="ancestral")
    with pytest.raises(ValueError, match="tau"):
        sample(model, prompts(), mask_id=MASK, method="threshold", tau=1.5)
