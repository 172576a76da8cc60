"""save_figure: export an altair chart as SVG, PNG (scale 2), Vega-Lite JSON and PDF.

Charts are rendered with vl-convert, offline. Data sets larger than ``MAX_ROWS`` are
downsampled evenly (every k-th row, order kept) by the ``atelier`` data transformer instead
of tripping altair's row limit, so a long training curve still plots.
"""

from __future__ import annotations

import json
import warnings
from pathlib import Path

import altair as alt
import vl_convert as vlc

from atelier.report.run import current_run

MAX_ROWS = 5000


def _downsample(data):
    """Every k-th row of a pandas/polars frame so that at most MAX_ROWS remain."""
    n = len(data) if hasattr(data, "__len__") else 0
    if n <= MAX_ROWS or isinstance(data, dict):
        return data
    stride = -(-n // MAX_ROWS)
    warnings.warn(f"chart data has {n} rows; plotting every {stride}th row", stacklevel=4)
    if hasattr(data, "gather_every"):  # polars
        return data.gather_every(stride)
    return data.iloc[::stride]


def _to_values(data):
    """Inline the (thinned) data as values; polars and pandas frames both work via narwhals."""
    data = _downsample(data)
    if not isinstance(data, dict):
        data = alt.utils.data.to_eager_narwhals_dataframe(data)
    return alt.utils.data.to_values(data)


alt.data_transformers.register("atelier", _to_values)
alt.data_transformers.enable("atelier")


def save_figure(chart: alt.TopLevelMixin, name: str, directory: Path | None = None) -> alt.TopLevelMixin:
    """Write ``name``.svg/.png/.vl.json (and .pdf) into the run's figures/ and return ``chart``."""
    if not name or "/" in name:
        raise ValueError(f"figure name {name!r} must be a non-empty file stem without '/'")
    out = Path(directory) if directory is not None else current_run().figures
    out.mkdir(parents=True, exist_ok=True)
    spec = chart.to_dict()
    (out / f"{name}.vl.json").write_text(json.dumps(spec, indent=1))
    (out / f"{name}.svg").write_text(vlc.vegalite_to_svg(spec))
    (out / f"{name}.png").write_bytes(vlc.vegalite_to_png(spec, scale=2))
    try:
        (out / f"{name}.pdf").write_bytes(vlc.vegalite_to_pdf(spec))
    except Exception as err:  # PDF export is optional in older vl-convert builds
        warnings.warn(f"no PDF for figure {name!r}: {err}", stacklevel=2)
    return chart
