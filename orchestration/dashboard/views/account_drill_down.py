"""Account drill-down: one account's score history with its bands, its component scores and contributions, the
measures behind today's score and why it changed (marts.account_health_history,
marts.fct_health_score_contributions, marts.account_score_changes)."""

from __future__ import annotations

import altair as alt
import streamlit as st

from orchestration.dashboard import charts, data

COMPONENTS = ["usage", "support", "payment", "feedback", "milestones"]

st.title("Account drill-down")

accounts = data.query(
    """
    select account_id, account_name, health_band, health_score
    from marts.account_health_scores
    order by is_churned, health_score, account_id
    """
)
labels = {
    row.account_id: f"{row.account_id} · {row.account_name} ({charts.shown(row.health_score, '.1f')}, "
    f"{row.health_band})"
    for row in accounts.itertuples()
}
ids = list(labels)
# ?account=ACC-00042 opens an account directly (links from other tools); the lowest score otherwise.
requested = st.query_params.get("account")
account_id = st.selectbox(
    "Account", ids, index=ids.index(requested) if requested in labels else 0, format_func=labels.__getitem__
)
st.query_params["account"] = account_id

account = data.query(
    """
    select account_name, segment, plan_name, csm_owner, scorecard, health_band, trend, weakest_component,
        top_driver_reason, currency_code, health_score, change_7d, change_30d, coverage, arr_amount,
        is_churned, renewal_date, churned_date, score_date
    from marts.account_health_scores
    where account_id = ?
    """,
    (account_id,),
).iloc[0]

st.subheader(account["account_name"])
st.markdown(
    f"{charts.band_badge(account['health_band'])} {account['segment']} · {account['plan_name']} · "
    f"CSM {account['csm_owner']} · ARR {charts.shown(account['arr_amount'], ',.0f')} {account['currency_code']} · "
    + (
        f"churned on {charts.shown(account['churned_date'], '%Y-%m-%d')}"
        if account["is_churned"]
        else f"renews {charts.shown(account['renewal_date'], '%Y-%m-%d')}"
    )
)
score_metric, week_metric, month_metric, coverage_metric = st.columns(4)
score_metric.metric("Health score", charts.shown(account["health_score"], ".1f"), border=True)
week_metric.metric("Change, 7 days", charts.shown(account["change_7d"], "+.1f"), border=True)
month_metric.metric("Change, 30 days", charts.shown(account["change_30d"], "+.1f"), border=True)
coverage_metric.metric("Coverage", charts.shown(account["coverage"], ".0%"), border=True)
st.markdown(f"**Weakest:** {account['weakest_component']} — {account['top_driver_reason']}")

history = data.query(
    """
    select score_date, health_score, health_band, config_version,
        usage_score, support_score, payment_score, feedback_score, milestones_score,
        usage_contribution, support_contribution, payment_contribution, feedback_contribution,
        milestones_contribution, cap_adjustment
    from marts.account_health_history
    where account_id = ?
    order by score_date
    """,
    (account_id,),
)
# The band limits of the configuration the newest score was computed with.
bands = data.health_bands(history["config_version"].iloc[-1] if not history.empty else "")

st.markdown("#### Score history")
charts.show(charts.score_history(history, bands).properties(height=280), history, "No scored day for this account.")

components_column, contributions_column = st.columns(2)
with components_column:
    st.markdown("#### Component scores")
    component_scores = history.melt(
        id_vars="score_date", value_vars=[f"{c}_score" for c in COMPONENTS], var_name="component", value_name="score"
    ).dropna()
    component_scores["component"] = component_scores["component"].str.removesuffix("_score")
    charts.show(
        alt.Chart(component_scores)
        .mark_line()
        .encode(
            x=alt.X("score_date:T", title=None),
            y=alt.Y("score:Q", title="Component score", scale=alt.Scale(domain=[0, 100])),
            color=alt.Color("component:N", scale=charts.COMPONENT_COLOURS, sort=COMPONENTS),
        )
        .properties(height=260),
        component_scores,
        "No component scores for this account.",
    )
