"""Study 01 (tri-modal masked diffusion): branching WSD against separate runs, the per-modality NELBO
against its analytic value, the scaling fit against a known law, and the analysis helpers."""

import dataclasses
import math

import numpy as np
import polars as pl
import pytest
import torch
from torch import nn

from atelier import report
from atelier.nn import Transformer, TransformerConfig, param_groups
from atelier.studies.config import ConfigError
from atelier.studies.trimodal_diffusion import (Config, batch_sizes, build_data, build_model, choose_default,
                                                continuation_perplexity, eval_batches, fit_laws, modality_losses,
                                                monotonicity, paired_margin, replicate_mean, replicate_seeds,
                                                scaling_grid, spread, sweep_baseline, train_budgets,
                                                train_config, within_class_spread)
from atelier.train import NextTokenLoss, TrainConfig, fit


def test_presets_build_and_bad_values_name_the_valid_ones():
    for name in ("smoke", "cpu", "gpu"):
        cfg = Config.preset(name)
        assert cfg.default_temperature in cfg.sampler_temperatures
    with pytest.raises(ValueError, match="sweep_width=40"):
        Config().override(sweep_width=40)  # not a multiple of the 16-dim heads
    with pytest.raises(ValueError, match="default_temperature"):
        Config().override(sampler_temperatures=(0.0,))
    with pytest.raises(ValueError, match="sampler_budget=20"):
        Config().override(sampler_budget=20)  # its cooldown would start inside the 20 warmup steps
    with pytest.raises(ValueError, match=r"grid_mixture has \(1.0, -1.0, 1.0\)"):
        Config().override(grid_mixture=(1.0, -1.0, 1.0))
    with pytest.raises(ValueError, match="3 non-negative weights"):
        Config().override(sampler_mixture=(0.0, 0.0, 0.0))
    with pytest.raises(ValueError, match="speech_words=12, speech_numbers=10"):
        Config().override(speech_words=12, speech_numbers=10)  # a prompted word the pool never speaks
    with pytest.raises(ValueError, match="grid_seeds=0"):
        Config().override(grid_seeds=0)
    with pytest.raises(ConfigError, match="valid fields"):
        Config().override(width=3)


class Tokens(torch.utils.data.Dataset):
    def __init__(self, n, T=8, V=11):
        self.x = torch.randint(0, V, (n, T), generator=torch.Generator().manual_seed(0))

    def __len__(self):
        return len(self.x)

    def __getitem__(self, i):
        return {"tokens": self.x[i]}


def test_branched_cooldowns_equal_separate_wsd_runs(tmp_path):
    # A WSD run of S steps equals the constant run up to its decay followed by a linear cooldown
    # resumed with the same AdamW state: compare both budgets with separately trained WSD runs.
    def model():
        torch.manual_seed(0)
        return Transformer(TransformerConfig(vocab_size=11, width=16, depth=1, n_heads=2, max_len=8))

    data, batch = Tokens(64), 4
    cfg = Config.preset("smoke").override(warmup_steps=2, decay_fraction=0.25, lr=3e-3)
    configs = [dataclasses.replace(train_config(cfg, s, seed=0), log_every=1) for s in (8, 12)]
    branched = train_budgets(model(), configs, data, batch, NextTokenLoss(), "t", run_dir=tmp_path)
    for config, trained in zip(configs, branched):
        loader = torch.utils.data.DataLoader(torch.utils.data.Subset(data, range(config.steps * batch)), batch)
        alone = fit(config, model(), NextTokenLoss(), loader, run_dir=tmp_path, name=f"alone{config.steps}")
        for a, b in zip(trained.model.parameters(), alone.model.parameters()):
            torch.testing.assert_close(a, b, rtol=1e-4, atol=1e-5)
        assert trained.curve["step"].max() <= config.steps and trained.examples == config.steps * batch


def test_sde_and_plain_batch_configs_see_the_same_tokens():
    cfg = Config()
    base = train_config(cfg, 240, seed=0)
    sde, plain = train_config(cfg, 240, 0, 2.0, sde=True), train_config(cfg, 240, 0, 2.0, sde=False)
    assert sde.steps == plain.steps == 120
    assert sde.lr == pytest.approx(base.lr * math.sqrt(2)) and plain.lr == base.lr
    assert sde.betas[0] == pytest.approx(1 - 2 * (1 - base.betas[0])) and plain.betas == base.betas


