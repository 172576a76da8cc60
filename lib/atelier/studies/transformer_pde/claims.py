"""The claims of study 10, each measured from an experiment's table."""

from __future__ import annotations

import polars as pl

from atelier.report import Claim
from atelier.studies.transformer_pde.config import Config


def _signature(signatures: pl.DataFrame, regime: str, name: str) -> float:
    row = signatures.filter((pl.col("regime") == regime) & (pl.col("signature") == name))
    return float(row["value"][0]) if len(row) else float("nan")


def study_claims(
    cfg: Config, moment_summary: pl.DataFrame, normality: pl.DataFrame, signatures: pl.DataFrame,
    ranks: pl.DataFrame, mean_field_rates: pl.DataFrame, clusters: pl.DataFrame,
) -> list[Claim]:
    n_max = max(cfg.gauss_ns)
    at_n_max = moment_summary.filter(pl.col("n") == n_max)
    rates = moment_summary.group_by("variant").agg(pl.col("rate").first())["rate"]
    z_max = normality.group_by("variant").agg(pl.col("z").abs().max())
    z_of = lambda kind: float(z_max.filter(pl.col("variant") == kind)["z"][0])
    horizon_rates = mean_field_rates.filter(pl.col("t") == mean_field_rates["t"].max())["rate"]
    causal = clusters.filter(pl.col("mask") == "causal").sort("t")
    sig = lambda regime, name: _signature(signatures, regime, name)
    return [
        Claim("covariance_matches_ode",
              f"Particle covariance matches the Gaussian ODE (softmax, L2, multi-head): worst relative "
              f"Frobenius error up to t = {cfg.gauss_t:g} at n = {n_max}, max over variants",
              at_n_max["cov_error"].max(), "<=", 0.05, "moment_errors"),
        Claim("error_rate_at_most", "Covariance error ~ n^rate: largest fitted rate over variants",
              rates.max(), "<=", -0.3, "moment_errors"),
        Claim("error_rate_at_least", "Covariance error ~ n^rate: smallest fitted rate over variants",
              rates.min(), ">=", -0.7, "moment_errors"),
        Claim("softmax_stays_gaussian",
              "Softmax keeps Gaussian data Gaussian: max over time of |z| of Mardia's skewness and kurtosis",
              z_of("softmax"), "<=", 3.0, "normality"),
        Claim("sigmoid_leaves_gaussians",
              "Sigmoid attention does not (contrast): max over time of |z| of Mardia's statistics",
              z_of("sigmoid"), ">=", 3.0, "normality"),
        Claim("to_zero_trace_vanishes", "K = -Q, V SPD: S -> 0, max over initial S of tr S(T) / tr S(0)",
              sig("to_zero", "max_final_trace_ratio"), "<=", 0.01, "regimes"),
        Claim("rank_one_collapse", "Q = q, K = -q, V = I: max over initial S of lambda_min / lambda_max at T",
              sig("rank_one", "max_final_eig_ratio"), "<=", 0.01, "regimes"),
        Claim("rank_one_orthogonal_to_q", "Q = q, K = -q, V = I: the limit line is orthogonal to q, max |<u, q>|",
              sig("rank_one", "max_alignment_with_q"), "<=", 0.01, "regimes"),
        Claim("two_lines_reached", "A + A^T indefinite: fraction of S/tr S ending rank-one on an isotropic line",
              sig("two_lines", "fraction_on_lines"), ">=", 0.9, "regimes"),
        Claim("two_lines_both_used", "A + A^T indefinite: share of the less visited of the two lines",
              sig("two_lines", "minority_line_share"), ">=", 0.1, "regimes"),
        Claim("blow_up_in_finite_time",
              "A + A^T positive definite, V = I: tr S blows up at t* = 1 / lambda_max(S0^1/2 (A + A^T) S0^1/2), "
              "max relative error of the measured blow-up time",
              sig("blow_up", "max_blowup_time_error"), "<=", 0.01, "regimes"),
        Claim("blow_up_rank_one", "A + A^T positive definite: S / tr S becomes rank one, max lambda_min / lambda_max",
              sig("blow_up", "max_eig_ratio_at_blowup"), "<=", 0.01, "regimes"),
        Claim("stationary_rank", "K = -Q: fraction of draws whose stationary rank is d - rank Q = ceil(d/2)",
              (ranks["rank"] == ranks["bound"]).mean(), ">=", 0.95, "ranks"),
        Claim("mean_field_rate", "W2 between n- and 2n-particle systems at the horizon ~ n^rate: largest rate",
              horizon_rates.max(), "<=", -0.25, "mean_field"),
        Claim("causal_clustering", "Causal attention on the sphere: clusters at the horizon / tokens",
              causal["clusters"][-1] / cfg.cluster_n, "<=", 0.05, "clustering"),
    ]
