"""Webhook delivery against a real HTTP server on 127.0.0.1: each alert arrives once, failures are retried as the
settings say, a hanging endpoint costs a timeout and no more, and the webhook URL is never written down."""

from __future__ import annotations

import datetime as dt
import json
import shutil
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import dagster as dg
import duckdb
import pytest

from orchestration.defs.alerts.delivery import (
    LOG_TABLE,
    Answer,
    DeliverySettings,
    deliver_alerts,
    idempotency_key,
    load_delivery_settings,
    post_json,
    retry_after_seconds,
)
from orchestration.settings import REPO_ROOT

# Short enough to keep the file fast, long enough for a loaded CI machine to answer a local request.
FAST = DeliverySettings(
    connect_timeout_seconds=1.0,
    read_timeout_seconds=0.5,
    tries_per_refresh=3,
    first_backoff_seconds=0.01,
    max_backoff_seconds=0.05,
    run_budget_seconds=30.0,
)
# A path that looks like a real webhook: the token after the host is the secret.
SECRET = "T0SECRET/B0SECRET/xoxSecretToken123"


@dataclass
class Received:
    path: str
    headers: dict[str, str]
    body: dict
    answered: int | None  # None: the server hung and never answered


@dataclass
class WebhookServer:
    """Answers each path from its script ("200", "500", "429:2" with Retry-After, "hang"); the last entry
    repeats. Records every request it received."""

    url: str
    scripts: dict[str, list[str]] = field(default_factory=dict)
    received: list[Received] = field(default_factory=list)
    hang_seconds: float = 2.0

    def accepted(self, path: str | None = None) -> list[Received]:
        return [r for r in self.received if r.answered == 200 and (path is None or r.path == path)]


@pytest.fixture
def server() -> Iterator[WebhookServer]:
    state = WebhookServer(url="")
    lock = threading.Lock()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self):  # noqa: N802 (http.server's name)
            body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
            with lock:
                script = state.scripts.setdefault(self.path, ["200"])
                step = script.pop(0) if len(script) > 1 else script[0]
            code, _, retry_after = step.partition(":")
            record = Received(self.path, dict(self.headers), body, None if code == "hang" else int(code))
            with lock:
                state.received.append(record)
            if code == "hang":
                time.sleep(state.hang_seconds)
                return
            self.send_response(int(code))
            if retry_after:
                self.send_header("Retry-After", retry_after)
            self.send_header("Content-Length", "2")
            self.end_headers()
            self.wfile.write(b"ok")

        def log_message(self, *args):
            pass

    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    httpd.daemon_threads = True
    state.url = f"http://127.0.0.1:{httpd.server_address[1]}"
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield state
    httpd.shutdown()
    httpd.server_close()


ALERT_COLUMNS = """
    alert_id varchar, rule varchar, severity varchar, account_id varchar, account_name varchar, segment varchar,
    csm_owner varchar, driver varchar, message varchar, webhook_env_var varchar, health_score decimal(5, 1),
    health_band varchar, is_open boolean, is_deliverable boolean, raised_on date, cleared_on date
"""


def add_alert(con, alert_id: str, env_var: str = "HOOK_A", deliverable: bool = True, account_name: str = "Acme"):
    con.execute(
        "insert into marts.health_alerts values (?, 'score_dropped', 'critical', ?, ?, 'smb', 'Jane Doe', "
        "'product_usage', ?, ?, 41.5, 'red', true, ?, date '2026-10-30', null)",
        [alert_id, f"ACC-{alert_id}", account_name, f"{account_name} dropped to 41.5 <red>", env_var, deliverable],
    )


@pytest.fixture
def warehouse(tmp_path) -> Iterator[duckdb.DuckDBPyConnection]:
    with duckdb.connect(str(tmp_path / "warehouse.duckdb")) as con:
        con.execute("create schema marts")
        con.execute(f"create table marts.health_alerts ({ALERT_COLUMNS})")
        yield con


def log_rows(con) -> dict[str, dict]:
    cursor = con.execute(f"select * from {LOG_TABLE}")
    names = [c[0] for c in cursor.description]
    return {row[0]: dict(zip(names, row, strict=True)) for row in cursor.fetchall()}


