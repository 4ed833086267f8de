"""What the simulated sources looked like on an earlier day: the exports a team would have landed then.

A refresh on day D sees tickets opened by D (resolved only if resolved by D), invoices issued by D (paid
only if paid by D), answers, ratings, cancellations and usage up to D, milestones achieved by D, and the
accounts whose contract had started. The benchmark lands day D and then day D + 1 to measure what one
new day costs."""

from __future__ import annotations

import datetime as dt

import pandas as pd

from orchestration.sample_data.simulation import SimulationResult


def export_as_of(result: SimulationResult, day: dt.date) -> SimulationResult:
    """The sources as exported at the end of `day`."""
    frames = {name: frame.copy() for name, frame in result.frames.items() if name != "usage_events"}
    end = pd.Timestamp(day + dt.timedelta(days=1))

    def known(frame: pd.DataFrame, column: str) -> pd.Series:
        if column not in frame:  # a source without any row has no columns either
            return pd.Series(True, index=frame.index)
        values = pd.to_datetime(frame[column])
        if values.dt.tz is not None:
            values = values.dt.tz_convert(None)
        return values < end

    accounts = frames["accounts"]
    frames["accounts"] = accounts[known(accounts, "contract_start_date")].reset_index(drop=True)
    usage = result.frames["usage_events"]
    # Events are in time order: a slice, not a copy of tens of millions of rows.
    last = usage["occurred_at"].searchsorted(end.tz_localize("UTC"), side="left")
    frames["usage_events"] = usage.iloc[:last]

    tickets = frames["support_tickets"]
    tickets = tickets[known(tickets, "opened_at")].copy()
    for column in ("first_response_at", "resolved_at") if len(tickets) else ():
        tickets[column] = tickets[column].where(known(tickets, column).fillna(False))
    unresolved = tickets["resolved_at"].isna()
    tickets.loc[unresolved & tickets["status"].isin(["solved", "closed"]), "status"] = "open"
    tickets["csat_rating"] = tickets["csat_rating"].where(~unresolved)
    frames["support_tickets"] = tickets.reset_index(drop=True)

    invoices = frames["invoices"]
    invoices = invoices[known(invoices, "issued_date")].copy()
    invoices["paid_date"] = invoices["paid_date"].where(known(invoices, "paid_date").fillna(False))
    unpaid = invoices["paid_date"].isna() & (invoices["status"] != "void")
    overdue = pd.to_datetime(invoices["due_date"]) < pd.Timestamp(day)
    invoices.loc[unpaid, "status"] = "open"
    invoices.loc[unpaid & overdue, "status"] = "overdue"
    frames["invoices"] = invoices.reset_index(drop=True)

    for name, column in (
        ("survey_responses", "responded_at"),
        ("churn_events", "churned_at"),
        ("csm_ratings", "rated_on"),
    ):
        frame = frames[name]
        frames[name] = frame[known(frame, column)].reset_index(drop=True)

    milestones = frames["milestones"]
    milestones = milestones[milestones["account_id"].isin(frames["accounts"]["account_id"])].copy()
    milestones["achieved_date"] = milestones["achieved_date"].where(known(milestones, "achieved_date").fillna(False))
    frames["milestones"] = milestones.reset_index(drop=True)
    # Not an export, but cut at the same day so that it describes the same accounts and days.
    hidden_health = result.hidden_health
    hidden_health = hidden_health[hidden_health["health_date"] < end].reset_index(drop=True)
    return SimulationResult(frames, hidden_health)
