"""Posts deliverable alerts (marts.health_alerts) to the webhooks their rules name, and logs every delivery in
alerts.webhook_deliveries.

Guarantee: at least once per alert and destination while the alert is deliverable, never twice on purpose.
Each try is written to the log (status `pending`, attempts + 1) before the request leaves, and its outcome after
the answer. A delivery the log calls `sent` is never posted again. A `pending` row means a run stopped between
the two writes (killed, crashed): the next run cannot know whether the receiver got it and posts it again, with
the same idempotency key (header `Idempotency-Key` and body field `idempotency_key`), so a receiver that
remembers keys (Zapier / Make filters, a custom endpoint) drops the copy; Slack does not and may show it twice.
The same holds for a try that timed out after the server had read the request.

The webhook URLs are secrets: they are read from the environment when posting and never written anywhere; the
log keeps the host and a fingerprint (SHA-256) that tells when the URL was changed.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import time
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from email.utils import parsedate_to_datetime
from urllib.parse import urlsplit

import duckdb
import requests

from orchestration.score_display import cut_to_one_decimal

LOG_TABLE = "alerts.webhook_deliveries"
SETTINGS_SEED = "seeds/delivery_settings.csv"
# Fixed forever: idempotency keys derived from it must stay the same across runs and versions.
IDEMPOTENCY_NAMESPACE = uuid.UUID("6f1d3c52-9a57-4b8e-9d0e-1c0d2a7b5e41")
# The fields of the JSON body that no-code tools (Zapier, Make) map, in this order.
ALERT_FIELDS = (
    "alert_id",
    "rule",
    "severity",
    "account_id",
    "account_name",
    "csm_owner",
    "driver",
    "health_score",
    "health_band",
    "raised_on",
    "message",
)
SEVERITY_MARKERS = {"critical": ":red_circle:", "warning": ":large_yellow_circle:", "info": ":information_source:"}
# Proxies and gateways answer 408 and 425 for a request they did not pass on; retrying those is safe.
RETRYABLE_STATUSES = {408, 425, 429}


@dataclass(frozen=True)
class DeliverySettings:
    """seeds/delivery_settings.csv, described there."""

    connect_timeout_seconds: float
    read_timeout_seconds: float
    tries_per_refresh: int
    first_backoff_seconds: float
    max_backoff_seconds: float
    run_budget_seconds: float


def load_delivery_settings(con: duckdb.DuckDBPyConnection) -> DeliverySettings:
    values = dict(con.execute("select setting, value from scorecard.delivery_settings").fetchall())
    names = list(DeliverySettings.__dataclass_fields__)
    missing = [name for name in names if values.get(name) is None]
    if missing:
        raise ValueError(f"{SETTINGS_SEED} has no {', no '.join(missing)}")
    return DeliverySettings(
        **{name: values[name] for name in names} | {"tries_per_refresh": int(values["tries_per_refresh"])}
    )


@dataclass(frozen=True)
class Answer:
    """What one try came back with: an HTTP status, or an error that got no answer at all."""

    status: int | None = None
    error: str = ""
    retry_after_seconds: float | None = None

    @property
    def accepted(self) -> bool:
        return self.status is not None and 200 <= self.status < 300

    @property
    def retryable(self) -> bool:
        """No answer, throttled, or the server's fault: trying again later can succeed. Any other 4xx (and 3xx:
        webhooks do not redirect) says the request itself is wrong, and sending it again changes nothing."""
        return self.status is None or self.status in RETRYABLE_STATUSES or self.status >= 500


def retry_after_seconds(value: str | None, now: dt.datetime) -> float | None:
    """Retry-After in seconds, given as seconds or as an HTTP date; None when absent or unreadable."""
    if not value:
        return None
    try:
        return max(float(value), 0.0)
    except ValueError:
        pass
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=dt.UTC)
    return max((when - now).total_seconds(), 0.0)


def post_json(url: str, body: bytes, headers: Mapping[str, str], settings: DeliverySettings) -> Answer:
    """One POST. Errors are described by their kind only: requests' messages quote the URL's path, a secret."""
    try:
        response = requests.post(
            url,
            data=body,
            headers=dict(headers),
            timeout=(settings.connect_timeout_seconds, settings.read_timeout_seconds),
            allow_redirects=False,
        )
    except requests.ConnectTimeout:
        return Answer(error=f"no connection within {settings.connect_timeout_seconds:g} s")
    except requests.ReadTimeout:
        return Answer(error=f"no answer within {settings.read_timeout_seconds:g} s")
    except requests.ConnectionError as error:
        return Answer(error=f"connection failed ({type(error).__name__})")
    except requests.RequestException as error:
        return Answer(error=f"request failed ({type(error).__name__})")
    with response:
        return Answer(
            status=response.status_code,
            error="" if response.ok else f"HTTP {response.status_code} {response.reason or ''}".strip(),
            retry_after_seconds=retry_after_seconds(response.headers.get("Retry-After"), dt.datetime.now(dt.UTC)),
        )


def idempotency_key(alert_id: str, destination_env_var: str) -> str:
    """The same for every try of one alert to one destination, in every run."""
    return str(uuid.uuid5(IDEMPOTENCY_NAMESPACE, f"{alert_id}\x1f{destination_env_var}"))


def url_fingerprint(url: str) -> str:
    """Tells two URLs apart without keeping them (webhook URLs carry long random tokens)."""
    return hashlib.sha256(url.encode()).hexdigest()[:16]


def _slack_escape(text: str) -> str:
    """Slack reads &, < and > as markup in `text` and mrkdwn blocks."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _json_value(value: object) -> object:
    if isinstance(value, dt.date):
        return value.isoformat()
    if value is None or isinstance(value, str | int | float | bool):
        return value
    return float(value)  # decimals