def no_sleep(waits: list[float]):
    return waits.append


def test_each_alert_arrives_once_and_a_rerun_sends_nothing(warehouse, server):
    for alert_id, env_var in [("a1", "HOOK_A"), ("a2", "HOOK_A"), ("b1", "HOOK_B")]:
        add_alert(warehouse, alert_id, env_var)
    add_alert(warehouse, "closed", "HOOK_A", deliverable=False)
    add_alert(warehouse, "quiet", "")  # a rule that is not delivered anywhere
    environ = {"HOOK_A": f"{server.url}/a", "HOOK_B": f"{server.url}/b"}

    report = deliver_alerts(warehouse, FAST, environ)

    assert sorted(r.body["alert_id"] for r in server.received) == ["a1", "a2", "b1"]
    assert {r.body["alert_id"]: r.path for r in server.received} == {"a1": "/a", "a2": "/a", "b1": "/b"}
    first = next(r for r in server.received if r.body["alert_id"] == "a1")
    # Slack reads `text` (escaped), Zapier / Make map the flat fields.
    assert first.body["text"].endswith("Acme dropped to 41.5 &lt;red&gt;")
    assert first.body["blocks"][0]["type"] == "section"
    assert first.body["health_score"] == 41.5 and first.body["raised_on"] == "2026-10-30"
    assert first.body["csm_owner"] == "Jane Doe" and first.body["account_id"] == "ACC-a1"
    assert first.headers["Idempotency-Key"] == first.body["idempotency_key"] == idempotency_key("a1", "HOOK_A")
    assert len(report.sent) == 3 and not report.failed
    assert {row["status"] for row in log_rows(warehouse).values()} == {"sent"}

    again = deliver_alerts(warehouse, FAST, environ)
    assert len(server.received) == 3
    assert again.already_sent == 3 and not again.sent


def test_a_failing_endpoint_is_retried_with_backoff_and_accepted_once(warehouse, server):
    add_alert(warehouse, "a1")
    server.scripts["/a"] = ["500", "503", "200"]
    waits: list[float] = []

    report = deliver_alerts(warehouse, FAST, {"HOOK_A": f"{server.url}/a"}, sleep=no_sleep(waits))

    assert [r.answered for r in server.received] == [500, 503, 200]
    assert len(server.accepted()) == 1
    assert {r.headers["Idempotency-Key"] for r in server.received} == {idempotency_key("a1", "HOOK_A")}
    assert waits == [0.01, 0.02]  # doubling from first_backoff_seconds
    row = log_rows(warehouse)["a1"]
    assert (row["status"], row["attempts"], row["last_http_status"]) == ("sent", 3, 200)
    assert row["delivered_at"] is not None and row["first_attempt_at"] <= row["last_attempt_at"]
    assert report.sent == ["a1 -> HOOK_A"]


def test_retry_after_is_waited_for_up_to_the_cap(warehouse, server):
    add_alert(warehouse, "a1", "HOOK_A")
    add_alert(warehouse, "b1", "HOOK_B")
    server.scripts["/a"] = ["429:0.04", "200"]
    server.scripts["/b"] = ["429:120", "200"]  # longer than max_backoff_seconds: not waited for in this run
    waits: list[float] = []

    report = deliver_alerts(
        warehouse, FAST, {"HOOK_A": f"{server.url}/a", "HOOK_B": f"{server.url}/b"}, sleep=no_sleep(waits)
    )

    assert waits == [0.04]
    assert report.sent == ["a1 -> HOOK_A"]
    assert "asked to retry after 120 s" in report.failed["b1 -> HOOK_B"]
    assert log_rows(warehouse)["b1"]["is_retryable"]
    assert deliver_alerts(warehouse, FAST, {"HOOK_B": f"{server.url}/b"}).sent == ["b1 -> HOOK_B"]


