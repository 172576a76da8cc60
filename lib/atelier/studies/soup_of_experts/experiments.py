"""The study's experiments, one function per notebook section.

prepare            the domains as token blocks, held-out domain weights
train_main         the soup (cfg.n_experts) and the generalist, same steps and tokens
heldout_losses     soup vs generalist on held-out h
baselines          specialists from scratch and the finetuned generalist on a few h (loss vs compute)
expert_sweep       held-out loss against the number of experts
few_sample_targets h estimated from a few samples (MiniLM kNN histograms), soup vs generalist
specialist_cost    seconds to instantiate a specialist vs seconds to train one
"""

from __future__ import annotations

import dataclasses
import time

import numpy as np
import polars as pl
import torch

from atelier import data, pretrained
from atelier.studies.soup_of_experts.config import Config
from atelier.studies.soup_of_experts.domains import describe_domains, domain_blocks
from atelier.studies.soup_of_experts.evaluation import domain_losses, soup_losses
from atelier.studies.soup_of_experts.targets import draw_samples, knn_histogram
from atelier.studies.soup_of_experts.training import Trained, meta_distribution, train_on_h, train_soup

HELDOUT_SEED, TARGET_SEED = 10_000, 20_000  # offsets: held-out and target draws never reuse the training stream


@dataclasses.dataclass
class Prepared:
    tokenizer: data.TextTokenizer
    train: dict[str, torch.Tensor]  # domain -> Long[train_blocks, T]
    val: dict[str, torch.Tensor]  # domain -> Long[val_blocks, T]: every loss on a mixture
    test: dict[str, torch.Tensor]  # domain -> Long[., T]: where few-sample targets come from
    heldout: np.ndarray  # [heldout, n_domains] domain weights unseen in training
    domains: pl.DataFrame  # blocks and tokens per domain


def prepare(cfg: Config, seed: int) -> Prepared:
    tok = data.get_tokenizer(cfg.tokenizer, cfg.vocab_size)
    train = domain_blocks(tok, cfg.domains, "train", cfg.train_blocks, cfg.seq_len, seed)
    val = domain_blocks(tok, cfg.domains, "val", cfg.val_blocks, cfg.seq_len, seed)
    test = domain_blocks(tok, cfg.domains, "test", max(cfg.target_samples, cfg.val_blocks), cfg.seq_len, seed)
    heldout = meta_distribution(cfg).sample(cfg.heldout, seed + HELDOUT_SEED)
    return Prepared(tok, train, val, test, heldout, describe_domains(train, val))


def h_label(h: np.ndarray, domains) -> str:
    """The non-zero weights of h as text, e.g. 'fortunes 0.71 + manpages 0.29'."""
    return " + ".join(f"{d} {w:.2f}" for d, w in zip(domains, h) if w > 0.005)


def meta_samples(cfg: Config, n: int, seed: int) -> pl.DataFrame:
    """n draws of the meta-distribution in long form: draw, domain, weight."""
    hs = meta_distribution(cfg).sample(n, seed)
    return pl.DataFrame({"draw": np.repeat(np.arange(n), len(cfg.domains)),
                         "domain": list(cfg.domains) * n, "weight": hs.flatten()})


@dataclasses.dataclass
class Main:
    soup: Trained
    generalist: Trained
    generalist_domain_losses: np.ndarray  # [n_domains] on the val blocks


def train_main(cfg: Config, prep: Prepared, seed: int) -> Main:
    """The soup with cfg.n_experts experts and the generalist on the uniform mixture."""
    n = len(cfg.domains)
    soup = train_soup(cfg, prep.train, cfg.n_experts, prep.tokenizer.vocab_size, seed)
    generalist = train_on_h(cfg, prep.train, np.full(n, 1.0 / n), seed, "generalist",
                            vocab_size=prep.tokenizer.vocab_size)
    return Main(soup, generalist, domain_losses(generalist.model, prep.val))


def training_curves(main: Main) -> pl.DataFrame:
    """Logged training loss of soup and generalist: model, step, loss, tokens_per_s."""
    frames = []
    for name, run in (("soup (h ~ meta-distribution)", main.soup), ("generalist (uniform h)", main.generalist)):
        frames.append(run.metrics.select("step", "loss", "tokens_per_s").drop_nulls("loss")
                      .with_columns(pl.lit(name).alias("model")))
    return pl.concat(frames)


def step_cost(main: Main, sizes: dict[str, int]) -> pl.DataFrame:
    """Median training throughput and parameter counts of soup and generalist."""
    rows = []
    for name, run in (("soup", main.soup), ("generalist", main.generalist)):
        tps = run.metrics["tokens_per_s"].drop_nulls()[1:]  # the first window includes start-up
        rows.append({"model": name, "tokens_per_s": float(tps.median()), "instantiated_params": sizes["instantiated"],
                     "stored_params": sizes["stored"] if name == "soup" else sizes["instantiated"]})
    return pl.DataFrame(rows)


def heldout_losses(cfg: Config, prep: Prepared, main: Main) -> pl.DataFrame:
    """Loss on each held-out h: the soup instantiated at h and the generalist."""
    soup = soup_losses(main.soup.model, prep.heldout, prep.val)
    generalist = prep.heldout @ main.generalist_domain_losses
    return pl.DataFrame({"h_index": np.arange(len(soup)), "h": [h_label(h, cfg.domains) for h in prep.heldout],
                         "soup": soup, "generalist": generalist, "gap": generalist - soup})


