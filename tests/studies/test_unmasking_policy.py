"""Study 04: task encoding, the environment (against the core sampler and the reward formula),
the policy's likelihood, GRPO's advantages and loss, and the front comparisons."""

import gymnasium
import numpy as np
import polars as pl
import pytest
import torch
from gymnasium.utils.env_checker import check_env
from torch import nn

from atelier.diffusion import sample
from atelier.nn import Transformer, TransformerConfig
from atelier.studies.unmasking_policy import ENV_ID, Config, PolicyRule, UnmaskingEnv, UnmaskingPolicy, UnmaskingVecEnv
from atelier.studies.unmasking_policy import data, fronts, grpo

DIFF = {"reversal": 4}
P = data.prompt_len(DIFF)  # bos + "rev:abcd=" = 10
L = 6


class ReversalOracle(nn.Module):
    """Puts probability on the reversed prompt letters, then eos: the exact answer of reversal
    at difficulty 4. Position j of the buffer is the letter at column P - 2 - j. Confidence falls
    with j (logit margin 8 - j), so the most confident masked position is the leftmost one.
    `wrong` shifts every letter by one (always incorrect)."""

    def __init__(self, wrong: bool = False):
        super().__init__()
        self.wrong = wrong
        self.dummy = nn.Parameter(torch.zeros(()))

    def forward(self, x):
        B, T = x.shape
        target = torch.full((B, T), data.VOCAB.eos_id)
        for j in range(DIFF["reversal"]):
            target[:, P + j] = x[:, P - 2 - j] + int(self.wrong)
        margin = torch.tensor([8.0 - max(j - P, 0) * 0.5 for j in range(T)])
        return torch.nn.functional.one_hot(target, len(data.VOCAB)).float() * margin[None, :, None]


class RightFirstOracle(nn.Module):
    """Reversal's answer, except that letters 0 and 1 are proposed right only once the position to
    their right is unmasked (else a wrong letter, as confidently), with confidence falling left to
    right: the most confident position is the wrong one to write first."""

    def __init__(self):
        super().__init__()
        self.dummy = nn.Parameter(torch.zeros(()))

    def forward(self, x):
        B, T = x.shape
        target = torch.full((B, T), data.VOCAB.eos_id)
        for j in range(DIFF["reversal"]):
            ready = (x[:, P + j + 1] != data.VOCAB.mask_id) | (j >= 2)
            letter = x[:, P - 2 - j]
            other = torch.where(letter == data.VOCAB.ids["a"], data.VOCAB.ids["b"], data.VOCAB.ids["a"])
            target[:, P + j] = torch.where(ready, letter, other)
        margin = torch.tensor([8.0 - max(j - P, 0) * 0.5 for j in range(T)])
        return torch.nn.functional.one_hot(target, len(data.VOCAB)).float() * margin[None, :, None]


def reversal(n=5, seed=0):
    return data.examples(DIFF, ["reversal"], n, seed)


def tiny_dllm():
    torch.manual_seed(0)
    cfg = TransformerConfig(vocab_size=len(data.VOCAB), width=32, depth=1, n_heads=2, max_len=P + 2 * L,
                            attention="bidirectional")
    return Transformer(cfg).eval()


def test_encode_right_aligns_prompts_and_pads_answers_with_eos():
    frame = data.examples({"addition": 2, "reversal": 3}, ["addition", "reversal"], 1, 0)
    plen = data.prompt_len({"addition": 2, "reversal": 3})
    assert plen == 1 + len("rev:abc=")
    batch = data.encode(frame, plen, 5)
    add, rev = frame.row(0, named=True), frame.row(1, named=True)
    row = batch["tokens"][0].tolist()
    assert row[:plen] == [data.VOCAB.pad_id] * (plen - 1 - len(add["prompt"])) + [data.VOCAB.bos_id] + data.VOCAB.encode(add["prompt"])
    assert row[plen:] == data.VOCAB.encode(add["target"]) + [data.VOCAB.eos_id] * (5 - 3)
    assert data.VOCAB.decode(batch["tokens"][1, plen:plen + 3].tolist()) == rev["target"]
    assert batch["loss_mask"].sum(1).tolist() == [5, 5] and batch["loss_mask"][:, plen:].all()


