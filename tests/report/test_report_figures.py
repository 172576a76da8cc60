"""save_figure writes an SVG that parses, a real PNG and a Vega-Lite spec that loads; big data is thinned."""

import json
import xml.etree.ElementTree as ET

import altair as alt
import pandas as pd
import polars as pl
import pytest

from atelier.report import save_figure
from atelier.report.figures import MAX_ROWS

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def line_chart(data):
    return alt.Chart(data).mark_line().encode(
        x=alt.X("step:Q", title="step"), y=alt.Y("loss:Q", title="loss (nats)")).properties(title="loss")


@pytest.mark.parametrize("frame", [pl.DataFrame, pd.DataFrame])
def test_save_figure_writes_svg_png_and_vega_lite(tmp_path, frame):
    chart = line_chart(frame({"step": [0, 1, 2], "loss": [3.0, 2.0, 1.5]}))
    save_figure(chart, "loss", directory=tmp_path)
    root = ET.parse(tmp_path / "loss.svg").getroot()
    assert root.tag.endswith("svg")
    assert (tmp_path / "loss.png").read_bytes()[:8] == PNG_SIGNATURE
    spec = json.loads((tmp_path / "loss.vl.json").read_text())
    assert spec["mark"]["type"] == "line" if isinstance(spec["mark"], dict) else spec["mark"] == "line"
    (values,) = spec["datasets"].values()
    assert [v["loss"] for v in values] == [3.0, 2.0, 1.5]


def test_a_chart_over_the_row_limit_is_downsampled_evenly_and_saves(tmp_path):
    n = 3 * MAX_ROWS + 1
    data = pl.DataFrame({"step": list(range(n)), "loss": [1.0 / (s + 1) for s in range(n)]})
    with pytest.warns(UserWarning, match=f"{n} rows"):
        save_figure(line_chart(data), "long", directory=tmp_path)
    (values,) = json.loads((tmp_path / "long.vl.json").read_text())["datasets"].values()
    steps = [v["step"] for v in values]
    assert 0 < len(steps) <= MAX_ROWS
    assert steps[0] == 0 and len({b - a for a, b in zip(steps, steps[1:])}) == 1  # every k-th row, in order
    assert (tmp_path / "long.png").read_bytes()[:8] == PNG_SIGNATURE


def test_figure_name_must_be_a_file_stem(tmp_path):
    with pytest.raises(ValueError, match="a/b"):
        save_figure(line_chart(pl.DataFrame({"step": [0], "loss": [1.0]})), "a/b", directory=tmp_path)
