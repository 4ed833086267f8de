"""Entry point of the dashboard: the page list and what every page shows at the top (the publication read)."""

from __future__ import annotations

import streamlit as st

from orchestration.dashboard import data

st.set_page_config(page_title="Customer health", layout="wide")

PAGES = [
    st.Page("views/portfolio_overview.py", title="Portfolio overview", default=True),
    st.Page("views/at_risk_accounts.py", title="At-risk accounts"),
    st.Page("views/account_drill_down.py", title="Account drill-down"),
    st.Page("views/benchmarks.py", title="Benchmarks"),
    st.Page("views/account_hierarchies.py", title="Account hierarchies"),
]
page = st.navigation(PAGES)

try:
    publication = data.query("select run_id, published_at, last_score_date from marts.publication")
except data.ServingFileMissing as missing:
    st.error(str(missing))
    st.stop()
with st.sidebar:
    st.caption(
        f"Scores as of **{publication.loc[0, 'last_score_date']:%Y-%m-%d}**, published "
        f"{publication.loc[0, 'published_at']:%Y-%m-%d %H:%M} UTC from `{data.serving_path().name}` (read-only)."
    )
page.run()
