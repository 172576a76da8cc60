"""The study's claims, measured from the front tables (see fronts.gap for the comparison)."""

from __future__ import annotations

import polars as pl

from atelier.report import Claim
from atelier.studies.unmasking_policy import fronts


def gain_ratio(points: pl.DataFrame, transferred: str = "policy", trained: str = "policy (trained here)") -> float:
    """(transferred policy - random) / (policy trained in that setting - random), by front gap."""
    pts = points.filter(pl.col("task") == "all")
    reference = fronts.gap(pts, trained, "random")
    return fronts.gap(pts, transferred, "random") / reference if reference > 0 else float("nan")


def strongest_gap(points: pl.DataFrame, task: str = "all") -> float:
    """The policy's front gap to its strongest heuristic (min over heuristics)."""
    pts = points.filter(pl.col("task") == task)
    return min(fronts.gap(pts, "policy", h) for h in fronts.HEURISTICS if h in pts["method"].to_list())


def degradation(in_domain: pl.DataFrame, ood: pl.DataFrame) -> tuple[float, float]:
    """The policy's gap to its strongest heuristic in domain minus out of domain, and the bootstrap
    standard error of that difference (the two evaluations resample their own examples, so the
    spread of the difference over replicates combines both errors)."""
    value = strongest_gap(in_domain) - strongest_gap(ood)
    paired = zip(fronts.replicates(in_domain), fronts.replicates(ood))
    return value, fronts.spread([strongest_gap(a) - strongest_gap(b) for a, b in paired])


def headroom(points: pl.DataFrame, task: str = "all") -> float:
    """The strongest heuristic's front gap to random's: how much an unmasking rule can gain on this
    task, so how much a policy could lose out of domain."""
    pts = points.filter(pl.col("task") == task)
    present = pts["method"].to_list()
    return max(fronts.gap(pts, h, "random") for h in fronts.HEURISTICS if h != "random" and h in present)


def measure_claims(order: pl.DataFrame, full: pl.DataFrame, semi_ar: pl.DataFrame, longer: pl.DataFrame,
                   second: pl.DataFrame, ood: pl.DataFrame, ood_task: str) -> list[Claim]:
    add = order.filter((pl.col("model") == "A") & (pl.col("task") == "addition"))
    by = dict(zip(add["decoding"], add["accuracy"]))
    semi = semi_ar.filter(pl.col("task") == "all")
    lost, lost_se = degradation(full, ood)
    return [
        Claim("order_matters", "dLLM A's addition accuracy, one token per step: confidence order minus random order",
              by["confidence order, 1 per step"] - by["random order, 1 per step"], ">=", 0.05, "order"),
        Claim("full_diffusion_front", "full diffusion: policy front minus the strongest heuristic's front "
              "(mean accuracy over shared NFE)", strongest_gap(full), ">=", 0.0, "fronts"),
        Claim("semi_ar_vs_threshold", "semi-AR blocks: policy front minus the threshold front (mean accuracy over "
              "shared NFE), within 2 points", fronts.gap(semi, "policy", "threshold"), ">=", -0.02, "fronts"),
        Claim("transfer_length", "2x buffer: gain over random of the transferred policy / of a policy trained at 2x",
              gain_ratio(longer), ">=", 0.9, "transfer"),
        Claim("transfer_dllm", "second dLLM: gain over random of the transferred policy / of a policy trained on it",
              gain_ratio(second), ">=", 0.9, "transfer"),
        Claim("ood_degradation", f"policy's gap to its strongest heuristic: in domain minus out of domain ({ood_task}) "
              f"= {lost:+.4f}, minus two bootstrap standard errors ({lost_se:.4f})", lost - 2 * lost_se, ">", 0.0,
              "transfer"),
        Claim("ood_task_has_headroom", f"out of domain ({ood_task}): the strongest heuristic's front minus random's "
              "(at least 1 point, or the degradation above measures nothing)", headroom(ood), ">=", 0.01,
              "transfer"),
    ]
