"""Study 06's claims, measured from the experiment tables at ``cfg.probe_layer``."""

from __future__ import annotations

import polars as pl

from atelier.report import Claim
from atelier.studies.truth_probes.config import Config


def measure_claims(cfg: Config, transfer: pl.DataFrame, overlap: pl.DataFrame, cross: pl.DataFrame,
                   geometry: pl.DataFrame) -> list[Claim]:
    """The paper's findings as claims (logistic probes, held-out AUROC everywhere)."""
    m = transfer.filter((pl.col("layer") == cfg.probe_layer) & (pl.col("probe") == "logistic"))
    diag = m.filter(pl.col("in_task"))["auroc"]
    off = m.filter(~pl.col("in_task"))["auroc"]
    at = cross.filter(pl.col("layer") == cfg.probe_layer)
    per_task = at.filter(pl.col("method") == "per_task")["auroc"].mean()

    def gap(method: str) -> float:
        return at.filter((pl.col("method") == method) & (pl.col("setting") == "held_out_task"))["auroc"].mean() - per_task

    jac = overlap.filter(pl.col("k") == cfg.claim_support)["jaccard"].mean()
    decoding = geometry.filter(pl.col("layer") == cfg.probe_layer)["task_accuracy"][0]
    L = cfg.probe_layer
    return [
        Claim("in_task_auroc", f"share of tasks whose cross-validated in-task AUROC is >= 0.75 (layer {L}); "
              "most tasks means more than half", (diag >= 0.75).mean(), ">", 0.5, "transfer"),
        Claim("transfer_gap", f"mean off-diagonal transfer AUROC minus mean in-task AUROC (layer {L})",
              off.mean() - diag.mean(), "<=", -0.15, "transfer"),
        Claim("l1_support_jaccard", f"mean pairwise Jaccard of L1 probe supports at matched sparsity "
              f"k={cfg.claim_support} (layer {L})", jac, "<=", 0.1, "sparse"),
        Claim("task_decodable", f"held-out accuracy of a linear task classifier on activations (layer {L})",
              decoding, ">=", 0.95, "geometry"),
        Claim("pooled_below_in_task", f"pooled probe on a held-out task: mean AUROC minus mean in-task "
              f"AUROC (layer {L})", gap("pooled"), "<", 0.0, "cross_task"),
        Claim("mixture_below_in_task", f"k-means-gated mixture of probes on a held-out task: mean AUROC minus "
              f"mean in-task AUROC (layer {L})", gap("mixture"), "<", 0.0, "cross_task"),
    ]
