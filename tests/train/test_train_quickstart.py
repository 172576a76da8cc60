"""The quickstart's Markov chain against brute force and sampling, and its job wiring."""

import json

import numpy as np
import pytest
import torch

from atelier.studies.quickstart import Config, MarkovChain, build
from atelier.train.launch import config_from_json, config_to_json


@pytest.fixture
def chain():
    return MarkovChain.random(vocab_size=4, concentration=0.3, seed=2)


def test_pair_stationary_is_the_eigenvector_of_the_pair_chain(chain):
    V = chain.vocab_size
    T = np.zeros((V * V, V * V))  # explicit pair transition matrix, one entry at a time
    for a in range(V):
        for b in range(V):
            for c in range(V):
                T[a * V + b, b * V + c] = chain.P[a, b, c]
    values, vectors = np.linalg.eig(T.T)
    pi = np.real(vectors[:, np.argmin(np.abs(values - 1))])
    np.testing.assert_allclose(chain.pair_stationary().ravel(), pi / pi.sum(), atol=1e-9)


def test_sampled_sequences_have_the_stated_entropies(chain):
    V = chain.vocab_size
    x = chain.sample(4000, 32, torch.Generator().manual_seed(0)).numpy()
    # plug-in conditional entropies from counts of (x_t-2, x_t-1, x_t) and (x_t-1, x_t)
    triples = np.bincount((x[:, :-2] * V * V + x[:, 1:-1] * V + x[:, 2:]).ravel(), minlength=V**3).reshape(V * V, V)
    pairs = np.bincount((x[:, :-1] * V + x[:, 1:]).ravel(), minlength=V**2).reshape(V, V)

    def conditional_entropy(counts):
        p = counts / counts.sum()
        cond = counts / counts.sum(1, keepdims=True)
        return -np.sum(p[counts > 0] * np.log(cond[counts > 0]))

    assert conditional_entropy(triples) == pytest.approx(chain.entropy_rate(), abs=0.01)
    assert conditional_entropy(pairs) == pytest.approx(chain.first_order_entropy(), abs=0.01)
    assert chain.first_order_entropy() > chain.entropy_rate()


def test_sequence_floor_is_the_loss_of_the_true_predictor(chain):
    """Mean -log p of the Bayes-optimal next-token predictor on samples approaches the floor."""
    V, L = chain.vocab_size, 6
    x = chain.sample(20000, L, torch.Generator().manual_seed(1)).numpy()
    pi = chain.pair_stationary()
    first = pi[x[:, 0], x[:, 1]] / pi.sum(1)[x[:, 0]]  # p(x1 | x0) under the stationary start
    rest = chain.P[x[:, :-2], x[:, 1:-1], x[:, 2:]]  # p(x_t | x_t-2, x_t-1)
    nll = -(np.log(first).sum() + np.log(rest).sum()) / (len(x) * (L - 1))
    assert nll == pytest.approx(chain.sequence_floor(L), abs=0.01)


def test_build_draws_fresh_data_from_the_seeded_rng():
    cfg = Config.preset("smoke").override(steps=3, batch_size=2, val_sequences=4, seq_len=10)
    torch.manual_seed(0)
    job = build(cfg)
    torch.manual_seed(0)
    again = build(cfg)
    train = torch.cat([b["tokens"] for b in job.train])
    assert train.shape == (6, 10) and train.max() < cfg.vocab_size
    assert torch.equal(train, torch.cat([b["tokens"] for b in again.train]))
    assert sum(b["tokens"].shape[0] for b in job.val) == 4
    assert job.model.cfg.max_len == cfg.seq_len


def test_config_survives_the_launch_spec():
    cfg = Config.preset("gpu").override(steps=7)
    assert config_from_json(json.loads(json.dumps(config_to_json(cfg)))) == cfg
