"""save_figure writes an SVG that parses, a real PNG and a Vega-Lite spec that loads; big data is thinned."""

import json
import xml.etree.ElementTree as ET

import altair as alt
import pandas as pd
import polars as pl
import pytest
import vl_convert as vlc

from atelier.report import save_figure, tight_log_scale
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


def _numeric_tick_labels(chart) -> list[float]:
    """The numeric text in the chart's rendered SVG: the y axis's tick labels (x is nominal here)."""
    root = ET.fromstring(vlc.vegalite_to_svg(chart.to_json()))
    labels = []
    for element in root.iter():
        if element.tag.endswith("text") and element.text:
            try:
                labels.append(float(element.text.replace(",", "")))
            except ValueError:
                pass
    return labels


def test_tight_log_scale_ends_at_the_data_where_a_default_log_axis_spans_whole_decades():
    data = pl.DataFrame({"size": ["a", "b", "c"], "loss": [4.8, 5.5, 6.2]})

    def chart(scale):
        return alt.Chart(data).mark_point().encode(x="size:N", y=alt.Y("loss:Q", title="loss", scale=scale))

    default = _numeric_tick_labels(chart(alt.Scale(type="log")))
    tight = _numeric_tick_labels(chart(tight_log_scale()))
    assert min(default) <= 1 and max(default) >= 10  # the default axis runs from 1 to 10
    assert tight and 4.5 <= min(tight) and max(tight) <= 6.5  # the tight one stays around 4.8-6.2