def alert_body(alert: Mapping[str, object], key: str) -> dict[str, object]:
    """A body Slack incoming webhooks accept (`text`, `blocks`; other fields are ignored there) whose flat fields
    Zapier and Make catch hooks map directly."""
    fields = {name: _json_value(alert.get(name)) for name in ALERT_FIELDS}
    marker = SEVERITY_MARKERS.get(str(fields["severity"]), "")
    message = _slack_escape(str(fields["message"] or ""))
    score = "none" if fields["health_score"] is None else cut_to_one_decimal(fields["health_score"])
    context = (
        f"{_slack_escape(str(fields['rule']))} · {fields['severity']} · score {score} "
        f"({fields['health_band']}) · CSM {_slack_escape(str(fields['csm_owner'] or 'none'))} · "
        f"raised {fields['raised_on']}"
    )
    return {
        "text": f"{marker} {message}".strip(),
        "blocks": [
            {"type": "section", "text": {"type": "mrkdwn", "text": f"{marker} {message}".strip()}},
            {"type": "context", "elements": [{"type": "mrkdwn", "text": context}]},
        ],
        **fields,
        "idempotency_key": key,
    }


def ensure_log_table(con: duckdb.DuckDBPyConnection) -> None:
    con.execute("create schema if not exists alerts")
    con.execute(
        f"""
        create table if not exists {LOG_TABLE} (
            alert_id varchar not null,
            destination_env_var varchar not null,
            idempotency_key varchar not null,
            account_id varchar,
            rule varchar,
            url_host varchar,
            url_fingerprint varchar,
            status varchar not null,
            last_error varchar,
            attempts integer not null,
            last_http_status integer,
            is_retryable boolean not null,
            first_attempt_at timestamp,
            last_attempt_at timestamp,
            delivered_at timestamp,
            primary key (alert_id, destination_env_var)
        )
        """
    )


@dataclass
class DeliveryReport:
    """What one run did, for the asset's metadata and its check."""

    sent: list[str] = field(default_factory=list)
    failed: dict[str, str] = field(default_factory=dict)  # "alert_id -> ENV_VAR" -> last error
    already_sent: int = 0
    not_configured: dict[str, int] = field(default_factory=dict)  # env var -> deliverable alerts waiting for it
    requests_made: int = 0
    retryable_failures: int = 0

    def describe(self) -> str:
        text = f"{len(self.sent)} alert(s) delivered, {len(self.failed)} failed"
        if self.already_sent:
            text += f", {self.already_sent} sent by earlier runs"
        if self.not_configured:
            text += f"; not configured: {', '.join(sorted(self.not_configured))}"
        return text


@dataclass
class _Delivery:
    alert: dict[str, object]
    env_var: str
    previous: dict[str, object] | None

    @property
    def label(self) -> str:
        return f"{self.alert['alert_id']} -> {self.env_var}"


