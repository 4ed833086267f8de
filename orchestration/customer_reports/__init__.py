"""Customer health reports: one printable HTML page per account, in the customer's language, from the published
scores (docs/customer_reports.md).

python -m orchestration.customer_reports --account ACC-00042 [--out DIR] [--pdf]
python -m orchestration.customer_reports --all [--out DIR] [--pdf]
"""
