# Front door: `make run` builds the scores, `make test` runs every test, `make dev` opens the Dagster UI.
SHELL := /bin/bash
PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
export PATH := $(abspath $(BIN)):$(PATH)
export DAGSTER_HOME ?= $(abspath .dagster)
export HEALTHSCORE_WAREHOUSE ?= $(abspath warehouse/healthscore.duckdb)
export HEALTHSCORE_LANDING_DIR ?= $(abspath seeds/landing)

.PHONY: install install-spark test-spark run dev test lint sample bench metrics erase apply-weights reports report-screenshots docs analysis dashboard ui-screenshots lock clean

install: $(VENV)/.installed $(DAGSTER_HOME)/dagster.yaml

# The environment is rebuilt whenever the lock file changes; every version comes from the lock.
$(VENV)/.installed: requirements.lock
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check --no-deps -r requirements.lock
	# The project on the environment's path: the Dagster UI's processes load orchestration.run_history.
	echo "$(CURDIR)" > "$$($(BIN)/python -c 'import site; print(site.getsitepackages()[0])')/healthscore.pth"
	touch $@

# The optional Spark engine (docs/scaling.md): dbt-spark and PySpark from their own lock file, and Java 17 from
# Debian's packages when no java is on PATH (needs root, as on CI).
install-spark: install $(VENV)/.installed-spark
	command -v java >/dev/null || (apt-get update -qq && apt-get install -y -qq openjdk-17-jre-headless)

$(VENV)/.installed-spark: requirements-spark.lock
	$(BIN)/python -m pip install --quiet --disable-pip-version-check --no-deps -r requirements-spark.lock
	touch $@

$(DAGSTER_HOME)/dagster.yaml: orchestration/dagster.yaml
	mkdir -p $(DAGSTER_HOME)
	cp $< $@

# TARGET=spark builds the models on a local Spark instead of DuckDB (make install-spark first; docs/scaling.md).
run: install $(if $(filter spark,$(TARGET)),install-spark)
	$(if $(TARGET),HEALTHSCORE_DBT_TARGET=$(TARGET)) \
		$(BIN)/python -m orchestration.cli run $(if $(AS_OF),--as-of $(AS_OF)) $(if $(REBUILD_HISTORY),--rebuild-history)

dev: install
	$(BIN)/python -m orchestration.cli prepare
	# The project environment, active as dg expects it (it warns otherwise).
	VIRTUAL_ENV=$(abspath $(VENV)) $(BIN)/dg dev

# The whole suite in two processes (pytest-xdist; options in pyproject.toml), printing the 30 slowest tests;
# one file alone: $(BIN)/python -m pytest tests/test_x.py -n 0.
test: install
	$(BIN)/python -m pytest

# The sample built on DuckDB and on a local Spark gives the same score, band, driver and contributions for
# every account-day (tests/spark/); not part of make test, as the Spark build takes minutes.
test-spark: install-spark
	HEALTHSCORE_TEST_SPARK=1 $(BIN)/python -m pytest tests/spark -n 0 -p no:cacheprovider

lint: install
	$(BIN)/ruff check orchestration tests
	$(BIN)/ruff format --check orchestration tests

# Measures a full refresh, one new day, the same without Dagster and a hand-written floor at volume, and
# writes docs/benchmarks.md. Default 10,000 accounts x 365 days (~50 M usage events, ~15 minutes);
# smaller: make bench BENCH_ARGS="--accounts 300"; only the logs stay in data/bench unless --keep.
bench: install
	$(BIN)/python -m orchestration.bench $(BENCH_ARGS)

# The dbt docs (models, columns, tests, lineage from landing files to the dashboard pages) on
# http://127.0.0.1:8080, with the warehouse this checkout uses; DOCS_PORT=8081 for another port.
docs: install
	$(BIN)/python -m orchestration.docs $(if $(DOCS_PORT),--port $(DOCS_PORT))

# Runs an analysis of dbt_project/analyses/ on the published scores (read-only) and prints it: make analysis
# NAME=biggest_score_drops; VARS="account_id=ACC-00042" sets its vars, CSV=out.csv writes the rows to a file;
# without NAME, lists the analyses.
analysis: install
	$(BIN)/python -m orchestration.analyses $(NAME) $(foreach var,$(VARS),--var '$(var)') $(if $(CSV),--csv '$(CSV)')