def test_prefix_sum_is_the_running_sum_of_the_digits_mod_10():
    frame = data.examples({"prefix_sum": 4}, ["prefix_sum"], 20, seed=1)
    for example in frame.iter_rows(named=True):
        digits = [int(d) for d in example["prompt"][4:-1]]
        running = np.cumsum(digits) % 10
        assert example["target"] == "".join(map(str, running))
        assert data.check_task(example["target"], example)
        assert not data.check_task("".join(map(str, (running + 1) % 10)), example)
        assert not data.check_task(example["target"][:-1], example)
    assert data.check_task("3263", {"task": "prefix_sum", "prompt": "cum:3947="})
    with pytest.raises(ValueError, match="difficulty"):
        data.generate_task("prefix_sum", 1, 0, 0)


def test_agreement_accepts_any_digit_repeated_to_the_prompted_length_and_nothing_else():
    frame = data.examples({"agreement": 5}, ["agreement"], 200, seed=3)
    assert set(frame["prompt"]) == {"any:5="}
    assert set(frame["target"]) == {str(d) * 5 for d in range(10)}  # training draws every digit
    every = [str(d) * 5 for d in range(10)]
    assert all(data.check_task(answer, {"task": "agreement", "prompt": "any:5="}) for answer in every)
    for wrong in ("77787", "7777", "777777", "aaaaa", "", "\u0667" * 5):
        assert not data.check_task(wrong, {"task": "agreement", "prompt": "any:5="}), wrong
    assert data.check_task("333", {"task": "agreement", "prompt": "any:3="})


def test_judge_accepts_the_answer_and_rejects_changes():
    frame = reversal(3)
    tokens = data.encode(frame, P, L)["tokens"]
    assert data.judge(tokens, frame, P).all()
    wrong_letter, early_eos, junk_after = tokens.clone(), tokens.clone(), tokens.clone()
    wrong_letter[0, P] = data.VOCAB.ids["z"] if frame["target"][0][0] != "z" else data.VOCAB.ids["y"]
    early_eos[1, P + 3] = data.VOCAB.eos_id
    junk_after[2, P + L - 1] = data.VOCAB.ids["a"]
    assert data.judge(wrong_letter, frame, P).tolist() == [False, True, True]
    assert data.judge(early_eos, frame, P).tolist() == [True, False, True]
    assert data.judge(junk_after, frame, P).tolist() == [True, True, False]


def run_env(env, frame, act):
    """Episode rewards [R] of act(obs) -> action on env."""
    obs = env.reset(data.masked_prompts(frame, P, L), lambda t: data.judge(t, frame, P))
    total = torch.zeros(len(frame))
    while not env.done.all():
        obs, reward, _ = env.step(act(obs))
        total += reward
    return total


@pytest.mark.parametrize("lam", [0.0, 0.5, 2.0])
def test_reward_is_correct_times_one_plus_lambda_times_saved_steps(lam):
    frame = reversal(4)
    env = UnmaskingVecEnv(ReversalOracle(), P, reward_lambda=lam)
    everything = run_env(env, frame, lambda obs: obs["mask"])
    assert env.nfe.tolist() == [1] * 4
    assert torch.allclose(everything, torch.full((4,), 1 + lam * (1 - 1 / L)))
    nothing = run_env(env, frame, lambda obs: torch.zeros_like(obs["mask"]))  # one token per step
    assert env.nfe.tolist() == [L] * 4 and torch.allclose(nothing, torch.ones(4))
    wrong = UnmaskingVecEnv(ReversalOracle(wrong=True), P, reward_lambda=lam)
    assert (run_env(wrong, frame, lambda obs: obs["mask"]) == 0).all()


