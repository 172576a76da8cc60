"""The study's claims, measured from the cascade summary at a matched CALL rate."""

from __future__ import annotations

import polars as pl

from atelier.report import Claim


def measure_claims(summary: pl.DataFrame, matched: pl.DataFrame) -> list[Claim]:
    at = {r["rule"]: r for r in matched.iter_rows(named=True)}
    lacy = at["lacy"]
    figure = "factscore_vs_call_rate"
    claims = [
        Claim("lacy_beats_loss_factscore", "LaCy FactScore minus loss-only FactScore at the matched CALL rate",
              lacy["factscore"] - at["loss"]["factscore"], ">", 0.0, figure),
        Claim("lacy_beats_rho_factscore", "LaCy FactScore minus Rho-1 FactScore at the matched CALL rate",
              lacy["factscore"] - at["rho"]["factscore"], ">", 0.0, figure),
        Claim("lacy_lowest_leakage", "LaCy leakage minus the lowest other rule's leakage (plain LM included)",
              lacy["leakage"] - min(min(r["leakage"] for k, r in at.items() if k != "lacy"),
                                    float(summary.filter(pl.col("rule") == "none")["leakage"].min())),
              "<", 0.0, "leakage_vs_call_rate"),
        Claim("call_rates_overlap", "width of the CALL-rate range every rule covers (matching interpolates inside it)",
              float(matched["range_high"][0] - matched["range_low"][0]), ">=", 0.0, figure),
    ]
    delegating = summary.filter(pl.col("rule") != "none")
    claims.append(Claim("every_rule_calls", "smallest CALL rate over rules and budgets with a <call> budget",
                        float(delegating["call_rate"].min()), ">", 0.0, figure))
    return claims