with contributions_column:
    st.markdown("#### Contributions to the score")
    contributions = history.melt(
        id_vars="score_date",
        value_vars=[f"{c}_contribution" for c in COMPONENTS],
        var_name="component",
        value_name="points",
    ).dropna()
    contributions["component"] = contributions["component"].str.removesuffix("_contribution")
    charts.show(
        alt.Chart(contributions)
        .mark_area()
        .encode(
            x=alt.X("score_date:T", title=None),
            y=alt.Y("points:Q", title="Points of the score", stack="zero"),
            color=alt.Color("component:N", scale=charts.COMPONENT_COLOURS, sort=COMPONENTS),
        )
        .properties(height=260),
        contributions,
        "No contributions for this account.",
    )

st.markdown("#### Why it changed")
changes = data.query(
    """
    select window_days, explanation, is_config_changed, comparison_date
    from marts.account_score_changes
    where account_id = ? and score_date = ?
    order by window_days
    """,
    (account_id, account["score_date"]),
)
if changes.empty:
    st.info("No earlier score to compare with.")
for change in changes.itertuples():
    note = " (the scoring configuration changed in between)" if change.is_config_changed else ""
    st.markdown(f"**{change.window_days} days** (since {change.comparison_date:%Y-%m-%d}): {change.explanation}{note}")

st.markdown(f"#### Measures behind the score of {account['score_date']:%Y-%m-%d}")
measures = data.query(
    """
    select component, measure, measure_value, measure_points, effective_weight, contribution, has_data
    from marts.fct_health_score_contributions
    where account_id = ? and score_date = ?
    order by contribution desc, measure
    """,
    (account_id, account["score_date"]),
)
bars_column, table_column = st.columns([2, 3])
with bars_column:
    charts.show(
        alt.Chart(measures)
        .mark_bar()
        .encode(
            x=alt.X("contribution:Q", title="Points of the score"),
            y=alt.Y("measure:N", sort="-x", title=None, axis=alt.Axis(labelLimit=220)),
            color=alt.Color("component:N", scale=charts.COMPONENT_COLOURS, sort=COMPONENTS, legend=None),
            tooltip=["component", "measure", alt.Tooltip("contribution:Q", format=".2f")],
        )
        .properties(height=max(160, 26 * len(measures))),
        measures,
        "No measures for this day.",
    )
with table_column:
    st.dataframe(
        measures,
        hide_index=True,
        width="stretch",
        height=38 + 35 * len(measures),
        column_config={
            "component": "Component",
            "measure": "Measure",
            "measure_value": st.column_config.NumberColumn("Value", format="%.2f"),
            "measure_points": st.column_config.NumberColumn("Points", format="%.0f"),
            "effective_weight": st.column_config.NumberColumn("Weight", format="percent"),
            "contribution": st.column_config.NumberColumn("Contribution", format="%.2f"),
            "has_data": st.column_config.CheckboxColumn("Data"),
        },
    )

st.markdown("#### Alerts and next actions")
alerts_column, actions_column = st.columns(2)
with alerts_column:
    alerts = data.query(
        """
        select severity, message, raised_on, cleared_on
        from marts.health_alerts
        where account_id = ?
        order by is_open desc, raised_on desc
        limit 20
        """,
        (account_id,),
    )
    if alerts.empty:
        st.info("No alert was ever raised for this account.")
    else:
        st.dataframe(
            alerts,
            hide_index=True,
            width="stretch",
            column_config={
                "severity": "Severity",
                "message": st.column_config.TextColumn("Alert", width="large"),
                "raised_on": st.column_config.DateColumn("Raised"),
                "cleared_on": st.column_config.DateColumn("Cleared"),
            },
        )
with actions_column:
    actions = data.query(
        """
        select priority, action, owner, due_date, reason
        from marts.account_actions
        where account_id = ?
        order by priority
        """,
        (account_id,),
    )
    if actions.empty:
        st.info("No open action: actions are planned for yellow and red current accounts.")
    else:
        st.dataframe(
            actions,
            hide_index=True,
            width="stretch",
            column_config={
                "priority": st.column_config.NumberColumn("#", width="small"),
                "action": st.column_config.TextColumn("Action", width="large"),
                "owner": "Owner",
                "due_date": st.column_config.DateColumn("Due"),
                "reason": st.column_config.TextColumn("Because", width="medium"),
            },
        )