def test_an_empty_action_unmasks_exactly_the_most_confident_position():
    frame = reversal(2)
    env = UnmaskingVecEnv(ReversalOracle(), P)
    obs = env.reset(data.masked_prompts(frame, P, L), lambda t: data.judge(t, frame, P))
    for step in range(L):
        assert obs["mask"].sum(1).tolist() == [L - step] * 2
        assert obs["progress"].tolist() == pytest.approx([step / L] * 2)  # spent / (spent + masked)
        expected = obs["confidence"].argmax(1)  # the oracle's leftmost masked position
        assert expected.tolist() == [step, step]
        obs, _, _ = env.step(torch.zeros(2, L, dtype=torch.bool))
        assert not obs["mask"][torch.arange(2), expected].any()


@pytest.mark.parametrize("tau", [0.2, 0.6])
def test_vector_env_with_threshold_actions_reproduces_the_core_sampler(tau):
    model, frame = tiny_dllm(), reversal(6, seed=3)
    prompts = data.masked_prompts(frame, P, L)
    tokens, nfe = sample(model, prompts, mask_id=data.VOCAB.mask_id, method="threshold", tau=tau)
    env = UnmaskingVecEnv(model, P)
    run_env(env, frame, lambda obs: obs["mask"] & (obs["confidence"] > tau))
    assert torch.equal(env.x, tokens) and torch.equal(env.nfe, nfe)


def test_policy_rule_in_the_sampler_matches_the_greedy_policy_in_the_env():
    model, frame = tiny_dllm(), reversal(6, seed=4)
    torch.manual_seed(1)
    policy = UnmaskingPolicy(width=16, n_heads=2, slope=1.0)
    nn.init.normal_(policy.head.weight, std=1.0)  # a residual that varies with the features
    env = UnmaskingVecEnv(model, P)
    tau = torch.full((len(frame),), 0.5)
    with torch.no_grad():
        obs = env.reset(data.masked_prompts(frame, P, L), lambda t: data.judge(t, frame, P))
        shift = float(policy(obs["confidence"], obs["mask"], obs["progress"], tau).median())  # about half at first
        policy.head.bias.data -= shift
        run_env(env, frame, lambda obs: policy.choose(policy(obs["confidence"], obs["mask"], obs["progress"], tau),
                                                      obs["mask"], greedy=True, confidence=obs["confidence"])[0])
    tokens, nfe = sample(model, data.masked_prompts(frame, P, L), mask_id=data.VOCAB.mask_id,
                         method=PolicyRule(policy, P, tau=0.5))
    assert torch.equal(env.x, tokens) and torch.equal(env.nfe, nfe)
    assert (nfe > 1).any() and (nfe < L).any()  # the policy chose more than one and fewer than all


@pytest.mark.parametrize("tau", [0.05, 0.1, 0.2, 1.0])
def test_untrained_policy_is_the_threshold_rule(tau):
    model, frame = tiny_dllm(), reversal(8, seed=5)
    prompts = data.masked_prompts(frame, P, L)
    torch.manual_seed(2)
    policy = UnmaskingPolicy(width=16, n_heads=2)
    expected = sample(model, prompts, mask_id=data.VOCAB.mask_id, method="threshold", tau=tau)
    got = sample(model, prompts, mask_id=data.VOCAB.mask_id, method=PolicyRule(policy, P, tau=tau))
    assert torch.equal(got[0], expected[0]) and torch.equal(got[1], expected[1])
    for block in (None, 3):  # the same in semi-AR blocks
        assert torch.equal(sample(model, prompts, mask_id=data.VOCAB.mask_id, method=PolicyRule(policy, P, tau=tau),
                                  block=block)[1],
                           sample(model, prompts, mask_id=data.VOCAB.mask_id, method="threshold", tau=tau,
                                  block=block)[1])


def test_log_prob_is_the_bernoulli_log_likelihood_of_masked_decisions():
    torch.manual_seed(0)
    policy = UnmaskingPolicy(width=16, n_heads=2, max_logit=3.0)
    score, action = torch.randn(3, L) * 4, torch.rand(3, L) < 0.5
    mask = torch.rand(3, L) < 0.7
    bounded = 3.0 * torch.tanh(score / 3.0)
    expected = torch.distributions.Bernoulli(logits=bounded).log_prob(action.float()) * mask
    assert torch.allclose(policy.log_prob(score, action, mask), expected, atol=1e-6)


