"""Schedules against finite differences; the NELBO estimator against its analytic value."""

import math

import pytest
import torch
from torch import nn

from atelier.diffusion import Cosine, Linear, MaskedDiffusionLoss, Polynomial, get_schedule, sample
from atelier.nn import Transformer, TransformerConfig

SCHEDULES = [Linear(), Cosine(), Polynomial(2.0), Polynomial(0.5)]


@pytest.mark.parametrize("schedule", SCHEDULES, ids=repr)
def test_weight_is_minus_alpha_prime_over_one_minus_alpha_by_finite_differences(schedule):
    t = torch.linspace(0.05, 0.95, 19, dtype=torch.float64)
    h = 1e-6
    alpha_prime = (schedule.alpha(t + h) - schedule.alpha(t - h)) / (2 * h)
    torch.testing.assert_close(schedule.dalpha(t), alpha_prime, rtol=1e-6, atol=1e-8)
    torch.testing.assert_close(schedule.weight(t), -alpha_prime / (1 - schedule.alpha(t)), rtol=1e-6, atol=1e-8)
    ends = schedule.alpha(torch.tensor([0.0, 1.0], dtype=torch.float64))
    torch.testing.assert_close(ends, torch.tensor([1.0, 0.0], dtype=torch.float64), atol=1e-12, rtol=0)


def test_closed_forms_match_the_stated_formulas():
    t = torch.tensor([0.2, 0.7], dtype=torch.float64)
    torch.testing.assert_close(Linear().weight(t), 1 / t)
    torch.testing.assert_close(Cosine().weight(t), math.pi / 2 * torch.tan(math.pi / 2 * (1 - t)))
    torch.testing.assert_close(Polynomial(3.0).alpha(t), 1 - t**3)


def test_get_schedule_by_name_with_a_clear_error():
    assert get_schedule("polynomial", p=3.0) == Polynomial(3.0)
    assert isinstance(get_schedule("cosine"), Cosine)
    with pytest.raises(ValueError, match="linear"):
        get_schedule("sigmoid")


class FixedCategorical(nn.Module):
    """Predicts the same distribution at every position, whatever the context."""

    def __init__(self, logits):
        super().__init__()
        self.logits = logits

    def features(self, tokens, mask=None):
        return torch.zeros(*tokens.shape, 1)

    def unembed(self, h):
        return self.logits.expand(*h.shape[:-1], -1)


@pytest.mark.parametrize("schedule", SCHEDULES, ids=repr)
@pytest.mark.parametrize("low_discrepancy", [True, False])
def test_monte_carlo_nelbo_of_a_context_free_model_converges_to_the_analytic_value(schedule, low_discrepancy):
    # For a context-free model E[w(t) * #masked-CE] = sum_i CE_i * E_t[-alpha'(t)] over t ~ U(eps, 1),
    # i.e. sum_i CE_i * (alpha(eps) - alpha(1)) / (1 - eps): the cross-entropy summed over the
    # noisable positions (exactly, as eps -> 0).
    V, T, B, eps = 7, 8, 8192, 1e-3
    g = torch.Generator().manual_seed(0)
    logits = torch.randn(V, generator=g)
    tokens = torch.randint(0, V - 1, (B, T), generator=g)  # id V - 1 is the mask
    tokens[:, 0] = 2
    loss_mask = torch.ones(B, T, dtype=torch.bool)
    loss_mask[:, :2] = False  # a two-token prompt that is never noised
    ce = -torch.log_softmax(logits.double(), -1)[tokens]  # [B, T]
    eps_t = torch.tensor(eps, dtype=torch.float64)
    analytic = (ce * loss_mask).sum(1) * (schedule.alpha(eps_t) - schedule.alpha(torch.tensor(1.0)).double()) / (1 - eps)
    objective = MaskedDiffusionLoss(schedule, mask_id=V - 1, eps=eps, low_discrepancy=low_discrepancy)
    estimate = objective.per_example(FixedCategorical(logits), {"tokens": tokens, "loss_mask": loss_mask},
                                     generator=g).double()
    error = (estimate - analytic).mean()
    standard_error = (estimate - analytic).std() / math.sqrt(B)
    assert abs(error) < 4 * standard_error
    assert standard_error < 0.03 * analytic.mean()  # the check is tight enough to mean something
    # The training loss is the same estimate per noisable token.
    torch.manual_seed(0)
    loss, _ = objective(FixedCategorical(logits), {"tokens": tokens, "loss_mask": loss_mask})
    per_token = analytic.sum() / loss_mask.sum()
    assert abs(loss.item() - per_token.item()) < 4 * standard_error / (T - 2)


def test_logits_are_computed_only_at_the_masked_positions():
    V, mask_id = 11, 10
    seen = {}

    class Spy(FixedCategorical):
        def features(self, tokens, mask=None):
            seen["z"] = tokens.clone()
            return super().features(tokens, mask)

        def unembed(self, h):
            seen["rows"] = h.shape[0]
            return super().unembed(h)

    tokens = torch.randint(0, mask_id, (16, 12))
    loss_mask = torch.rand(16, 12) < 0.7
    loss, metrics = MaskedDiffusionLoss(Cosine(), mask_id)(Spy(torch.zeros(V)), {"tokens": tokens, "loss_mask": loss_mask})
    z = seen["z"]
    masked = z == mask_id
    assert seen["rows"] == int(masked.sum()) > 0
    assert not (masked & ~loss_mask).any()  # only noisable positions are masked
    assert torch.equal(z[~masked], tokens[~masked])
    assert metrics["mask_rate"] == pytest.approx(masked.sum().item() / loss_mask.sum().item())
    assert metrics["masked_ce"] == pytest.approx(math.log(V))  # uniform prediction