def test_a_client_error_is_not_retried_until_the_url_changes(warehouse, server):
    add_alert(warehouse, "a1")
    server.scripts["/gone"] = ["404"]

    report = deliver_alerts(warehouse, FAST, {"HOOK_A": f"{server.url}/gone"})

    assert len(server.received) == 1
    row = log_rows(warehouse)["a1"]
    assert (row["status"], row["last_http_status"], row["is_retryable"]) == ("failed", 404, False)
    assert report.retryable_failures == 0 and report.failed
    again = deliver_alerts(warehouse, FAST, {"HOOK_A": f"{server.url}/gone"})
    assert len(server.received) == 1
    # Not retried, and still reported while the alert is deliverable, but nothing for the retry sensor.
    assert again.failed == {"a1 -> HOOK_A": "HTTP 404 Not Found (rejected; not retried)"}
    assert again.retryable_failures == 0
    # The team fixed the variable: the same alert goes to the new URL.
    assert deliver_alerts(warehouse, FAST, {"HOOK_A": f"{server.url}/fixed"}).sent == ["a1 -> HOOK_A"]


def test_a_hanging_endpoint_fails_fast_without_holding_up_the_others_and_is_delivered_later(warehouse, server):
    for alert_id in ("h1", "h2", "h3"):
        add_alert(warehouse, alert_id, "HOOK_HANGS")
    add_alert(warehouse, "ok1", "HOOK_OK")
    server.scripts["/hangs"] = ["hang"]
    environ = {"HOOK_HANGS": f"{server.url}/hangs", "HOOK_OK": f"{server.url}/ok"}
    settings = DeliverySettings(**{**FAST.__dict__, "tries_per_refresh": 2})

    started = time.monotonic()
    report = deliver_alerts(warehouse, settings, environ)
    elapsed = time.monotonic() - started

    # Two tries of one alert, each cut at the read timeout; the other two alerts are not tried against it.
    assert elapsed < 2 * settings.read_timeout_seconds + 1.0
    assert [r.body["alert_id"] for r in server.received if r.path == "/hangs"] == ["h1", "h1"]
    assert report.sent == ["ok1 -> HOOK_OK"]
    rows = log_rows(warehouse)
    assert rows["h1"]["status"] == "failed" and rows["h1"]["last_error"] == "no answer within 0.5 s"
    assert rows["h1"]["attempts"] == 2 and rows["h1"]["is_retryable"]
    assert rows["h2"]["status"] == "failed" and rows["h2"]["attempts"] == 0
    assert rows["h2"]["last_error"].startswith("not tried: 127.0.0.1 failed earlier in this run")
    assert report.retryable_failures == 3

    server.scripts["/hangs"] = ["200"]  # recovered
    later = deliver_alerts(warehouse, settings, environ)

    assert sorted(later.sent) == ["h1 -> HOOK_HANGS", "h2 -> HOOK_HANGS", "h3 -> HOOK_HANGS"]
    assert sorted(r.body["alert_id"] for r in server.accepted()) == ["h1", "h2", "h3", "ok1"]
    assert {row["status"] for row in log_rows(warehouse).values()} == {"sent"}


def test_the_run_budget_leaves_the_rest_for_the_next_run(warehouse, server):
    for alert_id in ("a1", "a2"):
        add_alert(warehouse, alert_id)
    clock = iter([0.0, 0.0, 100.0, 100.0, 100.0])  # the budget is spent after the first alert
    settings = DeliverySettings(**{**FAST.__dict__, "run_budget_seconds": 50.0})

    report = deliver_alerts(warehouse, settings, {"HOOK_A": f"{server.url}/a"}, monotonic=lambda: next(clock))

    assert report.sent == ["a1 -> HOOK_A"] and "used up" in report.failed["a2 -> HOOK_A"]
    assert [r.body["alert_id"] for r in server.received] == ["a1"]
    assert deliver_alerts(warehouse, settings, {"HOOK_A": f"{server.url}/a"}).sent == ["a2 -> HOOK_A"]


def test_a_crash_between_send_and_log_is_sent_again_with_the_same_key(warehouse, server):
    add_alert(warehouse, "a1")
    environ = {"HOOK_A": f"{server.url}/a"}

    def send_then_die(*args) -> Answer:
        post_json(*args)
        raise KeyboardInterrupt  # the process stops after the request left, before its answer was logged

    with pytest.raises(KeyboardInterrupt):
        deliver_alerts(warehouse, FAST, environ, post=send_then_die)
    row = log_rows(warehouse)["a1"]
    assert (row["status"], row["attempts"]) == ("pending", 1)  # the attempt was recorded before sending

    deliver_alerts(warehouse, FAST, environ)

    keys = [r.headers["Idempotency-Key"] for r in server.received]
    assert len(keys) == 2 and len(set(keys)) == 1  # at least once, and the receiver can drop the copy
    assert log_rows(warehouse)["a1"]["status"] == "sent"


