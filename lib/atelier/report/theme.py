"""An altair theme for paper figures: readable fonts, a colour-blind-safe palette, fixed sizes.

The palette is Okabe & Ito's eight colours, distinguishable under the common colour-vision
deficiencies. Importing ``atelier.report`` registers and enables the theme.
"""

from __future__ import annotations

import altair as alt

OKABE_ITO = ["#0072B2", "#E69F00", "#009E73", "#D55E00", "#CC79A7", "#56B4E9", "#F0E442", "#000000"]
FONT = "DejaVu Sans"
WIDTH, HEIGHT = 320, 220


def tight_log_scale(**kwargs) -> alt.Scale:
    """A log scale that ends at the data (padded by 8 px) instead of at whole decades: data spanning
    a few-fold range, such as losses a few tenths of a nat apart, would otherwise be flattened into
    a corner of a decade-wide axis."""
    return alt.Scale(type="log", nice=False, padding=8, **kwargs)


def atelier_theme() -> dict:
    axis = {
        "labelFont": FONT, "titleFont": FONT, "labelFontSize": 11, "titleFontSize": 12,
        "titleFontWeight": "normal", "grid": True, "gridColor": "#e6e6e6", "domainColor": "#444",
        "tickColor": "#444",
    }
    return {
        "config": {
            "view": {"continuousWidth": WIDTH, "continuousHeight": HEIGHT, "stroke": None},
            "font": FONT,
            "background": "white",
            "title": {"font": FONT, "fontSize": 13, "fontWeight": "bold", "anchor": "start"},
            "axis": axis,
            "legend": {"labelFont": FONT, "titleFont": FONT, "labelFontSize": 11, "titleFontSize": 11},
            "header": {"labelFont": FONT, "titleFont": FONT, "labelFontSize": 11, "titleFontSize": 12},
            "range": {"category": OKABE_ITO, "ordinal": {"scheme": "viridis"}, "ramp": {"scheme": "viridis"}},
            "line": {"strokeWidth": 2},
            "point": {"size": 40, "filled": True},
        }
    }


def enable() -> None:
    """Register and enable the atelier theme (idempotent)."""
    if hasattr(alt, "theme") and hasattr(alt.theme, "register"):
        alt.theme.register("atelier", enable=True)(atelier_theme)
    else:  # altair < 5.5
        alt.themes.register("atelier", atelier_theme)
        alt.themes.enable("atelier")
