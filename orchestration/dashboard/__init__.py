"""The dashboard: a Streamlit multipage app over the published (serving) DuckDB file, opened read-only.

Every figure comes from a mart; the app only selects rows and draws them. `make dashboard` serves it
(`python -m orchestration.dashboard`), tests/test_dashboard.py opens every page in headless Chromium.
"""