def test_the_webhook_url_is_never_written_to_the_log(warehouse, server):
    add_alert(warehouse, "ok")
    add_alert(warehouse, "rejected", "HOOK_REJECTS")
    add_alert(warehouse, "refused", "HOOK_REFUSED")
    server.scripts[f"/{SECRET}/rejects"] = ["403"]
    with socket_closed_port() as closed:
        environ = {
            "HOOK_A": f"{server.url}/{SECRET}/ok",
            "HOOK_REJECTS": f"{server.url}/{SECRET}/rejects",
            "HOOK_REFUSED": f"http://127.0.0.1:{closed}/{SECRET}/refused",
        }
        report = deliver_alerts(warehouse, FAST, environ)

    assert len(report.sent) == 1 and len(report.failed) == 2
    assert log_rows(warehouse)["refused"]["last_error"].startswith("connection failed")
    text = json.dumps(warehouse.execute(f"select * from {LOG_TABLE}").fetchall(), default=str)
    assert "SecretToken" not in text and "/rejects" not in text and "127.0.0.1" in text
    assert "SecretToken" not in json.dumps(report.failed)


class socket_closed_port:  # noqa: N801 (used as a context manager, reads as a phrase)
    """A local port nothing listens on."""

    def __enter__(self) -> int:
        import socket

        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        return self.sock.getsockname()[1]

    def __exit__(self, *exc) -> None:
        self.sock.close()


def test_unset_variables_mean_not_configured_and_runs_without_publication_only_retry(warehouse, server):
    add_alert(warehouse, "a1")
    report = deliver_alerts(warehouse, FAST, {})
    assert report.not_configured == {"HOOK_A": 1} and not report.failed
    assert not log_rows(warehouse)
    # A run that published nothing does not announce alerts no published run started.
    assert deliver_alerts(warehouse, FAST, {"HOOK_A": f"{server.url}/a"}, enqueue_new=False).sent == []
    assert not server.received


def test_retry_after_reads_seconds_and_http_dates():
    now = dt.datetime(2026, 11, 1, 12, 0, tzinfo=dt.UTC)
    assert retry_after_seconds("7", now) == 7.0
    assert retry_after_seconds("Sun, 01 Nov 2026 12:00:30 GMT", now) == 30.0
    assert retry_after_seconds("soon", now) is None and retry_after_seconds(None, now) is None


def load_settings_seed(con) -> None:
    con.execute("create schema if not exists scorecard")
    con.execute(
        "create or replace table scorecard.delivery_settings as select * from read_csv(?, header = true)",
        [str(REPO_ROOT / "seeds" / "delivery_settings.csv")],
    )


def test_settings_come_from_the_seed_and_a_missing_one_is_named(warehouse):
    load_settings_seed(warehouse)
    settings = load_delivery_settings(warehouse)
    assert settings.tries_per_refresh == 4 and settings.read_timeout_seconds == 10
    warehouse.execute("delete from scorecard.delivery_settings where setting = 'read_timeout_seconds'")
    with pytest.raises(ValueError, match="seeds/delivery_settings.csv has no read_timeout_seconds"):
        load_delivery_settings(warehouse)