def test_hidden_matrices_learn_at_hidden_lr_over_the_width_multiplier_and_the_rest_at_lr():
    # CompleteP at depth = base depth: hidden LR = lr * hidden_lr * base_width / width; embeddings,
    # unembedding and norm gains keep the base LR whatever the width.
    cfg = Config().override(lr=0.01, hidden_lr=0.25, base_width=32)
    for width in (32, 128):
        groups = param_groups(build_model(cfg, 50, width, cfg.base_depth, seed=0), lr=cfg.lr)
        lrs = {g["role"]: g["lr"] for g in groups}
        assert lrs["attention"] == pytest.approx(0.01 * 0.25 * 32 / width)
        assert lrs["mlp"] == pytest.approx(0.01 * 0.25 * 32 / width)
        for role in ("embedding", "unembedding", "norm", "final_norm"):
            assert lrs[role] == pytest.approx(0.01), role


class Uniform(nn.Module):
    """Predicts the uniform distribution over V ids everywhere (features/unembed protocol)."""

    def __init__(self, V):
        super().__init__()
        self.V = V

    def features(self, tokens, mask=None):
        return torch.zeros(*tokens.shape, 1)

    def unembed(self, h):
        return torch.zeros(*h.shape[:-1], self.V)


def test_per_modality_nelbo_of_a_uniform_model_is_log_v_for_every_modality():
    # CE = log V at every masked position and E_t[w(t) P(masked | t)] = E_t[(1/t) t] = 1 (linear
    # schedule), so each modality's NELBO per token is log V in expectation.
    V, mask_id, B, T = 20, 19, 64, 12
    g = torch.Generator().manual_seed(0)
    modality = torch.randint(0, 4, (B, T), generator=g)  # special, text, image, audio
    batch = {"tokens": torch.randint(0, mask_id, (B, T), generator=g), "modality": modality,
             "loss_mask": torch.rand(B, T, generator=g) < 0.8}
    losses = modality_losses(Uniform(V), [batch], mask_id, passes=200)
    for name in ("text", "image", "audio", "all"):
        assert losses[name] == pytest.approx(math.log(V), rel=0.03), name


def synthetic_grid(E=1.2, A=30.0, alpha=0.4, B=200.0, beta=0.3):
    rows = []
    for N in (1e4, 3e4, 1e5, 3e5):
        for D in (1e5, 3e5, 1e6):
            base = E + A / N**alpha + B / D**beta
            for m, scale in (("text", 1.0), ("image", 0.8), ("audio", 0.6), ("all", 0.9)):
                rows.append({"N": N, "D": D, "modality": m, "loss": scale * base})
    return pl.DataFrame(rows)


def test_scaling_fit_recovers_a_known_law_and_predicts_the_held_out_size():
    laws, predictions = fit_laws(synthetic_grid())
    assert (laws["heldout_max_rel_error"] < 1e-3).all()
    # the naive prediction, the next size down (1e5) at the same budget, from the law itself (the modality's
    # scale cancels): largest where the B / D^beta term is smallest
    law_at = lambda N, D: 1.2 + 30.0 / N**0.4 + 200.0 / D**0.3  # noqa: E731  (synthetic_grid's defaults)
    worst = max(law_at(1e5, D) / law_at(3e5, D) - 1 for D in (1e5, 3e5, 1e6))
    assert worst > 1e-3 and laws["naive_max_rel_error"].to_numpy() == pytest.approx(worst, rel=1e-9)
    assert predictions.filter("held_out")["N"].unique().to_list() == [3e5]


def test_monotonicity_counts_each_rise_once():
    grid = synthetic_grid()
    assert monotonicity(grid)["not_falling"].sum() == 0
    bumped = grid.with_columns(loss=pl.when((pl.col("N") == 1e5) & (pl.col("D") == 3e5) & (pl.col("modality") == "image"))
                               .then(10.0).otherwise(pl.col("loss")))
    counts = monotonicity(bumped)
    image = {r["axis"]: r["not_falling"] for r in counts.filter(pl.col("modality") == "image").iter_rows(named=True)}
    assert image == {"N": 1, "D": 1} and counts["not_falling"].sum() == 2  # up from below along N and along D
    assert set(counts["pairs"]) == {8, 9}  # 3 budgets x 3 size steps (N), 4 sizes x 2 budget steps (D)


def test_replicate_mean_averages_each_grid_point_over_the_seeds_and_removes_a_seeds_rise():
    grid = synthetic_grid()
    late = grid.with_columns(loss=pl.when((pl.col("N") == 1e5) & (pl.col("modality") == "audio"))
                             .then(pl.col("loss") + 0.2).otherwise(pl.col("loss")))  # a size late to a transition
    early = grid.with_columns(loss=pl.when((pl.col("N") == 1e5) & (pl.col("modality") == "audio"))
                              .then(pl.col("loss") - 0.2).otherwise(pl.col("loss")))
    replicates = pl.concat([g.with_columns(replicate=pl.lit(r)) for r, g in enumerate((late, early, grid))])
    mean = replicate_mean(replicates)
    assert len(mean) == len(grid) and set(mean["replicates"]) == {3}
    joined = mean.join(grid, on=["N", "D", "modality"], suffix="_true")
    np.testing.assert_allclose(joined["loss"], joined["loss_true"], rtol=1e-12)  # (+0.2 - 0.2 + 0) / 3
    bumped = joined.filter((pl.col("N") == 1e5) & (pl.col("modality") == "audio"))["loss_std"]
    np.testing.assert_allclose(bumped, 0.2, rtol=1e-9)  # the sample std of (+0.2, -0.2, 0)
    assert monotonicity(late)["not_falling"].sum() > 0 and monotonicity(mean)["not_falling"].sum() == 0
    three = Config().override(grid_seeds=3)
    assert replicate_seeds(three, 0) == [0, 1, 2] and replicate_seeds(three, 1) == [3, 4, 5]