def test_choose_falls_back_on_the_policys_own_top_position():
    policy = UnmaskingPolicy(width=16, n_heads=2)
    score = torch.tensor([[-1.0, -3.0, -0.5, 4.0], [2.0, -1.0, 0.5, -2.0], [-2.0, -4.0, -3.0, -1.0]])
    mask = torch.tensor([[True, True, True, False], [False, True, False, True], [True, True, True, True]])
    action, fallback = policy.choose(score, mask, greedy=True)
    # row 0: nothing masked is above 0 -> the masked argmax (position 2, not the unmasked 3); row 1: likewise
    # position 1 (the 2.0 at 0 is not masked); row 2: position 3
    expected = torch.zeros(3, 4, dtype=torch.bool)
    expected[0, 2] = expected[1, 1] = expected[2, 3] = True
    assert torch.equal(action, expected) and torch.equal(fallback, expected)
    above = torch.tensor([[0.5, -1.0, 2.0, -3.0]])
    action, fallback = policy.choose(above, torch.ones(1, 4, dtype=torch.bool), greedy=True)
    assert action.tolist() == [[True, False, True, False]] and not fallback.any()
    tied = torch.tensor([[-1.0, -1.0, -1.0]])  # ties (clamped log-odds) go to the larger confidence
    _, fallback = policy.choose(tied, torch.ones(1, 3, dtype=torch.bool), greedy=True,
                                confidence=torch.tensor([[0.2, 0.7, 0.4]]))
    assert fallback.tolist() == [[False, True, False]]


def test_sampled_fallback_follows_the_softmax_of_the_relative_bounded_scores():
    n, max_logit = 40_000, 5.0
    policy = UnmaskingPolicy(width=16, n_heads=2, max_logit=max_logit)
    # far below any threshold: the Bernoulli draws almost never fire, yet the ranking is kept
    score = torch.tensor([[-40.0, -43.0, -41.0, 3.0]]).expand(n, 4)
    mask = torch.tensor([[True, True, True, False]]).expand(n, 4)
    action, fallback = policy.choose(score, mask, generator=torch.Generator().manual_seed(0))
    assert (fallback.sum(1) <= 1).all() and not (action & ~mask).any()
    drawn = fallback[fallback.any(1)].float().mean(0)  # rows whose Bernoulli draws all said no
    relative = torch.tensor([0.0, -3.0, -1.0])  # each score minus the best masked one (-40)
    expected = torch.softmax(max_logit * torch.tanh(relative / max_logit), 0)
    assert torch.allclose(drawn[:3], expected, atol=0.01) and drawn[3] == 0


def test_log_prob_with_fallback_is_a_distribution_over_every_outcome():
    # brute force over L = 3 masked positions: every drawn subset, and for the empty draw every fallback
    torch.manual_seed(1)
    policy = UnmaskingPolicy(width=16, n_heads=2)
    score, mask = torch.randn(1, 3) * 4, torch.ones(1, 3, dtype=torch.bool)
    p = torch.sigmoid(policy.bounded(score[0]))
    draw = torch.softmax(policy.bounded(score[0] - score[0].max()), 0)
    total = 0.0
    for bits in range(8):
        drawn = torch.tensor([[bool(bits >> j & 1) for j in range(3)]])
        fallbacks = [torch.zeros(1, 3, dtype=torch.bool)] if bits else list(torch.eye(3, dtype=torch.bool)[:, None])
        for fb in fallbacks:
            logp = policy.log_prob(score, drawn | fb, mask, fb).sum()
            ref = torch.prod(torch.where(drawn[0], p, 1 - p))
            if not bits:
                ref = ref * draw[fb[0]].squeeze()
            assert float(logp.exp()) == pytest.approx(float(ref), rel=1e-5)
            total += float(logp.exp())
    assert total == pytest.approx(1.0, abs=1e-5)
    done = torch.zeros(1, 3, dtype=torch.bool)  # a finished row: no decisions, finite gradients
    score.requires_grad_(True)
    policy.log_prob(score, done, done, done).sum().backward()
    assert torch.isfinite(score.grad).all()