def test_a_tiny_transformer_overfits_one_sequence_under_the_diffusion_loss():
    torch.manual_seed(0)
    V, T, mask_id, bos = 12, 9, 11, 0
    cfg = TransformerConfig(vocab_size=V, width=32, depth=2, n_heads=4, max_len=T, attention="bidirectional")
    model = Transformer(cfg)
    # RoPE only sees relative positions: a never-masked BOS anchors them when all else is masked.
    sequence = torch.tensor([bos, 3, 1, 4, 1, 5, 9, 2, 6])
    loss_mask = torch.arange(T) > 0
    batch = {"tokens": sequence.repeat(64, 1), "loss_mask": loss_mask.repeat(64, 1)}
    objective = MaskedDiffusionLoss(Linear(), mask_id)
    optimizer = torch.optim.AdamW(model.parameters(), lr=1e-2)
    for _ in range(100):
        loss, _ = objective(model, batch)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    with torch.no_grad():
        final = torch.stack([objective(model, batch)[0] for _ in range(8)]).mean()
    assert final < 0.05  # nats per token, from log(12) = 2.5 at the start
    prompt = sequence.masked_fill(loss_mask, mask_id)[None]  # only the BOS is given
    for method in ("ancestral", "topk"):
        tokens, nfe = sample(model, prompt, mask_id=mask_id, method=method, steps=4)
        assert torch.equal(tokens[0], sequence) and nfe.item() <= 4  # ancestral may finish early


def test_key_padding_attention_mask_reaches_the_model():
    seen = {}

    class Spy(FixedCategorical):
        def features(self, tokens, mask=None):
            seen["mask"] = mask
            return super().features(tokens, mask)

    tokens = torch.randint(0, 5, (3, 6))
    padding = torch.ones(3, 6, dtype=torch.bool)
    padding[:, 4:] = False
    MaskedDiffusionLoss("linear", 5)(Spy(torch.zeros(6)), {"tokens": tokens, "attention_mask": padding})
    assert seen["mask"].shape == (3, 1, 1, 6) and torch.equal(seen["mask"][:, 0, 0], padding)


def test_per_token_terms_are_the_weighted_cross_entropy_at_masked_positions_and_sum_to_per_example():
    # Context-free model: CE at a masked position is logsumexp(logits) - logits[x_i] in closed form;
    # within a sequence every term shares the weight w(t) of that sequence's t.
    V, mask_id = 9, 8
    logits = torch.linspace(-1.0, 1.0, V)
    seen = {}

    class Spy(FixedCategorical):
        def features(self, tokens, mask=None):
            seen["z"] = tokens.clone()
            return super().features(tokens, mask)

    tokens = torch.randint(0, mask_id, (32, 10))
    batch = {"tokens": tokens}
    objective = MaskedDiffusionLoss(Linear(), mask_id)
    terms = objective.per_token(Spy(logits), batch, generator=torch.Generator().manual_seed(3))
    masked = seen["z"] == mask_id
    assert torch.equal(terms != 0, masked)
    ce = torch.logsumexp(logits, 0) - logits[tokens]  # [B, T]
    ratio = torch.where(masked, terms / ce, torch.nan)  # w(t_b) at the masked positions
    rows = masked.any(1)
    spread = ratio.nan_to_num(0).amax(1) - torch.where(masked, ratio, torch.inf).amin(1)
    assert (spread[rows].abs() < 1e-4 * ratio.nan_to_num(0).amax(1)[rows]).all()
    assert (ratio[masked] >= 1.0).all()  # linear: w(t) = 1/t >= 1
    again = objective.per_example(Spy(logits), batch, generator=torch.Generator().manual_seed(3))
    torch.testing.assert_close(terms.sum(1), again)


@pytest.mark.parametrize("schedule", [Linear(), Cosine()])
def test_fused_loss_matches_the_unfused_loss_and_gradients(schedule):
    # Same noise (same RNG state), two paths: logits at the masked rows then F.cross_entropy, and
    # the chunked linear + cross-entropy kernel; the NELBO and every gradient must agree.
    V, T, mask_id = 17, 12, 16
    cfg = TransformerConfig(vocab_size=V, width=32, depth=2, n_heads=4, max_len=T, attention="bidirectional")
    torch.manual_seed(0)
    model = Transformer(cfg)
    batch = {"tokens": torch.randint(0, mask_id, (6, T)), "loss_mask": torch.rand(6, T) < 0.8}
    results = []
    for fused in (False, True):
        model.zero_grad()
        torch.manual_seed(1)
        loss, metrics = MaskedDiffusionLoss(schedule, mask_id, fused=fused)(model, batch)
        loss.backward()
        results.append((loss.detach(), metrics["mask_rate"], [p.grad.clone() for p in model.parameters()]))
    (loss_a, rate_a, grads_a), (loss_b, rate_b, grads_b) = results
    assert rate_a == rate_b > 0
    torch.testing.assert_close(loss_b, loss_a)
    for a, b in zip(grads_a, grads_b):
        torch.testing.assert_close(b, a, rtol=1e-4, atol=1e-6)
