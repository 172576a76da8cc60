"""Soup-of-Experts study: the architecture, the meta-distribution, mixture batches, the kNN
h estimate and the exact mixture losses, each against an independent reference."""

import math

import numpy as np
import polars as pl
import pytest
import torch

from atelier.nn import Transformer, TransformerConfig
from atelier.studies.soup_of_experts import (
    Config, Fixed, MixtureBatches, SoupLoss, SoupOfExperts, SparseDirichlet, claims, domain_losses, knn_histogram,
    soup_losses,
)
from atelier.train import NextTokenLoss

CFG = TransformerConfig(vocab_size=32, width=16, depth=2, n_heads=2, max_len=16)


def random_soup(n_domains=3, n_experts=4, seed=0):
    torch.manual_seed(seed)
    soup = SoupOfExperts(CFG, n_domains, n_experts, router_hidden=8)
    with torch.no_grad():
        soup.experts.normal_(0.0, 0.05)  # the bank starts at zero; make it non-trivial
    return soup


def test_instantiate_is_shared_plus_weighted_experts():
    soup = random_soup()
    h = torch.tensor([0.2, 0.0, 0.8])
    alpha = torch.softmax(soup.router(h), -1)
    theta = soup.instantiate(h)
    offset = 0
    for name, s in soup.template.named_parameters():  # reference: S + sum_j alpha_j E_j, one tensor at a time
        n = s.numel()
        expected = s + sum(alpha[j] * soup.experts[j, offset:offset + n].view_as(s) for j in range(soup.n_experts))
        torch.testing.assert_close(theta[name], expected)
        offset += n
    assert offset == soup.experts.shape[1]
    torch.testing.assert_close(soup.coefficients(h).sum(), torch.tensor(1.0))


def test_forward_matches_a_transformer_loaded_with_theta():
    soup = random_soup()
    h = torch.tensor([0.5, 0.5, 0.0])
    tokens = torch.randint(0, CFG.vocab_size, (2, 10))
    reference = Transformer(CFG)
    reference.load_state_dict({k: v.detach() for k, v in soup.instantiate(h).items()})
    torch.testing.assert_close(soup(tokens, h), reference(tokens))
    torch.testing.assert_close(soup.specialist(h)(tokens), reference(tokens))


def test_zero_experts_start_as_the_template():
    torch.manual_seed(0)
    soup = SoupOfExperts(CFG, 3, 2)
    tokens = torch.randint(0, CFG.vocab_size, (2, 8))
    for h in (torch.tensor([1.0, 0, 0]), torch.tensor([0.1, 0.3, 0.6])):
        torch.testing.assert_close(soup(tokens, h), soup.template(tokens))


def test_gradients_follow_the_chain_rule():
    """dL/dE_j = alpha_j dL/dTheta and dL/dS = dL/dTheta, with dL/dTheta from the standalone model."""
    soup = random_soup()
    h = torch.tensor([0.3, 0.7, 0.0])
    batch = {"tokens": torch.randint(0, CFG.vocab_size, (2, 12)), "h": h}
    loss, _ = SoupLoss(NextTokenLoss())(soup, batch)
    loss.backward()
    specialist = soup.specialist(h)
    NextTokenLoss()(specialist, batch)[0].backward()
    grad_theta = torch.cat([p.grad.flatten() for p in specialist.parameters()])  # [P]
    alpha = soup.coefficients(h).detach()
    torch.testing.assert_close(soup.experts.grad, alpha[:, None] * grad_theta[None, :])
    torch.testing.assert_close(torch.cat([p.grad.flatten() for p in soup.template.parameters()]), grad_theta)
    assert all(p.grad is not None and p.grad.abs().sum() > 0 for p in soup.router.parameters())


def test_bad_h_shape_is_an_error():
    with pytest.raises(ValueError, match="shape"):
        random_soup().instantiate(torch.ones(4) / 4)


def test_sparse_dirichlet_draws():
    meta = SparseDirichlet(6, support=2)
    hs = meta.sample(4000, seed=0)
    np.testing.assert_allclose(hs.sum(1), 1.0)
    assert ((hs > 0).sum(1) == 2).all()
    np.testing.assert_allclose(hs.mean(0), np.full(6, 1 / 6), atol=0.02)  # symmetric: the mean is uniform
    # support 2 with concentration 1: the larger weight is uniform on [1/2, 1], mean 3/4
    assert abs(np.sort(hs, 1)[:, -1].mean() - 0.75) < 0.01
    with pytest.raises(ValueError, match="support"):
        SparseDirichlet(3, support=4)
    with pytest.raises(ValueError, match="summing to 1"):
        Fixed([0.5, 0.6])