def _deliverable(con: duckdb.DuckDBPyConnection) -> list[dict[str, object]]:
    cursor = con.execute(
        f"select {', '.join(ALERT_FIELDS)}, webhook_env_var from marts.health_alerts "
        "where is_deliverable and coalesce(webhook_env_var, '') <> '' order by raised_on, alert_id"
    )
    names = [column[0] for column in cursor.description]
    return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]


def _log_rows(con: duckdb.DuckDBPyConnection) -> dict[tuple[str, str], dict[str, object]]:
    cursor = con.execute(f"select * from {LOG_TABLE}")
    names = [column[0] for column in cursor.description]
    rows = (dict(zip(names, row, strict=True)) for row in cursor.fetchall())
    return {(row["alert_id"], row["destination_env_var"]): row for row in rows}


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC).replace(tzinfo=None)


def _record_try(con: duckdb.DuckDBPyConnection, delivery: _Delivery, key: str, url: str) -> None:
    """Written, and committed, before the request leaves: a crash after it leaves the row `pending`."""
    now = _now()
    con.execute(
        f"""
        insert into {LOG_TABLE} (
            alert_id, destination_env_var, idempotency_key, account_id, rule, url_host, url_fingerprint, status,
            last_error, attempts, last_http_status, is_retryable, first_attempt_at, last_attempt_at, delivered_at
        ) values (?, ?, ?, ?, ?, ?, ?, 'pending', null, 1, null, true, ?, ?, null)
        on conflict (alert_id, destination_env_var) do update set
            url_host = excluded.url_host,
            url_fingerprint = excluded.url_fingerprint,
            status = 'pending',
            attempts = {LOG_TABLE}.attempts + 1,
            first_attempt_at = coalesce({LOG_TABLE}.first_attempt_at, excluded.first_attempt_at),
            last_attempt_at = excluded.last_attempt_at
        """,
        [
            delivery.alert["alert_id"],
            delivery.env_var,
            key,
            delivery.alert["account_id"],
            delivery.alert["rule"],
            urlsplit(url).hostname,
            url_fingerprint(url),
            now,
            now,
        ],
    )


def _record_outcome(
    con: duckdb.DuckDBPyConnection, delivery: _Delivery, status: str, answer: Answer, retryable: bool
) -> None:
    con.execute(
        f"""
        update {LOG_TABLE} set status = ?, last_error = ?, last_http_status = ?, is_retryable = ?,
            delivered_at = case when ? = 'sent' then ? end
        where alert_id = ? and destination_env_var = ?
        """,
        [
            status,
            answer.error or None,
            answer.status,
            retryable,
            status,
            _now(),
            delivery.alert["alert_id"],
            delivery.env_var,
        ],
    )


def _record_not_tried(con: duckdb.DuckDBPyConnection, delivery: _Delivery, key: str, url: str, reason: str) -> None:
    """A delivery this run did not try (its destination was down, or time ran out): logged as failed so that the
    check reports it and a later run tries it; its attempts stay as they were."""
    con.execute(
        f"""
        insert into {LOG_TABLE} (
            alert_id, destination_env_var, idempotency_key, account_id, rule, url_host, url_fingerprint, status,
            last_error, attempts, last_http_status, is_retryable, first_attempt_at, last_attempt_at, delivered_at
        ) values (?, ?, ?, ?, ?, ?, ?, 'failed', ?, 0, null, true, null, null, null)
        on conflict (alert_id, destination_env_var) do update set
            status = 'failed', last_error = excluded.last_error, is_retryable = true
        """,
        [
            delivery.alert["alert_id"],
            delivery.env_var,
            key,
            delivery.alert["account_id"],
            delivery.alert["rule"],
            urlsplit(url).hostname,
            url_fingerprint(url),
            reason,
        ],
    )


def _is_due(previous: dict[str, object] | None, url: str, enqueue_new: bool) -> bool:
    """For a delivery not yet sent: whether this run tries it."""
    if previous is None:
        return enqueue_new
    # Rejected (4xx) deliveries are tried again only once the URL was changed: the same request to the same
    # URL would be rejected again.
    return bool(previous["is_retryable"]) or previous["url_fingerprint"] != url_fingerprint(url)