def test_bernoulli_kl_matches_its_formula_and_vanishes_at_the_reference():
    logits, reference = torch.randn(50) * 3, torch.randn(50) * 3
    p, q = torch.sigmoid(logits.double()), torch.sigmoid(reference.double())
    expected = p * (p / q).log() + (1 - p) * ((1 - p) / (1 - q)).log()
    assert torch.allclose(grpo.bernoulli_kl(logits, reference).double(), expected, atol=1e-5)
    assert torch.allclose(grpo.bernoulli_kl(logits, logits), torch.zeros(50), atol=1e-6)


def test_tied_lambda_makes_the_threshold_the_myopic_rule():
    # unmask now iff the expected loss (1 - c) is below the reward of one saved call, lambda / L
    L, tau = 8, torch.tensor([0.5, 0.9, 0.99])
    lam = grpo.tied_lambda(tau, L)
    for c in (0.3, 0.6, 0.95, 0.995):
        assert ((1 - c < lam / L) == (c > tau)).all()


def test_group_advantages_are_standardised_within_each_group():
    reward = torch.tensor([1.0, 2.0, 3.0, 0.0, 0.0, 4.0, 5.0, 5.0, 5.0])
    adv = grpo.group_advantages(reward, 3)
    for g in range(3):
        r = reward[3 * g: 3 * g + 3].numpy()
        ref = (r - r.mean()) / (r.std() + 1e-6)  # numpy std is the population std
        assert np.allclose(adv[3 * g: 3 * g + 3].numpy(), ref, atol=1e-5)
    centred = grpo.group_advantages(reward, 3, scale="centre")
    assert np.allclose(centred.numpy(), (reward.view(3, 3) - reward.view(3, 3).mean(1, keepdim=True)).view(-1).numpy())
    with pytest.raises(ValueError, match="valid values"):
        grpo.group_advantages(reward, 3, scale="max")


def test_clipped_loss_at_the_acting_policy_is_the_policy_gradient():
    torch.manual_seed(0)
    S, R = 3, 4
    policy = UnmaskingPolicy(width=16, n_heads=2)
    nn.init.normal_(policy.head.weight, std=0.5)
    conf, mask, progress, tau = torch.rand(S, R, L), torch.rand(S, R, L) < 0.6, torch.rand(S, R), torch.rand(R)
    with torch.no_grad():
        score = policy(conf.flatten(0, 1), mask.flatten(0, 1), progress.flatten(), tau.repeat(S))
    action, fallback = (a.view(S, R, L) for a in policy.choose(score, mask.flatten(0, 1)))
    assert fallback.any()  # the fallback's softmax term is part of the gradient checked below
    logp_old = policy.log_prob(score, action.flatten(0, 1), mask.flatten(0, 1), fallback.flatten(0, 1)).view(S, R, L)
    batch = grpo.Rollouts(conf, mask, progress, tau, action, logp_old, fallback, torch.zeros(R),
                          torch.ones(R, dtype=torch.long))
    adv = torch.randn(R)
    loss = grpo.clipped_loss(policy, batch, adv, clip=0.2)
    assert float(loss.detach()) == pytest.approx(float(-(adv[None, :, None] * mask).sum() / mask.sum()), abs=1e-6)
    grads = torch.autograd.grad(loss, list(policy.parameters()))
    # REINFORCE: -sum(A * log pi(a)) / decisions, differentiated directly
    logp = policy.log_prob(policy(conf.flatten(0, 1), mask.flatten(0, 1), progress.flatten(), tau.repeat(S)),
                           action.flatten(0, 1), mask.flatten(0, 1), fallback.flatten(0, 1)).view(S, R, L)
    reinforce = -(adv[None, :, None] * logp).sum() / mask.sum()
    for g, ref in zip(grads, torch.autograd.grad(reinforce, list(policy.parameters()))):
        assert torch.allclose(g, ref, atol=1e-6)


