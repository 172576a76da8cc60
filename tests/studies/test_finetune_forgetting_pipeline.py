"""Study 08 end to end on random tokens: a finetuning run leaves the pretrained model untouched,
its step-0 row is the pretrained model's loss, and the rows follow the evaluation steps."""

import types

import pytest
import torch

from atelier import report
from atelier.nn import Transformer
from atelier.studies.finetune_forgetting import Config, Corpora, Pretrained, eval_steps, finetune, pretrain
from atelier.studies.finetune_forgetting.data import loader
from atelier.studies.finetune_forgetting.models import model_config, pretrain_steps
from atelier.train import NextTokenLoss, evaluate


def test_finetune_tracks_both_losses_from_a_copy(tmp_path):
    report.open_run("finetune_forgetting", tmp_path / "run")
    cfg = Config.preset("smoke").override(seq_len=16, finetune_steps=6, finetune_batch=4, eval_points=3,
                                             eval_even=2)
    g = torch.Generator().manual_seed(0)
    blocks = lambda n: torch.randint(0, 64, (n, cfg.seq_len), generator=g)  # noqa: E731
    corpora = Corpora(tokenizer=types.SimpleNamespace(vocab_size=64), pretrain=blocks(64), pretrain_val=blocks(8),
                      target={"python-stdlib": blocks(8)}, target_val={"python-stdlib": blocks(8)},
                      law_val={"python-stdlib": blocks(16)})
    torch.manual_seed(0)
    model = Transformer(model_config(cfg, 16, 64))
    base = Pretrained(16, model.num_params(), model, metrics=None)
    before = {k: v.clone() for k, v in model.state_dict().items()}
    rows = finetune(cfg, base, corpora, "python-stdlib", 4 * cfg.seq_len, p=0.25)
    assert all(torch.equal(before[k], v) for k, v in model.state_dict().items())  # the base is not trained
    assert rows["step"].to_list() == [0, *eval_steps(6, 3, 2)]
    pt0 = evaluate(model, NextTokenLoss(), loader(corpora.pretrain_val, 4))["loss"]
    assert rows["pretrain_loss"][0] == pytest.approx(pt0)
    assert rows["injected"][0] == 6  # 24 sequences at p = 1/4
    assert rows["epochs"][-1] == pytest.approx(18 / 4)  # 18 target sequences over a set of 4 blocks


def test_early_stopped_run_is_a_prefix_of_the_full_run(tmp_path):
    """With early_stop the run evaluates the target loss on law_val and stops cfg.patience evaluations
    past its minimum; its rows are those of the full-length run on the same set (constant LR)."""
    report.open_run("finetune_forgetting", tmp_path / "run")
    cfg = Config.preset("smoke").override(seq_len=16, finetune_steps=12, finetune_batch=4, finetune_lr=3e-2,
                                             eval_points=12, eval_even=1, patience=2)
    g = torch.Generator().manual_seed(1)
    blocks = lambda n: torch.randint(0, 64, (n, cfg.seq_len), generator=g)  # noqa: E731
    law_val = {"python-stdlib": blocks(16)}
    corpora = Corpora(tokenizer=types.SimpleNamespace(vocab_size=64), pretrain=blocks(64), pretrain_val=blocks(8),
                      target={"python-stdlib": blocks(2)}, target_val=law_val, law_val=law_val)
    torch.manual_seed(0)
    model = Transformer(model_config(cfg, 16, 64))
    base = Pretrained(16, model.num_params(), model, metrics=None)
    full = finetune(cfg, base, corpora, "python-stdlib", 2 * cfg.seq_len, p=0.0)
    stopped = finetune(cfg, base, corpora, "python-stdlib", 2 * cfg.seq_len, p=0.0, early_stop=True)
    assert stopped.height < full.height  # two blocks memorised: the target loss turns up and the run stops
    assert stopped.equals(full.head(stopped.height))
    lowest = int(stopped["target_loss"].arg_min())
    assert stopped.height - 1 - lowest == cfg.patience


def test_pretraining_reads_a_prefix_of_the_stream_and_refuses_a_short_one(tmp_path):
    """A size trains on its own budget of the stream's first blocks; a stream shorter than the budget
    is an error naming both, not a silently shorter pretraining."""
    report.open_run("finetune_forgetting", tmp_path / "run")
    cfg = Config.preset("smoke").override(seq_len=16, pretrain_batch=4, pretrain_tokens_per_param=0.03)
    steps = pretrain_steps(cfg, 16)
    g = torch.Generator().manual_seed(2)
    blocks = lambda n: torch.randint(0, 64, (n, cfg.seq_len), generator=g)  # noqa: E731
    corpora = lambda n: Corpora(tokenizer=types.SimpleNamespace(vocab_size=64), pretrain=blocks(n),  # noqa: E731
                                pretrain_val=blocks(4), target={}, target_val={}, law_val={})
    stream = corpora(steps * cfg.pretrain_batch)
    poison = torch.full((8, cfg.seq_len), 64)  # past the vocabulary: reading one of these blocks would raise
    trained = pretrain(cfg, Corpora(**{**vars(stream), "pretrain": torch.cat([stream.pretrain, poison])}), 16)
    assert trained.metrics["step"].max() == steps
    with pytest.raises(ValueError, match=f"{steps} steps of 4 blocks, but the stream holds {steps * 4 - 1}"):
        pretrain(cfg, corpora(steps * cfg.pretrain_batch - 1), 16)
