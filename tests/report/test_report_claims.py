"""Claim.holds is computed from value, op and threshold; NaN never holds; claims.json round-trips."""

import math

import pytest

from atelier.report import Claim, load_claims, save_claims

# (value, op, threshold, holds) written out by hand from the meaning of each comparison
TRUTH = [
    (2.0, ">=", 2.0, True), (1.9, ">=", 2.0, False),
    (2.0, "<=", 2.0, True), (2.1, "<=", 2.0, False),
    (2.1, ">", 2.0, True), (2.0, ">", 2.0, False),
    (1.9, "<", 2.0, True), (2.0, "<", 2.0, False),
]


@pytest.mark.parametrize("value, op, threshold, holds", TRUTH)
def test_holds_follows_the_comparison(value, op, threshold, holds):
    assert Claim("c", "s", value, op, threshold).holds is holds


@pytest.mark.parametrize("op", [">=", "<=", ">", "<"])
def test_nan_never_holds(op):
    assert Claim("c", "s", math.nan, op, 0.0).holds is False


def test_unknown_op_is_rejected_naming_the_valid_ones():
    with pytest.raises(ValueError, match=">=.*<="):
        Claim("c", "s", 1.0, "==", 1.0)


def test_claims_json_round_trips_with_holds_and_nan_as_null(tmp_path):
    table = save_claims([Claim("a", "s", 0.5, "<", 1.0, "fig"), Claim("b", "s", math.nan, ">", 0.0)], tmp_path)
    saved = load_claims(tmp_path)
    assert [(c["name"], c["value"], c["holds"]) for c in saved] == [("a", 0.5, True), ("b", None, False)]
    assert table["holds"].to_list() == [True, False]
    with pytest.raises(ValueError, match="unique"):
        save_claims([Claim("a", "s", 1, "<", 2), Claim("a", "s", 1, "<", 2)], tmp_path)