def test_the_grid_trained_by_worker_processes_equals_the_grid_trained_in_process(tmp_path):
    report.open_run("trimodal_diffusion", tmp_path / "run")
    cfg = Config.preset("smoke").override(widths=(16, 32), budgets=(6, 9), grid_seeds=2, eval_examples=8)
    data = build_data(cfg)
    batches = eval_batches(data, cfg, seed=1)
    serial, models = scaling_grid(cfg.override(grid_workers=1), data, batches, seed=1)
    forked, forked_models = scaling_grid(cfg.override(grid_workers=2), data, batches, seed=1)
    assert serial.equals(forked) and serial["replicate"].unique().sort().to_list() == [0, 1]
    assert len(serial) == 2 * 2 * 2 * 4 and set(models) == set(forked_models) == {(16, 6), (16, 9), (32, 6), (32, 9)}
    reps = serial.filter((pl.col("width") == 32) & (pl.col("steps") == 9) & (pl.col("modality") == "all"))["loss"]
    assert reps[0] != reps[1]  # the replicates are different initialisations and streams
    for key, trained in models.items():
        for a, b in zip(trained.model.parameters(), forked_models[key].model.parameters()):
            torch.testing.assert_close(a, b, rtol=0, atol=0)


def test_batch_size_runs_train_batch_budget_steps_at_the_logical_batch_and_see_the_same_tokens(tmp_path):
    report.open_run("trimodal_diffusion", tmp_path / "run")
    cfg = Config.preset("smoke").override(batch_budget=12, eval_examples=8)
    data = build_data(cfg)
    baseline = sweep_baseline(cfg, data, seed=0)
    finals, curves = batch_sizes(cfg, data, eval_batches(data, cfg, seed=0), 0, baseline)
    assert baseline.steps == cfg.sweep_budget == 9  # the sweep's run is not the batch sweep's at another budget
    for rule in ("SDE rule", "no rule"):
        rows = finals.filter(pl.col("rule") == rule).sort("batch_factor")
        assert rows["steps"].to_list() == [24, 12, 6] and rows["batch_size"].to_list() == [16, 32, 64]
    assert finals.filter(pl.col("batch_factor") == 1.0)["loss"].n_unique() == 1  # one logical-batch run, shared


def test_spread_and_default_helpers():
    finals = pl.DataFrame({"rule": ["SDE rule"] * 3 + ["no rule"] * 3, "loss": [2.0, 2.1, 2.05, 1.8, 2.0, 2.6]})
    assert dict(spread(finals).iter_rows()) == pytest.approx({"SDE rule": 0.1, "no rule": 0.8})
    grid = pl.DataFrame({"order": ["topk", "topk", "random", "random", "ancestral", "ancestral", "threshold", "topk"],
                         "steps": [4, 16, 4, 16, 4, 16, None, 4], "temperature": [1.0] * 7 + [0.0],
                         "quality": [0.6, 0.8, 0.9, 0.5, 0.5, 0.75, 1.0, 0.99]})
    # threshold has no step count, random is the baseline and the 0.99 is at another temperature
    assert choose_default(grid, 1.0) == {"order": "topk", "steps": 16, "temperature": 1.0}
    assert choose_default(grid, 0.0) == {"order": "topk", "steps": 4, "temperature": 0.0}


def test_paired_margin_is_the_mean_difference_and_its_standard_error():
    chosen = np.array([1, 1, 0, 1, 1, 0, 1, 1])
    baseline = np.array([1, 0, 0, 0, 1, 1, 0, 1])
    diff = [0, 1, 0, 1, 0, -1, 1, 0]  # mean 2/8; sample variance (sum (d - 1/4)^2) / 7 = 3.5 / 7
    margin, se = paired_margin(chosen, baseline)
    assert margin == pytest.approx(sum(diff) / 8)
    assert se == pytest.approx(math.sqrt(0.5 / 8))