def test_the_asset_warns_and_the_sensor_retries_until_delivered(tmp_path, server, monkeypatch):
    """Through Dagster: the delivery asset alone (a run that published nothing) retries a failed delivery, its
    check warns while it fails, and the sensor asks for another retry only while there is one to make."""
    from orchestration.defs.alerts.assets import webhook_deliveries
    from orchestration.defs.alerts.sensors import retry_failed_deliveries_sensor
    from orchestration.defs.resources import WarehouseResource

    path = tmp_path / "warehouse.duckdb"
    with duckdb.connect(str(path)) as con:
        con.execute("create schema marts")
        con.execute(f"create table marts.health_alerts ({ALERT_COLUMNS})")
        add_alert(con, "a1")
        add_alert(con, "new")
        load_settings_seed(con)
        con.execute("update scorecard.delivery_settings set value = 0.5 where setting like '%timeout%'")
        con.execute("update scorecard.delivery_settings set value = 0.01 where setting like '%backoff%'")
        # a1 failed in an earlier, published run; "new" was raised since and no published run has seen it.
        server.scripts["/a"] = ["500"]
        deliver_alerts(con, FAST, {"HOOK_A": f"{server.url}/a"})
        con.execute("delete from alerts.webhook_deliveries where alert_id = 'new'")
    monkeypatch.setenv("HOOK_A", f"{server.url}/a")
    instance = dg.DagsterInstance.ephemeral()
    resource = WarehouseResource(path=str(path), raw_dir=str(tmp_path / "raw"))

    def materialize() -> dg.ExecuteInProcessResult:
        return dg.materialize([webhook_deliveries], resources={"warehouse": resource}, instance=instance)

    still_failing = materialize()
    [check] = still_failing.get_asset_check_evaluations()
    assert not check.passed and check.severity == dg.AssetCheckSeverity.WARN
    assert still_failing.success  # a failing endpoint never fails the run
    request = retry_failed_deliveries_sensor(dg.build_sensor_context(instance=instance))
    assert isinstance(request, dg.RunRequest)

    server.scripts["/a"] = ["200"]
    recovered = materialize()
    assert recovered.get_asset_check_evaluations()[0].passed
    assert [r.body["alert_id"] for r in server.accepted()] == ["a1"]
    assert isinstance(retry_failed_deliveries_sensor(dg.build_sensor_context(instance=instance)), dg.SkipReason)


def test_the_samples_alerts_reach_the_webhook_once_even_when_the_first_try_fails(sample_run, tmp_path, server):
    """On a copy of the sample's warehouse (the refresh itself ran without webhooks configured): every
    deliverable alert is accepted exactly once although each endpoint fails its first request, and a rerun
    sends nothing."""
    assert sample_run.run.returncode == 0, sample_run.run.stderr
    copy = tmp_path / "warehouse.duckdb"
    shutil.copy(sample_run.warehouse, copy)
    with duckdb.connect(str(copy)) as con:
        deliverable = con.execute(
            "select alert_id, webhook_env_var from marts.health_alerts "
            "where is_deliverable and coalesce(webhook_env_var, '') <> ''"
        ).fetchall()
        assert deliverable, "the sample raises no deliverable alert: nothing would be tested"
        env_vars = sorted({env_var for _, env_var in deliverable})
        environ = {env_var: f"{server.url}/{env_var.lower()}" for env_var in env_vars}
        for env_var in env_vars:
            server.scripts[f"/{env_var.lower()}"] = ["503", "200"]
        settings = load_delivery_settings(con)
        report = deliver_alerts(con, settings, environ, sleep=lambda seconds: None)
        assert not report.failed
        accepted = sorted(r.body["alert_id"] for r in server.accepted())
        assert accepted == sorted(alert_id for alert_id, _ in deliverable)
        assert len([r for r in server.received if r.answered == 503]) == len(env_vars)
        received = len(server.received)
        assert deliver_alerts(con, settings, environ).already_sent == len(deliverable)
        assert len(server.received) == received


def test_delivery_follows_publishing_and_its_retry_job_runs_only_delivery(dbt_manifest):
    from orchestration.definitions import defs

    graph = defs.resolve_asset_graph()
    deliveries = dg.AssetKey(["alerts", "webhook_deliveries"])
    assert graph.get(deliveries).parent_keys == {dg.AssetKey(["serving", "health_score_marts"])}
    assert graph.get(deliveries).group_name == "alerts"
    check = graph.get(dg.AssetCheckKey(deliveries, "alerts_delivered"))
    assert not check.blocking
    job = defs.resolve_job_def("retry_alert_deliveries")
    assert job.asset_layer.executable_asset_keys == {deliveries}
    assert defs.resolve_sensor_def("retry_failed_deliveries_sensor").job_name == "retry_alert_deliveries"