def baselines(cfg: Config, prep: Prepared, main: Main, seed: int) -> pl.DataFrame:
    """Loss-vs-compute curves on the first cfg.specialist_h held-out h: a specialist trained
    from scratch and the generalist finetuned, with their training seconds (evaluations excluded).
    Columns: h_index, h, method, step, tokens, loss, seconds."""
    frames = []
    tokens_per_step = cfg.batch_size * cfg.seq_len
    for i, h in enumerate(prep.heldout[: cfg.specialist_h]):
        runs = {
            "specialist from scratch": dict(vocab_size=prep.tokenizer.vocab_size, steps=cfg.specialist_steps),
            "generalist finetuned": dict(model=main.generalist.model, steps=cfg.finetune_steps, lr=cfg.finetune_lr),
        }
        for method, options in runs.items():
            start = time.perf_counter()
            run = train_on_h(cfg, prep.train, h, seed + 1 + i, f"{method.split()[0]}-{i}", val_blocks=prep.val,
                             **options)
            seconds = time.perf_counter() - start - run.curve_seconds
            frames.append(run.curve.with_columns(
                pl.lit(i, dtype=pl.Int64).alias("h_index"), pl.lit(h_label(h, cfg.domains)).alias("h"), pl.lit(method).alias("method"),
                (pl.col("step") * tokens_per_step).alias("tokens"), pl.lit(seconds).alias("seconds")))
    return pl.concat(frames).select("h_index", "h", "method", "step", "tokens", "loss", "seconds")


def expert_sweep(cfg: Config, prep: Prepared, main: Main, seed: int) -> pl.DataFrame:
    """Mean held-out loss of soups with each of cfg.expert_counts experts (the main soup reused)."""
    rows = []
    for n in cfg.expert_counts:
        soup = main.soup if n == cfg.n_experts else train_soup(cfg, prep.train, n, prep.tokenizer.vocab_size, seed)
        losses = soup_losses(soup.model, prep.heldout, prep.val)
        rows.append({"n_experts": n, "stored_params": soup.model.num_params()["stored"],
                     "heldout_loss": float(losses.mean()),
                     "tokens_per_s": float(soup.metrics["tokens_per_s"].drop_nulls()[1:].median())})
    return pl.DataFrame(rows)


def few_sample_targets(cfg: Config, prep: Prepared, main: Main, seed: int) -> pl.DataFrame:
    """For cfg.targets random target mixtures h*: h estimated from cfg.target_samples test
    sequences by kNN histograms of MiniLM embeddings against labelled training sequences; the
    loss on h* of the soup at the estimate, the soup at h* (oracle) and the generalist."""
    embedder = pretrained.load("minilm-l6")
    refs = torch.cat([blocks[: cfg.reference_blocks] for blocks in prep.train.values()])  # [D * R, T]
    labels = torch.arange(len(cfg.domains)).repeat_interleave(cfg.reference_blocks)
    ref_emb = embedder.encode(prep.tokenizer.decode_batch(refs.tolist()))
    rng = np.random.default_rng(seed + TARGET_SEED)
    true_h = meta_distribution(cfg).sample(cfg.targets, seed + TARGET_SEED)
    estimates = []
    for h in true_h:
        samples, _ = draw_samples(prep.test, h, cfg.target_samples, rng)
        emb = embedder.encode(prep.tokenizer.decode_batch(samples.tolist()))
        estimates.append(knn_histogram(emb, ref_emb, labels, len(cfg.domains), cfg.neighbours))
    estimates = np.stack(estimates)
    soup = main.soup.model
    return pl.DataFrame({
        "target": np.arange(cfg.targets), "h_true": [h_label(h, cfg.domains) for h in true_h],
        "h_estimated": [h_label(h, cfg.domains) for h in estimates],
        "tv_error": 0.5 * np.abs(estimates - true_h).sum(1),
        "generalist": true_h @ main.generalist_domain_losses,
        "soup_estimated_h": soup_losses(soup, estimates, prep.val, evaluate_on=true_h), "soup_true_h": soup_losses(soup, true_h, prep.val),
    })


def specialist_cost(main: Main, prep: Prepared, curves: pl.DataFrame, repeats: int = 20) -> pl.DataFrame:
    """Seconds to produce one specialist: instantiating the soup (median over repeats and held-out h)
    vs training one from scratch (the baseline runs)."""
    soup = main.soup.model
    times = []
    for i in range(repeats):
        h = torch.as_tensor(prep.heldout[i % len(prep.heldout)], dtype=torch.float32, device=soup.experts.device)
        start = time.perf_counter()
        soup.specialist(h)
        times.append(time.perf_counter() - start)
    trained = curves.filter(pl.col("method") == "specialist from scratch").group_by("h_index").agg(pl.col("seconds").first())
    return pl.DataFrame({
        "how": ["instantiate the soup at h", "train a specialist from scratch"],
        "seconds": [float(np.median(times)), float(trained["seconds"].median())],
        "steps": [0, int(curves.filter(pl.col("method") == "specialist from scratch")["step"].max())],
    })
