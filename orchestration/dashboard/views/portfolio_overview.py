"""Portfolio overview: average health, band shares and ARR at risk over time, for the whole portfolio or by
segment, CSM or scorecard (marts.portfolio_daily)."""

from __future__ import annotations

import altair as alt
import pandas as pd
import streamlit as st

from orchestration.dashboard import charts, data

DIMENSIONS = {"portfolio": "Whole portfolio", "segment": "Segment", "csm_owner": "CSM", "scorecard": "Scorecard"}

st.title("Portfolio overview")

daily = data.query(
    """
    select score_date, dimension, dimension_value, reporting_currency_code, account_count, average_health_score,
        median_health_score, green_account_count, yellow_account_count, red_account_count, green_share,
        yellow_share, red_share,
        -- Whole units of the reporting currency are enough for a portfolio.
        round(arr_reporting_amount) as arr_reporting_amount,
        round(arr_at_risk_reporting_amount) as arr_at_risk_reporting_amount,
        nps, ticket_csat, monthly_churn_rate, net_revenue_retention
    from marts.portfolio_daily
    order by score_date, dimension, dimension_value
    """
)
portfolio = daily[daily["dimension"] == "portfolio"]
latest = portfolio.iloc[-1]
currency = latest["reporting_currency_code"]
# The same figures a month earlier, for the arrows under each figure.
month_before = portfolio[portfolio["score_date"] <= latest["score_date"] - charts.MONTH]
earlier = month_before.iloc[-1] if not month_before.empty else latest

st.caption(f"Current accounts on {latest['score_date']:%Y-%m-%d}; arrows compare with 30 days before.")
figures = st.columns(6)
figures[0].metric("Accounts", f"{latest['account_count']:,}", border=True)
figures[1].metric(
    "Average health",
    f"{latest['average_health_score']:.1f}",
    f"{latest['average_health_score'] - earlier['average_health_score']:+.1f}",
    border=True,
)
figures[2].metric(
    "Red share",
    f"{latest['red_share']:.1%}",
    f"{(latest['red_share'] - earlier['red_share']) * 100:+.1f} pts",
    delta_color="inverse",
    border=True,
)
figures[3].metric(
    f"ARR at risk ({currency})",
    f"{latest['arr_at_risk_reporting_amount']:,.0f}",
    f"of {latest['arr_reporting_amount']:,.0f} ARR",
    delta_color="off",
    delta_arrow="off",
    border=True,
)
figures[4].metric("NPS", "–" if pd.isna(latest["nps"]) else f"{latest['nps']:.0f}", border=True)
figures[5].metric(
    "Monthly churn",
    "–" if pd.isna(latest["monthly_churn_rate"]) else f"{latest['monthly_churn_rate']:.1%}",
    border=True,
)

dimension = (
    st.segmented_control("Split by", list(DIMENSIONS), default="portfolio", format_func=DIMENSIONS.__getitem__)
    or "portfolio"
)
series = daily[daily["dimension"] == dimension]
# One line needs no legend.
legend = None if dimension == "portfolio" else alt.Legend(orient="bottom", columns=3)

health_column, bands_column = st.columns(2)
with health_column:
    st.markdown("#### Average health")
    charts.show(
        alt.Chart(series)
        .mark_line()
        .encode(
            x=alt.X("score_date:T", title=None),
            y=alt.Y("average_health_score:Q", title="Average health score", scale=alt.Scale(zero=False)),
            color=alt.Color("dimension_value:N", title=DIMENSIONS[dimension], legend=legend),
            tooltip=["score_date:T", "dimension_value:N", alt.Tooltip("average_health_score:Q", format=".1f")],
        )
        .properties(height=300),
        series,
        "No scored day in the publication.",
    )
with bands_column:
    st.markdown("#### Band shares (whole portfolio)")
    shares = portfolio.melt(
        id_vars="score_date",
        value_vars=["green_share", "yellow_share", "red_share"],
        var_name="health_band",
        value_name="share",
    )
    shares["health_band"] = shares["health_band"].str.removesuffix("_share")
    charts.show(
        alt.Chart(shares)
        .mark_area()
        .encode(
            x=alt.X("score_date:T", title=None),
            y=alt.Y("share:Q", title="Share of accounts", stack="normalize", axis=alt.Axis(format="%")),
            color=alt.Color("health_band:N", scale=charts.BAND_SCALE, sort=charts.BANDS, title="Band"),
            order=alt.Order("band_order:Q"),
            tooltip=["score_date:T", "health_band:N", alt.Tooltip("share:Q", format=".1%")],
        )
        .transform_calculate(band_order="indexof(['green', 'yellow', 'red'], datum.health_band)")
        .properties(height=300),
        shares,
        "No scored day in the publication.",
    )

st.markdown(f"#### ARR at risk ({currency}, ARR of red accounts)")
charts.show(
    alt.Chart(series)
    .mark_area(opacity=0.8)
    .encode(
        x=alt.X("score_date:T", title=None),
        y=alt.Y("arr_at_risk_reporting_amount:Q", title=f"ARR at risk ({currency})", stack="zero"),
        color=alt.Color("dimension_value:N", title=DIMENSIONS[dimension], legend=legend),
        tooltip=["score_date:T", "dimension_value:N", alt.Tooltip("arr_at_risk_reporting_amount:Q", format=",.0f")],
    )
    .properties(height=260),
    series,
    "No scored day in the publication.",
)

st.markdown(f"#### On {latest['score_date']:%Y-%m-%d} by {DIMENSIONS[dimension].lower()}")
today = series[series["score_date"] == latest["score_date"]]
st.dataframe(
    today,
    hide_index=True,
    width="stretch",
    column_order=[
        "dimension_value",
        "account_count",
        "average_health_score",
        "median_health_score",
        "green_share",
        "yellow_share",
        "red_share",
        "arr_reporting_amount",
        "arr_at_risk_reporting_amount",
        "nps",
        "ticket_csat",
        "monthly_churn_rate",
        "net_revenue_retention",
    ],
    column_config={
        "dimension_value": DIMENSIONS[dimension],
        "account_count": "Accounts",
        "average_health_score": st.column_config.NumberColumn("Average", format="%.1f"),
        "median_health_score": st.column_config.NumberColumn("Median", format="%.1f"),
        "green_share": st.column_config.NumberColumn("Green", format="percent"),
        "yellow_share": st.column_config.NumberColumn("Yellow", format="percent"),
        "red_share": st.column_config.NumberColumn("Red", format="percent"),
        "arr_reporting_amount": st.column_config.NumberColumn(f"ARR ({currency})", format="localized"),
        "arr_at_risk_reporting_amount": st.column_config.NumberColumn(f"ARR at risk ({currency})", format="localized"),
        "nps": st.column_config.NumberColumn("NPS", format="%.1f"),
        "ticket_csat": st.column_config.NumberColumn("Ticket CSAT", format="percent"),
        "monthly_churn_rate": st.column_config.NumberColumn("Monthly churn", format="percent"),
        "net_revenue_retention": st.column_config.NumberColumn("NRR", format="percent"),
    },
)