def test_within_class_spread_is_the_mean_pairwise_l1_distance_per_label():
    codes = np.array([[0, 0], [2, 0], [0, 4], [5, 5], [5, 5]])
    labels = np.array([0, 0, 0, 1, 1])
    # label 0: distances 2, 4, 6 -> 4; label 1: one identical pair -> 0 (a single prototype)
    assert within_class_spread(codes, labels) == pytest.approx((4 + 0) / 2)
    assert within_class_spread(np.repeat(codes[:1], 5, 0), labels) == 0.0


class CharLM:
    """A causal LM over bytes that predicts the uniform distribution: perplexity is its vocab size."""

    class Tok:
        def __call__(self, text, add_special_tokens=False):
            return type("Enc", (), {"input_ids": list(text.encode())})()

    class Model(nn.Module):
        device = torch.device("cpu")

        def forward(self, ids):
            return type("Out", (), {"logits": torch.zeros(*ids.shape, 256)})()

    tokenizer, model = Tok(), Model()


def test_continuation_perplexity_of_a_uniform_lm_is_its_vocabulary_size():
    ppl = continuation_perplexity(CharLM(), ["a prefix", "x"], [" and more", " y"])
    assert ppl == pytest.approx(256.0)
    assert math.isnan(continuation_perplexity(CharLM(), ["a"], [""]))


class _Bytes:
    """A byte-level text codec with no specials of its own."""

    vocab_size, special_ids = 256, {}

    def encode(self, text):
        return list(text.encode())

    def decode(self, ids):
        return bytes(ids).decode()


def test_canvas_puts_every_text_to_image_target_at_the_same_positions():
    from types import SimpleNamespace

    from atelier.studies.trimodal_diffusion.layout import CanvasVocab

    vocab = CanvasVocab(_Bytes(), SimpleNamespace(codebook_size=4))
    image = np.arange(64) % 16
    for text in ("7", "a handwritten digit seven"):
        example = vocab.encode("t2i", image, text, length=100)
        generated = torch.nonzero(example.loss_mask).flatten().tolist()
        assert generated == list(range(2, 67))  # 64 codes and </img>, right after <task:draw> <img>
        assert example.tokens[2:66].tolist() == (image + vocab.offset["image"]).tolist()
        back = vocab.decode(example.tokens)
        assert back["condition"] == text
        np.testing.assert_array_equal(back["target"], image)
        prompt = vocab.prompt("t2i", text, 100)
        assert (prompt.tokens == vocab.mask_id).nonzero().flatten().tolist() == generated
        assert torch.equal(prompt.tokens[~example.loss_mask], example.tokens[~example.loss_mask])
    captioning = vocab.encode("i2t", "seven", image, length=100)
    assert captioning.tokens[2:66].tolist() == example.tokens[2:66].tolist()  # one canvas for both directions
    with pytest.raises(ValueError, match="does not fit length"):
        vocab.encode("t2i", image, "x" * 40, length=100)


class _CaptionReader(nn.Module):
    """At every position, logit 10 on the image code equal to the digit its caption names (0 elsewhere);
    or, blind, logit 10 on code 0 whatever the caption."""

    def __init__(self, vocab, blind=False):
        super().__init__()
        from atelier.data.media import CAPTION_TEMPLATES, caption

        self.vocab, self.blind = vocab, blind
        self.digit = {caption(d, t): d for d in range(10) for t in range(len(CAPTION_TEMPLATES))}

    def forward(self, tokens):
        logits = torch.zeros(*tokens.shape, len(self.vocab))
        for row, seq in zip(logits, tokens):
            digit = 0 if self.blind else self.digit[self.vocab.decode(seq)["condition"]]
            row[:, self.vocab.offset["image"] + digit] = 10.0
        return logits


def test_caption_binding_gap_is_the_logit_margin_for_a_caption_reader_and_zero_for_a_blind_model():
    from types import SimpleNamespace

    from atelier.studies.trimodal_diffusion.binding import caption_binding
    from atelier.studies.trimodal_diffusion.layout import CanvasVocab

    vocab = CanvasVocab(_Bytes(), SimpleNamespace(codebook_size=4))
    labels = np.arange(300) % 10
    images = pl.DataFrame({"id": [f"d{i}" for i in range(300)], "image": [[int(d)] * 64 for d in labels],
                           "label": labels}, schema_overrides={"image": pl.List(pl.Int64)})
    data = SimpleNamespace(vocab=vocab, images=images, seq_len=100)
    # own caption: the true code holds logit 10 against V - 1 zeros; other caption: the true code is one of the zeros
    own = math.log1p((len(vocab) - 1) * math.exp(-10))
    reader = caption_binding(_CaptionReader(vocab), data, n=50)
    assert reader["own"] == pytest.approx(own, rel=1e-4)
    assert reader["gap"] == pytest.approx(10.0, rel=1e-4)
    assert caption_binding(_CaptionReader(vocab, blind=True), data, n=50)["gap"] == pytest.approx(0.0, abs=1e-6)
