"""Benchmarks: the latest scored day's portfolio figures rated by the ranges of seeds/benchmarks.csv,
for the portfolio and each segment (marts.portfolio_benchmarks)."""

from __future__ import annotations

import altair as alt
import streamlit as st

from orchestration.dashboard import charts, data

# Titles for the benchmarks of seeds/benchmarks.csv; another benchmark is titled by its name.
BENCHMARK_NAMES = {
    "average_health_score": "Average health score",
    "monthly_churn_rate": "Monthly churn rate",
    "portfolio_nps": "NPS",
    "red_account_share": "Share of red accounts",
    "ticket_csat": "Ticket CSAT (ratings 4-5)",
}
# Benchmarks whose value is a share (0-1), drawn as percentages.
PERCENT_BENCHMARKS = {"monthly_churn_rate", "red_account_share", "ticket_csat"}

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
    "(seeds/benchmarks.csv): the bar is the figure, green when as expected and red "
    "when the seed calls its range unexpected; the grey band is the range of its rating where it has two ends."
)
outside = benchmarks[~benchmarks["is_expected"]]
expected_metric, outside_metric = st.columns(2)
expected_metric.metric("Figures as expected", int(benchmarks["is_expected"].sum()), border=True)
outside_metric.metric("Figures to look at", len(outside), border=True)

names = sorted(benchmarks["benchmark"].unique())
for first in range(0, len(names), 2):
    for column, benchmark in zip(st.columns(2), names[first : first + 2], strict=False):
        rows = benchmarks[benchmarks["benchmark"] == benchmark]
        percent = benchmark in PERCENT_BENCHMARKS
        with column:
            st.markdown(f"#### {BENCHMARK_NAMES.get(benchmark, benchmark.replace('_', ' '))}")
            # Open-ended ranges (the lowest or highest of a benchmark) have one bound only: no band to draw.
            ranged = rows.dropna(subset=["lower_bound", "upper_bound"])
            value = (
                alt.Chart(rows.dropna(subset=["value"]))
                .mark_bar(size=12)
                .encode(
                    y=alt.Y("segment:N", title=None),
                    x=alt.X("value:Q", title=None, axis=alt.Axis(format="%" if percent else ",.0f")),
                    color=alt.Color(
                        "is_expected:N",
                        scale=alt.Scale(
                            domain=[True, False], range=[charts.band_colour("green"), charts.band_colour("red")]
                        ),
                        legend=None,
                    ),
                    tooltip=["segment", alt.Tooltip("value:Q", format=".3~f"), "rating"],
                )
            )
            rating_range = (
                alt.Chart(ranged)
                .mark_bar(color="#d9dee4", size=28)
                .encode(y=alt.Y("segment:N", title=None), x=alt.X("lower_bound:Q"), x2="upper_bound:Q")
            )
            layers = rating_range + value if not ranged.empty else value
            charts.show(layers.properties(height=40 + 34 * len(rows)), rows.dropna(subset=["value"]), "No figure.")

st.markdown("#### Every figure and its rating")
st.dataframe(
    benchmarks,
    hide_index=True,
    width="stretch",
    height=38 + 35 * len(benchmarks),
    column_order=["benchmark", "segment", "value", "rating", "lower_bound", "upper_bound", "is_expected"],
    column_config={
        "benchmark": "Benchmark",
        "segment": "Segment",
        "value": st.column_config.NumberColumn("Value", format="%.4g"),
        "rating": st.column_config.TextColumn("Rating", width="medium"),
        "lower_bound": st.column_config.NumberColumn("Range from", format="%.4g"),
        "upper_bound": st.column_config.NumberColumn("to", format="%.4g"),
        "is_expected": st.column_config.CheckboxColumn("As expected"),
    },
)