def deliver_alerts(
    con: duckdb.DuckDBPyConnection,
    settings: DeliverySettings,
    environ: Mapping[str, str],
    *,
    enqueue_new: bool = True,
    post: Callable[[str, bytes, Mapping[str, str], DeliverySettings], Answer] = post_json,
    sleep: Callable[[float], None] = time.sleep,
    monotonic: Callable[[], float] = time.monotonic,
    log: Callable[[str], None] = lambda message: None,
) -> DeliveryReport:
    """Posts every deliverable alert not yet delivered to the URL in its rule's environment variable.

    `enqueue_new` False only retries deliveries already in the log: a run that did not publish scores must not
    announce alerts computed from scores nobody has checked. Nothing here raises on a failing endpoint."""
    ensure_log_table(con)
    logged = _log_rows(con)
    report = DeliveryReport()
    started = monotonic()
    down: dict[str, str] = {}  # env var -> why its endpoint is not tried again in this run
    for alert in _deliverable(con):
        env_var = str(alert["webhook_env_var"])
        delivery = _Delivery(alert, env_var, logged.get((alert["alert_id"], env_var)))
        url = environ.get(env_var, "").strip()
        if not url:
            # An unset variable means the team has not wired this rule to a channel: nothing to deliver yet.
            report.not_configured[env_var] = report.not_configured.get(env_var, 0) + 1
            continue
        if delivery.previous is not None and delivery.previous["status"] == "sent":
            report.already_sent += 1
            continue
        if not _is_due(delivery.previous, url, enqueue_new):
            if delivery.previous is not None:
                # Rejected earlier and not sent again: still undelivered, so the check keeps saying so.
                report.failed[delivery.label] = f"{delivery.previous['last_error']} (rejected; not retried)"
            continue
        key = idempotency_key(str(alert["alert_id"]), env_var)
        if env_var in down or monotonic() - started >= settings.run_budget_seconds:
            reason = down.get(env_var) or (
                f"not tried: this run's delivery time ({settings.run_budget_seconds:g} s) was used up"
            )
            _record_not_tried(con, delivery, key, url, reason)
            report.failed[delivery.label] = reason
            report.retryable_failures += 1
            continue
        answer = _send_with_retries(con, delivery, key, url, settings, post, sleep, monotonic, started, report)
        if answer.accepted:
            report.sent.append(delivery.label)
            continue
        report.failed[delivery.label] = answer.error
        log(f"Alert {delivery.label} not delivered: {answer.error}")
        if answer.retryable:
            report.retryable_failures += 1
            # One alert that could not get through after all its tries: the others to the same endpoint would
            # only wait out the same timeouts.
            down[env_var] = f"not tried: {urlsplit(url).hostname} failed earlier in this run ({answer.error})"
    return report


def _send_with_retries(
    con: duckdb.DuckDBPyConnection,
    delivery: _Delivery,
    key: str,
    url: str,
    settings: DeliverySettings,
    post: Callable[[str, bytes, Mapping[str, str], DeliverySettings], Answer],
    sleep: Callable[[float], None],
    monotonic: Callable[[], float],
    started: float,
    report: DeliveryReport,
) -> Answer:
    body = json.dumps(alert_body(delivery.alert, key)).encode()
    headers = {"Content-Type": "application/json", "Idempotency-Key": key, "User-Agent": "healthscore-alerts"}
    tries = max(int(settings.tries_per_refresh), 1)
    for number in range(1, tries + 1):
        _record_try(con, delivery, key, url)
        answer = post(url, body, headers, settings)
        report.requests_made += 1
        if answer.accepted:
            _record_outcome(con, delivery, "sent", answer, retryable=False)
            return answer
        _record_outcome(con, delivery, "failed", answer, retryable=answer.retryable)
        if not answer.retryable or number == tries:
            return answer
        wait = min(settings.first_backoff_seconds * 2 ** (number - 1), settings.max_backoff_seconds)
        if answer.retry_after_seconds is not None:
            if answer.retry_after_seconds > settings.max_backoff_seconds:
                # Honoured by not asking again in this run rather than by waiting that long.
                return Answer(answer.status, f"{answer.error}; asked to retry after {answer.retry_after_seconds:g} s")
            wait = answer.retry_after_seconds
        if monotonic() - started + wait >= settings.run_budget_seconds:
            return answer
        sleep(wait)
    return answer