# The portfolio metrics of the semantic layer through MetricFlow, on the published scores (read-only): make metrics
# lists them; make metrics METRICS="nps arr_at_risk" BY=segment FROM=2026-10-01 TO=2026-10-31 (default: the
# whole portfolio on the latest day).
metrics: install
	$(BIN)/python -m orchestration.semantic_layer $(METRICS) $(if $(BY),--by $(BY)) $(if $(FROM),--from $(FROM)) \
		$(if $(TO),--to $(TO))

# Erases a person or an account on request (GDPR Art. 17): make erase EMAIL=jane@example.com, or ACCOUNT=ACC-00042.
erase: install
	$(BIN)/python -m orchestration.erase $(if $(EMAIL),--email '$(EMAIL)')$(if $(ACCOUNT),--account '$(ACCOUNT)')

# Copies the weights the last refresh learned from real churn over the seeds, for review with git diff.
apply-weights: install
	$(BIN)/python -m orchestration.apply_weights

# Customer health reports from the published scores, one HTML page per account (docs/customer_reports.md):
# make reports ACCOUNT=ACC-00042, or every current account; OUT=DIR (default warehouse/reports), PDF=1 also
# prints PDFs through a locally installed Chromium.
reports: install
	$(BIN)/python -m orchestration.customer_reports $(if $(ACCOUNT),--account '$(ACCOUNT)',--all) \
		$(if $(OUT),--out '$(OUT)') $(if $(PDF),--pdf)

# Screenshots of a red (German) and a green (English) sample report for the docs, picked from the published
# scores: docs/images/health_report_red.png and health_report_green.png. Needs a local Chromium.
report-screenshots: install
	$(BIN)/python -m orchestration.customer_reports.screenshots --out docs/images

# The dashboard on http://127.0.0.1:8501 (DASHBOARD_PORT=8600 for another port): portfolio overview, at-risk
# accounts, account drill-down, benchmarks and account hierarchies, read from the published scores (the serving
# file, read-only; a newly published one is read on the next page load). Without published scores it runs
# `make run` first. Headless: no browser is opened, no usage statistics are sent, nothing is fetched.
DASHBOARD_PORT ?= 8501
dashboard: install
	test -f "$${HEALTHSCORE_SERVING:-warehouse/serving/healthscore.duckdb}" || $(MAKE) run
	$(BIN)/python -m orchestration.dashboard --port $(DASHBOARD_PORT)

# Screenshots of every dashboard page for the docs (docs/images/dashboard_<page>.png), taken by the dashboard's
# browser test on a fresh build of the sample. Needs a local Chromium (Debian's chromium package).
dashboard-screenshots: install
	HEALTHSCORE_DASHBOARD_SCREENSHOTS=$(abspath docs/images) $(BIN)/python -m pytest tests/test_dashboard.py \
		-k every_page -p no:cacheprovider

# Screenshots of the Dagster UI for the docs (docs/images/dagster_*.png): the lineage from the landed files to the
# raw tables, and the check pages of a broken scorecard weight and an inverted measure band, taken in a throw-away
# copy of the project refreshed once on the sample (this checkout's warehouse and Dagster home stay as they are).
# Needs a local Chromium (Debian's chromium package).
ui-screenshots: install
	$(BIN)/python -m orchestration.ui_screenshots --out docs/images

# Regenerates the committed sample landing files (deterministic: same seed, same files), and beside them the
# simulated accounts' hidden health, which no ingestion reads (seeds/landing_truth/hidden_health.parquet).
sample: install
	$(BIN)/python -m orchestration.sample_data --accounts 300 --days 365 --seed 42 --out seeds/landing \
		--truth-out seeds/landing_truth

# Re-resolves every dependency from pyproject.toml into requirements.lock.
lock:
	rm -rf .lock-venv && $(PYTHON) -m venv .lock-venv
	.lock-venv/bin/python -m pip install --quiet --disable-pip-version-check ".[dev]"
	.lock-venv/bin/python -m pip freeze --exclude-editable | grep -v '^healthscore' > requirements.lock
	.lock-venv/bin/python -m pip install --quiet --disable-pip-version-check ".[dev,spark]"
	.lock-venv/bin/python -m pip freeze --exclude-editable | grep -v '^healthscore' | grep -vxFf requirements.lock \
		> requirements-spark.lock
	rm -rf .lock-venv

clean:
	rm -rf $(VENV) warehouse .dagster dbt_project/target dbt_project/logs