def test_grpo_learns_to_unmask_faster_when_every_answer_is_correct():
    torch.manual_seed(0)
    policy = UnmaskingPolicy(width=16, n_heads=2, slope=1.0)  # oracle confidence ~0.98 < tau: cautious at first
    curve = grpo.train_policy(policy, ReversalOracle(), DIFF, ["reversal"], prompt_len=P, buffer=L, taus=(0.999,),
                              iterations=25,
                              prompts=4, group=8, epochs=2, clip=0.2, lr=2e-2, reward_lambda=1.0, seed=0)
    assert (curve["accuracy"] == 1.0).all()
    assert curve["nfe"].tail(5).mean() < curve["nfe"].head(5).mean() - 1.0


@pytest.mark.parametrize("right", [True, False])
def test_edge_first_writes_one_end_of_the_buffer_first(right):
    from atelier.studies.unmasking_policy.experiments import edge_first
    frame = reversal(3, seed=2)
    prompts = data.masked_prompts(frame, P, L)
    order = []

    def spy(confidence, active, steps_left, generator):
        chosen = edge_first(right)(confidence, active, steps_left, generator)
        order.append(chosen.nonzero()[:, 1].tolist())
        return chosen

    tokens, nfe = sample(ReversalOracle(), prompts, mask_id=data.VOCAB.mask_id, method=spy)
    columns = list(range(P, P + L))
    assert order == [[c] * 3 for c in (columns[::-1] if right else columns)]
    assert data.judge(tokens, frame, P).all() and (nfe == L).all()


def test_grpo_learns_an_unmasking_order_the_confidence_does_not_give():
    # below the threshold every step falls back on one position: first the most confident (always wrong
    # here), after GRPO the policy's own choice
    frame = reversal(16, seed=9)

    def greedy_accuracy(policy):
        tokens, _ = sample(RightFirstOracle(), data.masked_prompts(frame, P, L), mask_id=data.VOCAB.mask_id,
                           method=PolicyRule(policy, P, tau=0.999))
        return float(data.judge(tokens, frame, P).float().mean())

    torch.manual_seed(0)
    policy = UnmaskingPolicy(width=16, n_heads=2)
    assert greedy_accuracy(policy) == 0.0
    grpo.train_policy(policy, RightFirstOracle(), DIFF, ["reversal"], prompt_len=P, buffer=L, taus=(0.999,),
                      iterations=150, prompts=4, group=8, epochs=2, clip=0.2, lr=1e-2, reward_lambda=0.0, seed=0)
    assert greedy_accuracy(policy) == 1.0


def test_gymnasium_env_passes_check_env_and_is_registered():
    env = UnmaskingEnv(tiny_dllm(), DIFF, buffer=L, prompt_len=P)
    check_env(env, skip_render_check=True)
    made = gymnasium.make(ENV_ID, model=ReversalOracle(), difficulties=DIFF, buffer=L, prompt_len=P,
                          reward_lambda=1.0, disable_env_checker=True)
    obs, _ = made.reset(seed=0)
    assert obs["mask"].tolist() == [1] * L
    obs, reward, done, truncated, info = made.step(np.ones(L, dtype=np.int8))
    assert done and not truncated and info == {"correct": True, "nfe": 1}
    assert reward == pytest.approx(2 - 1 / L)


def test_envelope_keeps_the_upper_left_points_and_interpolates():
    front = fronts.envelope([1, 2, 2, 3, 4, 5], [0.2, 0.1, 0.5, 0.4, 0.8, 0.7])
    assert front[0].tolist() == [1, 2, 4] and front[1].tolist() == [0.2, 0.5, 0.8]
    assert fronts.front_at(front, [0.5, 1.5, 3.0, 9.0]) == pytest.approx([np.nan, 0.35, 0.65, 0.8], nan_ok=True)
    # (2, 0.3) lies under the chord from (1, 0.2) to (3, 0.8): mixing those two settings beats it
    assert fronts.envelope([1, 2, 3], [0.2, 0.3, 0.8])[0].tolist() == [1, 3]


