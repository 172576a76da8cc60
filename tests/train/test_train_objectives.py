"""NextTokenLoss against a brute-force cross-entropy computed one position at a time."""

import math

import pytest
import torch

from atelier.train import NextTokenLoss


def brute_force_ce(logits, targets):
    """-log softmax(logits)[target] at every position, with Python arithmetic."""
    out = torch.zeros(targets.shape, dtype=torch.float64)
    for b in range(targets.shape[0]):
        for t in range(targets.shape[1]):
            row = [float(x) for x in logits[b, t]]
            top = max(row)
            log_z = top + math.log(sum(math.exp(x - top) for x in row))
            out[b, t] = log_z - row[int(targets[b, t])]
    return out


@pytest.fixture
def tokens():
    return torch.randint(0, 11, (3, 7), generator=torch.Generator().manual_seed(1))


def test_shifted_loss_and_per_token(tiny_lm, tokens):
    objective = NextTokenLoss()
    with torch.no_grad():
        reference = brute_force_ce(tiny_lm(tokens[:, :-1]), tokens[:, 1:])
        per_token = objective.per_token(tiny_lm, {"tokens": tokens})
        loss, metrics = objective(tiny_lm, {"tokens": tokens})
    assert per_token.shape == (3, 6)
    torch.testing.assert_close(per_token.double(), reference, rtol=1e-5, atol=1e-5)
    assert float(loss) == pytest.approx(float(reference.mean()), rel=1e-5)
    assert 0.0 <= float(metrics["accuracy"]) <= 1.0


def test_loss_mask_and_ignore_index(tiny_lm, tokens):
    mask = torch.ones_like(tokens, dtype=torch.bool)
    mask[:, :4] = False  # a prompt: targets at positions 0..3 do not count
    targets = tokens.clone()
    targets[0, -1] = -100
    with torch.no_grad():
        reference = brute_force_ce(tiny_lm(tokens[:, :-1]), tokens[:, 1:])
        masked, _ = NextTokenLoss()(tiny_lm, {"tokens": tokens, "loss_mask": mask})
        # with explicit targets the model reads all 7 tokens; targets -100 never count
        full = brute_force_ce(tiny_lm(tokens), tokens.clamp(min=0))
        ignored, _ = NextTokenLoss()(tiny_lm, {"tokens": tokens, "targets": targets})
    assert float(masked) == pytest.approx(float(reference[:, 3:].mean()), rel=1e-5)
    kept = targets != -100
    assert float(ignored) == pytest.approx(float(full[kept].mean()), rel=1e-5)


def test_accuracy_counts_argmax_hits(tiny_lm, tokens):
    with torch.no_grad():
        logits = tiny_lm(tokens[:, :-1])
        _, metrics = NextTokenLoss()(tiny_lm, {"tokens": tokens})
    hits = sum(int(logits[b, t].argmax() == tokens[b, t + 1]) for b in range(3) for t in range(6))
    assert float(metrics["accuracy"]) == pytest.approx(hits / 18)
