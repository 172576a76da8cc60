"""save_table: parquet round-trips exactly; CSV and a booktabs .tex are written alongside."""

import math

import polars as pl

from atelier.report import save_table


def test_parquet_round_trips_and_csv_and_tex_exist(tmp_path):
    df = pl.DataFrame({"width": [64, 128], "lr": [1e-3, math.nan], "name": ["a_b", "c&d"],
                       "widths": [[1, 2], [3]]})
    save_table(df, "optima", directory=tmp_path)
    assert pl.read_parquet(tmp_path / "optima.parquet").equals(df)
    csv = pl.read_csv(tmp_path / "optima.csv")
    assert csv["width"].to_list() == [64, 128] and csv["name"].to_list() == ["a_b", "c&d"]
    tex = (tmp_path / "optima.tex").read_text()
    assert r"\toprule" in tex and r"\bottomrule" in tex
    assert r"a\_b" in tex and r"c\&d" in tex  # LaTeX specials escaped


def test_pandas_frames_are_accepted(tmp_path):
    df = pl.DataFrame({"x": [1, 2, 3]})
    out = save_table(df.to_pandas(), "t", directory=tmp_path)
    assert out.equals(df) and pl.read_parquet(tmp_path / "t.parquet").equals(df)
