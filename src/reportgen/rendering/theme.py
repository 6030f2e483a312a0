"""The house chart theme: one plotly template for every chart, on screen and on paper.

Colours follow the Okabe–Ito palette, which stays distinguishable for the common colour-vision
deficiencies and in greyscale print. Sizes are chosen for a chart drawn at about
`PRINT_WIDTH_PX` CSS pixels and placed across the text column of an A4 page (≈170 mm), where
12 px text prints at about 8.5 pt. The template is plain data: no randomness, no timestamps.
"""

from __future__ import annotations

from functools import cache
from typing import Any

import plotly.graph_objects as go

OKABE_ITO: tuple[str, ...] = (
    "#E69F00",  # orange
    "#56B4E9",  # sky blue
    "#009E73",  # bluish green
    "#F0E442",  # yellow
    "#0072B2",  # blue
    "#D55E00",  # vermillion
    "#CC79A7",  # reddish purple
    "#000000",  # black: last, so a series never reads as an axis
)
"""Series colours, in Okabe–Ito order."""

OTHER_COLOR = "#A0A0A0"
"""The "Other" series that sums the smaller categories: grey, so it never reads as one of them."""

SEQUENTIAL: tuple[tuple[float, str], ...] = (
    (0.0, "#F7FBFF"),
    (0.25, "#C6DBEF"),
    (0.5, "#6BAED6"),
    (0.75, "#2171B5"),
    (1.0, "#08306B"),
)
"""Heatmap scale: one hue, light to dark, so order reads by lightness for every reader."""

FONT_FAMILY = '"Liberation Sans", Arial, "DejaVu Sans", Helvetica, sans-serif'
"""Liberation Sans is metric-compatible with Arial: the PDF and a browser preview lay out alike."""

TEXT_COLOR = "#222222"
MUTED_COLOR = "#666666"
GRID_COLOR = "#E6E6E6"
AXIS_COLOR = "#9A9A9A"

FONT_SIZE = 12
PRINT_WIDTH_PX = 680
"""Width to render a chart for a portrait A4 text column (scaled by the PDF to ≈170 mm)."""
PRINT_HEIGHT_PX = 380
FACET_ROW_HEIGHT_PX = 230
"""Height of one row of small multiples."""


def _axis(*, grid: bool) -> dict[str, Any]:
    return {
        "showgrid": grid,
        "gridcolor": GRID_COLOR,
        "gridwidth": 1,
        "showline": True,
        "linecolor": AXIS_COLOR,
        "linewidth": 1,
        "ticks": "outside",
        "tickcolor": AXIS_COLOR,
        "ticklen": 4,
        "tickfont": {"size": FONT_SIZE - 1, "color": TEXT_COLOR},
        "title": {"font": {"size": FONT_SIZE, "color": TEXT_COLOR}, "standoff": 8},
        "zeroline": True,
        "zerolinecolor": AXIS_COLOR,
        "zerolinewidth": 1,
        "automargin": True,
        "separatethousands": True,
        "exponentformat": "B",  # 1.5M, 2B: finance readers' suffixes, not SI's "G"
        "hoverformat": ",.4~g",
    }


@cache
def house_template() -> go.layout.Template:
    """The one plotly template of the product. Built once; treat it as read-only."""
    layout = {
        "font": {"family": FONT_FAMILY, "size": FONT_SIZE, "color": TEXT_COLOR},
        "colorway": list(OKABE_ITO),
        "colorscale": {"sequential": [list(stop) for stop in SEQUENTIAL]},
        "paper_bgcolor": "#FFFFFF",
        "plot_bgcolor": "#FFFFFF",
        "separators": ".,",
        "margin": {"l": 8, "r": 16, "t": 32, "b": 8, "pad": 0, "autoexpand": True},
        "title": {
            "font": {"size": FONT_SIZE + 3, "color": TEXT_COLOR},
            "x": 0,
            "xanchor": "left",
            "xref": "paper",
        },
        "xaxis": _axis(grid=False),
        "yaxis": _axis(grid=True),
        "legend": {
            "orientation": "h",
            "x": 0,
            "xanchor": "left",
            "y": 1.02,
            "yanchor": "bottom",
            "font": {"size": FONT_SIZE - 1, "color": TEXT_COLOR},
            "bgcolor": "rgba(255,255,255,0)",
            "title": {"text": ""},
        },
        "hoverlabel": {"font": {"family": FONT_FAMILY, "size": FONT_SIZE}, "align": "left"},
        "hovermode": "closest",
        "bargap": 0.25,
        "bargroupgap": 0.05,
        "annotationdefaults": {
            "font": {"size": FONT_SIZE, "color": MUTED_COLOR},
            "showarrow": False,
        },
        "coloraxis": {
            "colorscale": [list(stop) for stop in SEQUENTIAL],
            "colorbar": {
                "outlinewidth": 0,
                "thickness": 12,
                "ticks": "outside",
                "ticklen": 3,
                "tickcolor": AXIS_COLOR,
                "tickfont": {"size": FONT_SIZE - 1},
                "separatethousands": True,
                "exponentformat": "B",
            },
        },
    }
    data = {
        "bar": [{"marker": {"line": {"width": 0}}}],
        "scatter": [{"line": {"width": 2}, "marker": {"size": 6}}],
        "pie": [
            {
                "marker": {"line": {"color": "#FFFFFF", "width": 1}},
                "textfont": {"size": FONT_SIZE - 1},
            }
        ],
        "heatmap": [{"colorscale": [list(stop) for stop in SEQUENTIAL], "xgap": 1, "ygap": 1}],
    }
    return go.layout.Template(layout=layout, data=data)
