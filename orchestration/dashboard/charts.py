"""Chart building blocks shared by the pages: band colours, and charts that render as SVG so that the browser
test can count their marks (an empty chart has axes but no marks)."""

from __future__ import annotations

import datetime as dt

import altair as alt
import pandas as pd
import streamlit as st

BANDS = ["green", "yellow", "red"]
BAND_COLOURS = ["#2f9e61", "#e3b21b", "#d64541"]
BAND_SCALE = alt.Scale(domain=BANDS, range=BAND_COLOURS)
COMPONENT_COLOURS = alt.Scale(scheme="tableau10")
# Vega's SVG renderer puts every drawn mark in the page, where a test can see it; the default canvas does not.
SVG = {"embedOptions": {"renderer": "svg", "actions": False}}


def show(chart: alt.Chart, rows: pd.DataFrame, empty_message: str) -> None:
    """Draws `chart`, or says why there is nothing to draw instead of an empty frame."""
    if rows.empty:
        st.info(empty_message)
        return
    st.altair_chart(chart.properties(usermeta=SVG), width="stretch")


def band_colour(band: str) -> str:
    return dict(zip(BANDS, BAND_COLOURS, strict=True)).get(band, "#888888")


def band_cell_style(band: str) -> str:
    """A table cell in the band's colour (pandas Styler)."""
    return f"background-color: {band_colour(band)}33; color: #1f2933"


def band_badge(band: str) -> str:
    """A coloured band label for markdown."""
    return f":{ {'green': 'green', 'yellow': 'orange', 'red': 'red'}.get(band, 'gray') }-badge[{band}]"


# How far back the arrows under the headline figures look.
MONTH = dt.timedelta(days=30)


def score_history(history: pd.DataFrame, bands: pd.DataFrame) -> alt.LayerChart:
    """A score over time (score_date, health_score, health_band) over its bands' areas (data.health_bands)."""
    band_areas = (
        alt.Chart(bands)
        .mark_rect(opacity=0.12)
        .encode(
            y=alt.Y("lower_score:Q", scale=alt.Scale(domain=[0, 100])),
            y2="upper_score:Q",
            color=alt.Color("health_band:N", scale=BAND_SCALE, legend=None),
        )
    )
    score_line = (
        alt.Chart(history)
        .mark_line(color="#33475b", strokeWidth=2)
        .encode(
            x=alt.X("score_date:T", title=None),
            y=alt.Y("health_score:Q", title="Health score", scale=alt.Scale(domain=[0, 100])),
            tooltip=["score_date:T", alt.Tooltip("health_score:Q", format=".1f"), "health_band:N"],
        )
    )
    return band_areas + score_line


def shown(value: object, format_spec: str) -> str:
    """`value` formatted, or a dash when the mart holds none (a new account has no 7-day change yet)."""
    return "–" if pd.isna(value) else format(value, format_spec)