def test_envelope_is_the_least_concave_majorant_of_random_points():
    rng = np.random.default_rng(0)
    for _ in range(50):
        n, a = rng.uniform(1, 8, 9), rng.uniform(0, 1, 9)
        xs, ys = fronts.envelope(n, a)
        vertices = set(zip(n.tolist(), a.tolist()))
        assert all((x, y) in vertices for x, y in zip(xs.tolist(), ys.tolist()))
        assert xs[0] == n.min() and ys[-1] == a.max() and (np.diff(ys) > 0).all()
        slopes = np.diff(ys) / np.diff(xs)
        assert (np.diff(slopes) <= 1e-12).all()  # concave
        # brute force: every convex combination of two points, inside the front's range, lies on or under it
        i, j, w = rng.integers(0, 9, 200), rng.integers(0, 9, 200), rng.uniform(0, 1, 200)
        x, y = np.maximum(w * n[i] + (1 - w) * n[j], xs[0]), w * a[i] + (1 - w) * a[j]  # rounding below n.min()
        assert (y <= fronts.front_at((xs, ys), x) + 1e-12).all()


def test_gap_is_the_mean_difference_of_fronts_over_their_shared_range():
    pts = pl.DataFrame({"method": ["a", "a", "b", "b"], "nfe": [1.0, 3.0, 2.0, 4.0],
                        "accuracy": [0.2, 0.6, 0.1, 0.5]})
    # shared range [2, 4]: a = 0.4 -> 0.6 then flat at 0.6; b = 0.1 -> 0.5 linearly
    n = np.linspace(2, 4, 100_001)
    a = np.where(n < 3, 0.2 + 0.2 * (n - 1), 0.6)
    b = 0.1 + 0.2 * (n - 2)
    assert fronts.gap(pts, "a", "b") == pytest.approx(np.mean(a - b), abs=1e-3)
    assert fronts.gap(pts, "a", "a") == 0.0


def test_headroom_is_the_best_heuristic_gap_to_random():
    from atelier.studies.unmasking_policy.claims import headroom
    rows = [("random", 1.0, 0.50), ("random", 3.0, 0.60), ("topk", 1.0, 0.55), ("topk", 3.0, 0.65),
            ("threshold", 1.0, 0.58), ("threshold", 3.0, 0.68), ("policy", 1.0, 0.90), ("policy", 3.0, 0.95)]
    pts = pl.DataFrame(rows, schema=["method", "nfe", "accuracy"], orient="row").with_columns(task=pl.lit("all"))
    # fronts are parallel lines over the same range: threshold leads random by 0.08 everywhere; the policy is
    # not a heuristic and does not count
    assert headroom(pts) == pytest.approx(0.08)


def test_gap_se_is_the_spread_of_the_gap_over_bootstrap_replicates():
    shifts = [0.0, 0.01, -0.02, 0.05, 0.03]  # replicate r: front a = front b + shifts[r] everywhere
    rows = []
    for r, d in enumerate(shifts):
        rows += [("b", r, 1.0, 0.5), ("b", r, 3.0, 0.7), ("a", r, 1.0, 0.5 + d), ("a", r, 3.0, 0.7 + d)]
    pts = pl.DataFrame(rows, schema=["method", "replicate", "nfe", "accuracy"], orient="row")
    assert fronts.gap(pts, "a", "b") == pytest.approx(0.0)  # replicate 0 only
    assert fronts.gap_se(pts, "a", "b") == pytest.approx(np.std(shifts[1:], ddof=1))
    assert np.isnan(fronts.gap_se(pts.filter(pl.col("replicate") == 0), "a", "b"))


