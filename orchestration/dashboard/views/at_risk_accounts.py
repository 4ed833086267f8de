"""At-risk accounts: the yellow and red current accounts, what drags them down and the next action, by
segment and CSM (marts.account_health_scores, marts.account_actions, marts.health_alerts)."""

from __future__ import annotations

import altair as alt
import streamlit as st

from orchestration.dashboard import charts, data

st.title("At-risk accounts")
st.caption(
    "Current accounts in the yellow or red band, lowest score first, with the driver that drags them down "
    "and the next action from the playbooks."
)

accounts = data.query(
    """
    select
        scores.account_id,
        -- Opens the account on the drill-down page.
        'account_drill_down?account=' || scores.account_id as drill_down_link,
        scores.account_name,
        scores.segment,
        scores.csm_owner,
        scores.health_band,
        scores.trend,
        scores.weakest_component,
        scores.top_driver_reason,
        scores.change_explanation_7d,
        scores.reporting_currency_code,
        actions.action,
        actions.owner,
        scores.health_score,
        scores.change_7d,
        scores.is_config_changed_7d,
        scores.is_config_changed_30d,
        round(scores.arr_reporting_amount) as arr_reporting_amount,
        alerts.open_alerts,
        actions.due_date,
        scores.renewal_date
    from marts.account_health_scores as scores
    left join marts.account_actions as actions
        on scores.account_id = actions.account_id and actions.is_primary
    left join (
        select account_id, string_agg(rule, ', ' order by severity_rank, rule) as open_alerts
        from marts.health_alerts
        where is_open
        group by account_id
    ) as alerts
        on scores.account_id = alerts.account_id
    where not scores.is_churned and scores.health_band in ('red', 'yellow')
    order by scores.health_score, scores.account_id
    """
)

currency = accounts["reporting_currency_code"].iloc[0] if not accounts.empty else ""
segment_column, csm_column, band_column = st.columns(3)
segments = segment_column.multiselect("Segment", sorted(accounts["segment"].dropna().unique()))
csm_owners = csm_column.multiselect("CSM", sorted(accounts["csm_owner"].dropna().unique()))
bands = band_column.multiselect("Band", ["red", "yellow"], default=["red", "yellow"])

shown = accounts[accounts["health_band"].isin(bands)]
if segments:
    shown = shown[shown["segment"].isin(segments)]
if csm_owners:
    shown = shown[shown["csm_owner"].isin(csm_owners)]

red_metric, yellow_metric, alerts_metric = st.columns(3)
red_metric.metric("Red accounts", int((shown["health_band"] == "red").sum()))
yellow_metric.metric("Yellow accounts", int((shown["health_band"] == "yellow").sum()))
alerts_metric.metric("With open alerts", int(shown["open_alerts"].notna().sum()))

if shown.empty:
    st.info("No yellow or red account matches these filters.")
else:
    st.markdown("#### Accounts per CSM")
    charts.show(
        alt.Chart(shown)
        .mark_bar()
        .encode(
            y=alt.Y("csm_owner:N", title=None, sort="-x", axis=alt.Axis(labelLimit=200, labelOverlap=False)),
            x=alt.X("count():Q", title="Accounts"),
            color=alt.Color(
                "health_band:N",
                scale=alt.Scale(
                    domain=["red", "yellow"], range=[charts.band_colour("red"), charts.band_colour("yellow")]
                ),
                title="Band",
            ),
            order=alt.Order("health_band:N", sort="ascending"),
            tooltip=["csm_owner:N", "health_band:N", "count():Q"],
        )
        .properties(height=30 + 28 * shown["csm_owner"].nunique()),
        shown,
        "No yellow or red account matches these filters.",
    )
    st.markdown("#### Accounts, lowest score first")
    st.dataframe(
        shown.style.map(charts.band_cell_style, subset=["health_band"]),
        hide_index=True,
        width="stretch",
        height=min(38 + 35 * len(shown), 640),
        column_order=[
            "drill_down_link",
            "account_name",
            "health_score",
            "health_band",
            "trend",
            "change_7d",
            "top_driver_reason",
            "action",
            "owner",
            "due_date",
            "open_alerts",
            "segment",
            "csm_owner",
            "arr_reporting_amount",
            "renewal_date",
        ],
        column_config={
            "drill_down_link": st.column_config.LinkColumn("Account", display_text=r"account=(.*)$"),
            "account_name": st.column_config.TextColumn("Name"),
            "health_score": st.column_config.ProgressColumn("Score", min_value=0, max_value=100, format="%.1f"),
            "health_band": st.column_config.TextColumn("Band"),
            "trend": st.column_config.TextColumn("Trend"),
            "change_7d": st.column_config.NumberColumn("7 days", format="%+.1f"),
            "top_driver_reason": st.column_config.TextColumn("Top driver", width="medium"),
            "action": st.column_config.TextColumn("Next action", width="large"),
            "owner": st.column_config.TextColumn("Owner"),
            "due_date": st.column_config.DateColumn("Due"),
            "open_alerts": st.column_config.TextColumn("Open alerts"),
            "segment": st.column_config.TextColumn("Segment"),
            "csm_owner": st.column_config.TextColumn("CSM"),
            "arr_reporting_amount": st.column_config.NumberColumn(f"ARR ({currency})", format="localized"),
            "renewal_date": st.column_config.DateColumn("Renewal"),
        },
    )
    st.caption("An account's link opens its score history and why it changed (Account drill-down).")
    across_versions = int((shown["is_config_changed_7d"].eq(True) | shown["is_config_changed_30d"].eq(True)).sum())
    if across_versions:
        st.caption(
            f"Trend or 7-day change left empty for {across_versions} accounts: the scoring configuration changed "
            "since the day they compare with, so the difference would show the new configuration, not the account "
            "(`make run REBUILD_HISTORY=1` rescores the history with the current one)."
        )