def test_mixture_batches_follow_h():
    """Domain d's blocks are filled with token d, so each row tells its domain."""
    blocks = {f"d{d}": torch.full((5 + d, 4), d) for d in range(3)}
    h = np.array([0.6, 0.0, 0.4])
    stream = iter(MixtureBatches(blocks, Fixed(h), batch_size=50, seed=1))
    rows = torch.cat([next(stream)["tokens"] for _ in range(40)])  # [2000, 4]
    assert (rows == rows[:, :1]).all()  # whole blocks
    freq = np.bincount(rows[:, 0].numpy(), minlength=3) / rows.shape[0]
    np.testing.assert_allclose(freq, h, atol=0.04)
    batch = next(iter(MixtureBatches(blocks, SparseDirichlet(3, 1), batch_size=8, seed=0)))
    assert batch["h"].shape == (3,) and (batch["tokens"][:, 0] == int(batch["h"].argmax())).all()


def test_knn_histogram_matches_brute_force():
    rng = np.random.default_rng(0)
    refs = rng.normal(size=(30, 5))
    refs /= np.linalg.norm(refs, axis=1, keepdims=True)
    labels = rng.integers(0, 4, size=30)
    samples = rng.normal(size=(7, 5))
    samples /= np.linalg.norm(samples, axis=1, keepdims=True)
    k = 3
    votes = np.zeros(4)
    for s in samples:  # brute force: sort every reference by cosine similarity
        order = sorted(range(30), key=lambda r: -float(s @ refs[r]))
        for r in order[:k]:
            votes[labels[r]] += 1
    got = knn_histogram(torch.tensor(samples), torch.tensor(refs), torch.tensor(labels), 4, k)
    np.testing.assert_allclose(got, votes / votes.sum())
    with pytest.raises(ValueError, match="neighbours"):
        knn_histogram(torch.tensor(samples), torch.tensor(refs), torch.tensor(labels), 4, 31)


class Uniform(torch.nn.Module):
    """Zero logits: every next-token loss is log V."""

    def __init__(self, vocab):
        super().__init__()
        self.vocab, self.dummy = vocab, torch.nn.Parameter(torch.zeros(()))

    def forward(self, tokens):
        return torch.zeros(*tokens.shape, self.vocab) + 0 * self.dummy


def test_domain_losses_and_mixture_losses():
    val = {f"d{d}": torch.randint(0, CFG.vocab_size, (3, 8)) for d in range(3)}
    np.testing.assert_allclose(domain_losses(Uniform(CFG.vocab_size), val, batch_size=2), math.log(CFG.vocab_size),
                               rtol=1e-6)
    torch.manual_seed(0)
    soup = SoupOfExperts(CFG, 3, 2)  # zero experts: every h instantiates the template
    per_domain = []
    for blocks in val.values():  # reference: mean next-token cross-entropy of the template
        with torch.no_grad():
            logits = soup.template(blocks[:, :-1])
        per_domain.append(float(torch.nn.functional.cross_entropy(logits.flatten(0, 1), blocks[:, 1:].flatten())))
    hs = np.array([[1.0, 0, 0], [0.2, 0.3, 0.5]])
    np.testing.assert_allclose(soup_losses(soup, hs, val), hs @ np.array(per_domain), rtol=1e-5)
    np.testing.assert_allclose(soup_losses(soup, hs, val, evaluate_on=hs[::-1]), hs[::-1] @ np.array(per_domain),
                               rtol=1e-5)


def test_claims_are_computed_from_tables():
    heldout = pl.DataFrame({"gap": [0.1, -0.02, 0.04]})
    sweep = pl.DataFrame({"n_experts": [4, 1, 2], "heldout_loss": [3.0, 3.2, 3.05]})
    targets = pl.DataFrame({"generalist": [3.0, 3.1], "soup_estimated_h": [2.9, 3.2]})
    cost = pl.DataFrame({"how": ["instantiate the soup at h", "train a specialist from scratch"],
                         "seconds": [0.01, 5.0]})
    got = {c.name: c for c in claims(heldout, sweep, targets, cost)}
    assert got["soup_beats_generalist"].value == pytest.approx(0.04) and got["soup_beats_generalist"].holds
    assert got["more_experts_lower_loss"].value == pytest.approx(-0.05) and got["more_experts_lower_loss"].holds
    assert got["few_sample_target"].value == pytest.approx(0.0) and not got["few_sample_target"].holds
    assert got["instantiation_is_cheap"].value == pytest.approx(500.0)


def test_config_presets_and_validation():
    assert Config.preset("smoke").n_experts in Config.preset("smoke").expert_counts
    assert Config.preset("gpu").n_experts in Config.preset("gpu").expert_counts
    assert len(Config().domains) >= 6
    with pytest.raises(ValueError, match="expert_counts"):
        Config().override(n_experts=3)
