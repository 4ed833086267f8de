"""Benchmarks: the latest scored day's portfolio figures rated by the ranges of seeds/benchmarks.csv,
for the portfolio and each segment (marts.portfolio_benchmarks)."""

from __future__ import annotations

import altair as alt
import streamlit as st

from orchestration.dashboard import charts, data

st.title("Benchmarks")

benchmarks = data.query(
    """
    select benchmark, segment, rating, value, lower_bound, upper_bound, is_expected, score_date
    from marts.portfolio_benchmarks
    order by benchmark, segment
    """
)
if benchmarks.empty:
    st.info("The publication holds no benchmark figure.")
    st.stop()
st.caption(
    f"Portfolio figures of {benchmarks['score_date'].max():%Y-%m-%d} rated by the ranges "
    "(seeds/benchmarks.csv): the bar is the figure, the grey band the range of its rating; red where the seed "
    "calls that range unexpected."
)
outside = benchmarks[~benchmarks["is_expected"]]
expected_metric, outside_metric = st.columns(2)
expected_metric.metric("Figures as expected", int(benchmarks["is_expected"].sum()), border=True)
outside_metric.metric("Figures to look at", len(outside), border=True)

for benchmark, rows in benchmarks.groupby("benchmark", sort=True):
    st.markdown(f"#### {benchmark.replace('_', ' ').capitalize()}")
    chart_column, table_column = st.columns([3, 2])
    with chart_column:
        # Open-ended ranges (the lowest or highest of a benchmark) have one bound only: no band to draw.
        rating_range = (
            alt.Chart(rows.dropna(subset=["lower_bound", "upper_bound"]))
            .mark_bar(color="#d9dee4", size=26)
            .encode(y=alt.Y("segment:N", title=None), x=alt.X("lower_bound:Q"), x2="upper_bound:Q")
        )
        value = (
            alt.Chart(rows.dropna(subset=["value"]))
            .mark_bar(size=10)
            .encode(
                y=alt.Y("segment:N", title=None),
                x=alt.X("value:Q", title=benchmark),
                color=alt.Color(
                    "is_expected:N",
                    scale=alt.Scale(domain=[True, False], range=["#2f9e61", "#d64541"]),
                    legend=alt.Legend(title="As expected"),
                ),
                tooltip=["segment", "value", "lower_bound", "upper_bound", "rating"],
            )
        )
        layers = value if rows[["lower_bound", "upper_bound"]].isna().any(axis=1).all() else rating_range + value
        charts.show(layers.properties(height=40 + 34 * len(rows)), rows.dropna(subset=["value"]), "No figure.")
    with table_column:
        st.dataframe(
            rows[["segment", "value", "rating", "lower_bound", "upper_bound"]],
            hide_index=True,
            width="stretch",
            column_config={
                "segment": "Segment",
                "value": st.column_config.NumberColumn("Value", format="%.3g"),
                "rating": "Rating",
                "lower_bound": st.column_config.NumberColumn("Range from", format="%.3g"),
                "upper_bound": st.column_config.NumberColumn("to", format="%.3g"),
            },
        )