def test_degradation_is_the_drop_of_the_strongest_gap_with_its_bootstrap_error():
    from atelier.studies.unmasking_policy.claims import degradation

    def points(policy_lead, threshold_lead):  # per replicate: policy and threshold above random by these
        rows = []
        for r, (p, t) in enumerate(zip(policy_lead, threshold_lead)):
            for method, lead in (("random", 0.0), ("threshold", t), ("policy", p)):
                rows += [(method, r, 1.0, 0.5 + lead), (method, r, 3.0, 0.7 + lead)]
        return pl.DataFrame(rows, schema=["method", "replicate", "nfe", "accuracy"],
                            orient="row").with_columns(task=pl.lit("all"))
    # in domain the policy leads the threshold rule by 0.02 (replicates: 0.01, 0.03, 0.02); out of domain it
    # trails it by 0.01 (replicates: -0.02, 0.0, -0.01), and random is then the weaker heuristic
    in_domain = points([0.12, 0.11, 0.13, 0.12], [0.10] * 4)
    ood = points([0.19, 0.18, 0.20, 0.19], [0.20] * 4)
    value, se = degradation(in_domain, ood)
    assert value == pytest.approx(0.02 - (-0.01))
    assert se == pytest.approx(np.std([0.01 + 0.02, 0.03 - 0.0, 0.02 + 0.01], ddof=1))


def test_config_presets_and_bad_tasks():
    from atelier.studies.unmasking_policy import config
    assert config.ALL_TASKS == data.ALL_TASKS
    assert Config.preset("smoke").buffer == Config().buffer
    with pytest.raises(ValueError, match="not a task"):
        Config(train_tasks=("addition", "division"))
    with pytest.raises(ValueError, match="must not be one of"):
        Config(ood_task="addition")
    with pytest.raises(ValueError, match="dllm_pass_accuracy"):
        Config(dllm_pass_accuracy=1.5)


def test_task_accuracy_grades_an_exact_dllm_right_and_an_untrained_one_wrong():
    from types import SimpleNamespace

    from atelier.studies.unmasking_policy import experiments
    cfg = SimpleNamespace(difficulties=DIFF, buffer=L)
    exact = experiments.task_accuracy(ReversalOracle(), cfg, P, seed=0)
    untrained = experiments.task_accuracy(tiny_dllm(), cfg, P, seed=0)
    assert exact.to_dicts() == [{"task": "reversal", "accuracy": 1.0}]
    assert untrained["accuracy"].to_list() == [0.0]


def test_train_dllm_redraws_the_seed_until_the_dllm_has_learnt_every_task(monkeypatch):
    from atelier.studies.unmasking_policy import dllm, experiments
    cfg = Config.preset("smoke").override(dllm_pass_accuracy=0.5, dllm_attempts=3)
    stride = experiments.RETRY_SEED_STRIDE
    learns = {7 + 2 * stride}  # only the third seed learns
    monkeypatch.setattr(experiments.dllm, "train", lambda cfg, model, plen, seed, name: pl.DataFrame(
        {"step": [1], "loss": [1.0], "model": [name]}))
    monkeypatch.setattr(experiments, "task_accuracy", lambda model, cfg, plen, seed: pl.DataFrame(
        {"task": ["addition", "sorting"], "accuracy": [0.9 if seed in learns else 0.4, 1.0]}))
    plen = data.prompt_len(cfg.difficulties)
    model, curve, attempts = experiments.train_dllm(cfg, "B", 32, 1, plen, seed=7)
    assert attempts["seed"].unique(maintain_order=True).to_list() == [7, 7 + stride, 7 + 2 * stride]
    assert attempts.filter(pl.col("kept"))["seed"].unique().to_list() == [7 + 2 * stride]
    kept = dllm.build(cfg, 32, 1, plen, 7 + 2 * stride)  # the model returned is the one of the kept seed
    assert all(torch.equal(a, b) for a, b in zip(model.state_dict().values(), kept.state_dict().values()))
    assert curve["params"][0] == kept.num_params()
    with pytest.raises(RuntimeError, match=r"did not learn every task .* in 2 seeds.*dllm_attempts"):
        experiments.train_dllm(cfg.override(dllm_attempts=2), "B", 32, 1, plen, seed=7)
