"""Account hierarchies: the ARR-weighted roll-up score of each parent account over its children, with the
weakest child named (marts.parent_account_health)."""

from __future__ import annotations

import altair as alt
import streamlit as st

from orchestration.dashboard import charts, data

st.title("Account hierarchies")

parents = data.query(
    """
    select parent_account_id, parent_account_name, health_band, weakest_child_account_id,
        weakest_child_account_name, reporting_currency_code, health_score, parent_health_score,
        weakest_child_health_score,
        child_account_count,
        -- Whole units of the reporting currency are enough to compare families.
        round(arr_reporting_amount) as arr_reporting_amount,
        score_date
    from marts.parent_account_health
    where score_date = (select max(score_date) from marts.parent_account_health)
    order by health_score, parent_account_id
    """
)
if parents.empty:
    st.info("No account in the accounts export names a parent account.")
    st.stop()
currency = parents["reporting_currency_code"].iloc[0]
st.caption(
    f"Parent accounts on {parents['score_date'].max():%Y-%m-%d}: the health score weighted by each child's ARR "
    f"({currency}), lowest first, and the child that pulls it down most."
)
st.dataframe(
    parents.style.map(charts.band_cell_style, subset=["health_band"]),
    hide_index=True,
    width="stretch",
    height=min(38 + 35 * len(parents), 640),
    column_order=[
        "parent_account_id",
        "parent_account_name",
        "health_score",
        "health_band",
        "parent_health_score",
        "child_account_count",
        "arr_reporting_amount",
        "weakest_child_account_id",
        "weakest_child_account_name",
        "weakest_child_health_score",
    ],
    column_config={
        "parent_account_id": "Parent",
        "parent_account_name": "Name",
        "health_score": st.column_config.ProgressColumn("Score", min_value=0, max_value=100, format="%.1f"),
        "health_band": "Band",
        "parent_health_score": st.column_config.NumberColumn("Its own score", format="%.1f"),
        "child_account_count": "Children",
        "arr_reporting_amount": st.column_config.NumberColumn(f"ARR ({currency})", format="localized"),
        "weakest_child_account_id": "Weakest child",
        "weakest_child_account_name": "Weakest child's name",
        "weakest_child_health_score": st.column_config.NumberColumn("Weakest child's score", format="%.1f"),
    },
)

labels = dict(zip(parents["parent_account_id"], parents["parent_account_name"], strict=True))
parent_id = st.selectbox("Parent account", list(labels), format_func=lambda parent: f"{parent} · {labels[parent]}")
history = data.query(
    """
    select score_date, health_score, health_band
    from marts.parent_account_health
    where parent_account_id = ?
    order by score_date
    """,
    (parent_id,),
)
# The family as scored today: the parent's own account and every current account below it (the loader keeps
# the hierarchy a tree, so the walk ends).
family = data.query(
    """
    with recursive family (account_id, level) as (
        select cast(? as varchar), 0
        union all
        select versions.account_id, family.level + 1
        from marts.dim_account_versions as versions
        inner join family on versions.parent_account_id = family.account_id
        where versions.is_current
    )
    select
        family.level,
        scores.account_id,
        scores.account_name,
        scores.health_band,
        scores.health_score,
        scores.arr_reporting_amount
    from family
    inner join marts.account_health_scores as scores on family.account_id = scores.account_id
    where not scores.is_churned
    order by family.level, scores.health_score
    """,
    (parent_id,),
)
# The bands of the configuration most current scores were computed with.
bands = data.health_bands(
    data.query(
        """
        select config_version from marts.account_health_scores
        group by config_version
        order by count(*) desc, config_version
        limit 1
        """
    ).loc[0, "config_version"]
)
history_column, children_column = st.columns([3, 2])
with history_column:
    st.markdown("#### Roll-up score history")
    charts.show(
        charts.score_history(history, bands).properties(height=260),
        history,
        "No scored day for this parent account.",
    )
with children_column:
    st.markdown("#### The family today")
    charts.show(
        alt.Chart(family)
        .mark_bar()
        .encode(
            x=alt.X("health_score:Q", title="Health score", scale=alt.Scale(domain=[0, 100])),
            y=alt.Y("account_name:N", sort="x", title=None, axis=alt.Axis(labelLimit=220, labelOverlap=False)),
            color=alt.Color("health_band:N", scale=charts.BAND_SCALE, legend=None),
            tooltip=[
                "account_id",
                "account_name",
                "level",
                alt.Tooltip("health_score:Q", format=".1f"),
                alt.Tooltip("arr_reporting_amount:Q", format=",.0f"),
            ],
        )
        .properties(height=50 + 34 * len(family)),
        family,
        "No current account of this family is published.",
    )
