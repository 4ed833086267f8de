"""Simulates a B2B SaaS customer base whose hidden health drives everything the sources record.

Each account carries a latent health between 0 and 1 that drifts day by day (mean reversion towards an
account-specific level, a slow trend, and occasional shocks such as a champion leaving). That hidden
health drives product usage, ticket volume and difficulty, payment delays, survey answers, onboarding
progress and finally churn, so a good health score has real signal to find and a bad one can be caught.

The simulation is deterministic for a given seed: every random draw comes from one numpy Generator and
accounts are simulated in a fixed order.

Besides the sources, the result carries that hidden health itself (`SimulationResult.hidden_health`): the
truth a score is measured against, never landed (see truth.py).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from orchestration.defs.ingestion.contract import load_contracts

FEATURES = ("dashboard", "reports", "integrations", "automation", "exports", "alerts", "api", "admin")
MILESTONES = (("kickoff", 7), ("integration", 30), ("first_value", 45), ("go_live", 60), ("training", 90))
COUNTRIES = (("DE", 0.55), ("AT", 0.14), ("CH", 0.14), ("NL", 0.05), ("GB", 0.04), ("FR", 0.04), ("US", 0.04))
CURRENCY_BY_COUNTRY = {"CH": "CHF", "GB": "GBP", "US": "USD"}
CSM_OWNERS = ("Anna Becker", "Jonas Huber", "Lena Schmid", "Felix Wagner", "Mara Keller", "Tobias Brunner")
TICKET_CATEGORIES = ("how_to", "bug", "integration", "billing", "performance", "feature_request")
CHURN_REASONS = {
    "usage": "low adoption",
    "support": "unresolved product issues",
    "payment": "budget cuts",
    "feedback": "switched to competitor",
}
NAME_PARTS = (
    (
        "Nordlicht",
        "Alpen",
        "Rhein",
        "Isar",
        "Donau",
        "Elb",
        "Berg",
        "Tal",
        "Wald",
        "See",
        "Stern",
        "Falken",
        "Linden",
        "Eichen",
        "Bären",
        "Adler",
        "Kristall",
        "Sonnen",
        "Hafen",
        "Brücken",
    ),
    ("soft", "data", "logistik", "commerce", "systems", "werk", "labs", "consult", "media", "tech"),
    ("GmbH", "AG", "GmbH & Co. KG", "SE", "KG", "B.V.", "Ltd", "SAS", "Inc."),
)
COMMENTS = {
    "promoter": (
        "Great product, the reports save us hours every week.",
        "Sehr zufrieden, schneller Support!",
        "Die Automatisierung ist genau, was wir gebraucht haben.",
        "Works reliably, good onboarding.",
    ),
    "passive": (
        "Solid, but the exports could be more flexible.",
        "Gut, aber die Performance schwankt.",
        "Okay overall; integrations need more connectors.",
        None,
    ),
    "detractor": (
        "Too many bugs since the last release.",
        "Support antwortet zu langsam.",
        "Zu teuer für den Nutzen, den wir sehen.",
        "We barely use it; hard to roll out to the team.",
    ),
}


@dataclass(frozen=True)
class SegmentProfile:
    """How one customer segment behaves; the figures follow usual B2B SaaS ranges."""

    name: str
    share: float
    seats: tuple[int, int]
    arr_per_seat: tuple[float, float]
    plans: tuple[str, ...]
    health_mean: float
    health_spread: float
    billing_months: int
    # Probability that an account cancels at a billing/renewal decision when its health is 0.5.
    churn_at_decision: float
    activity: float
    tickets_per_seat_day: float
    nps_respondents: tuple[int, int]


SEGMENTS = (
    SegmentProfile(
        name="SMB",
        share=0.55,
        seats=(3, 15),
        arr_per_seat=(380.0, 620.0),
        plans=("Starter", "Professional"),
        health_mean=0.58,
        health_spread=0.22,
        billing_months=1,
        churn_at_decision=0.05,
        activity=0.42,
        tickets_per_seat_day=0.0035,
        nps_respondents=(1, 2),
    ),
    SegmentProfile(
        name="Mid-Market",
        share=0.30,
        seats=(15, 60),
        arr_per_seat=(450.0, 800.0),
        plans=("Professional", "Business"),
        health_mean=0.62,
        health_spread=0.18,
        billing_months=3,
        churn_at_decision=0.07,
        activity=0.30,
        tickets_per_seat_day=0.0018,
        nps_respondents=(1, 3),
    ),
    SegmentProfile(
        name="Enterprise",
        share=0.15,
        seats=(60, 220),
        arr_per_seat=(600.0, 1100.0),
        plans=("Enterprise",),
        health_mean=0.66,
        health_spread=0.14,
        billing_months=12,
        churn_at_decision=0.08,
        activity=0.16,
        tickets_per_seat_day=0.0009,
        nps_respondents=(2, 5),
    ),
)


def _no_hidden_health() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "account_id": pd.Series([], dtype="str"),
            "health_date": pd.Series([], dtype="datetime64[ns]"),
            "hidden_health": pd.Series([], dtype="float64"),
        }
    )


@dataclass
class SimulationResult:
    """One DataFrame per raw source, named as in the source contract, and the hidden health behind them.

    `hidden_health` has one row per account and simulated day (account_id, health_date, hidden_health in
    (0, 1)), ordered by account and day: the health that drove the account's behaviour and churn that day,
    onboarding drag included. An account's days run from its first simulated day (the window's first day,
    or its contract start if later) to its last active day: the last day of the window, or the day before
    its cancellation took effect, as for its usage and as scoring does (days before the churn date). The
    30 days before a cancellation, which decided it, are the account's last 30 rows."""

    frames: dict[str, pd.DataFrame] = field(default_factory=dict)
    hidden_health: pd.DataFrame = field(default_factory=_no_hidden_health)


def _sigmoid(x: np.ndarray | float) -> np.ndarray | float:
    return 1.0 / (1.0 + np.exp(-x))


def _logit(p: float) -> float:
    return float(np.log(p / (1.0 - p)))


def _add_months(day: dt.date, months: int) -> dt.date:
    month_index = day.month - 1 + months
    year = day.year + month_index // 12
    month = month_index % 12 + 1
    last_day = (dt.date(year + month // 12, month % 12 + 1, 1) - dt.timedelta(days=1)).day
    return dt.date(year, month, min(day.day, last_day))


def _company_name(rng: np.random.Generator, used: set[str]) -> str:
    while True:
        first, second, legal = (parts[rng.integers(len(parts))] for parts in NAME_PARTS)
        name = f"{first}{second} {legal}"
        if name not in used:
            used.add(name)
            return name
        if len(used) > 1500:
            name = f"{name} {len(used)}"
            used.add(name)
            return name


def _latent_health(rng: np.random.Generator, days: int, mean: float, spread: float) -> np.ndarray:
    """Daily hidden health in (0, 1): mean-reverting, trending, with rare sharp shocks."""
    level = _logit(float(np.clip(rng.normal(mean, spread), 0.08, 0.95)))
    trend = rng.normal(0.0, 0.8) / 365.0 * (rng.random() < 0.5)
    z = np.empty(days)
    current = level + rng.normal(0, 0.4)
    for day in range(days):
        target = level + trend * day
        current += 0.03 * (target - current) + rng.normal(0.0, 0.09)
        if rng.random() < 0.002:
            current -= rng.uniform(0.8, 2.0)
        z[day] = current
    return _sigmoid(z)


class _AccountSimulator:
    """Simulates one account over the window and appends its rows to the shared row lists."""

    def __init__(
        self, rng: np.random.Generator, start: dt.date, days: int, rows: dict[str, list], usage_scale: float = 1.0
    ):
        self.rng = rng
        self.usage_scale = usage_scale
        self.start = start
        self.days = days
        self.end = start + dt.timedelta(days=days - 1)
        self.rows = rows
        # Per account: its id, its first simulated day and its hidden health from then to its last active day.
        self.hidden_health: list[tuple[str, int, np.ndarray]] = []

    def run(self, number: int, profile: SegmentProfile, used_names: set[str]) -> None:
        rng = self.rng
        account_id = f"ACC-{number:05d}"
        name = _company_name(rng, used_names)
        seats = int(rng.integers(profile.seats[0], profile.seats[1] + 1))
        arr = round(seats * rng.uniform(*profile.arr_per_seat) / 100.0) * 100.0
        country = str(rng.choice([c for c, _ in COUNTRIES], p=[w for _, w in COUNTRIES]))
        currency = CURRENCY_BY_COUNTRY.get(country, "EUR")
        # Existing customers started before the window; about a quarter join during it.
        if rng.random() < 0.75:
            contract_start = self.start - dt.timedelta(days=int(rng.integers(30, 1100)))
        else:
            contract_start = self.start + dt.timedelta(days=int(rng.integers(0, int(self.days * 0.85))))
        offset = (contract_start - self.start).days
        health = _latent_health(rng, self.days, profile.health_mean, profile.health_spread)

        milestone_health = self._milestones(account_id, contract_start, health)
        health = self._onboarding_drag(health, offset, milestone_health)
        churn_day, churn_type = self._churn(account_id, profile, contract_start, arr, health)
        active_until = churn_day if churn_type == "cancellation" else self.days
        first_day = max(offset, 0)
        # Recorded, not drawn: keeping it takes no random numbers, so the sources stay as they were.
        self.hidden_health.append((account_id, first_day, health[first_day:active_until]))

        self._usage(account_id, seats, profile, health, first_day, active_until)
        self._tickets(account_id, seats, profile, health, first_day, active_until)
        self._invoices(account_id, profile, arr, currency, contract_start, health, active_until)
        self._surveys(account_id, name, profile, health, first_day, active_until)
        self._csm_ratings(account_id, profile, health, first_day, active_until)

        renewal = _add_months(contract_start, 12)
        while renewal <= self.end:
            renewal = _add_months(renewal, 12)
        days_since_start = (self.end - contract_start).days
        if days_since_start < 90:
            lifecycle = "onboarding"
        elif (renewal - self.end).days <= 90:
            lifecycle = "renewal"
        else:
            lifecycle = "adopted"
        domain = name.split(" ")[0].lower().replace("ä", "ae").replace("ö", "oe").replace("ü", "ue")
        first, last = CSM_OWNERS[int(rng.integers(len(CSM_OWNERS)))].split(" ")
        self.rows["accounts"].append(
            {
                "account_id": account_id,
                "account_name": name,
                "segment": profile.name,
                "plan": str(rng.choice(profile.plans)),
                "country": country,
                "arr": arr,
                "currency": currency,
                "seats": seats,
                "contract_start_date": contract_start,
                "renewal_date": renewal,
                "csm_owner": f"{first} {last}",
                "lifecycle_stage": lifecycle,
                "contact_email": f"kontakt.{number}@{domain}.example",
            }
        )

    def _onboarding_drag(self, health: np.ndarray, offset: int, milestone_health: float) -> np.ndarray:
        """A slow onboarding keeps health low for the first months of the contract."""
        days_in = np.arange(self.days) - offset
        drag = np.where((days_in >= 0) & (days_in < 120), (1 - milestone_health) * 0.3 * (1 - days_in / 120), 0)
        return np.clip(health - drag, 0.01, 0.99)

    def _milestones(self, account_id: str, contract_start: dt.date, health: np.ndarray) -> float:
        """Records the onboarding plan; returns how well onboarding went (0..1)."""
        rng = self.rng
        start_index = min(max((contract_start - self.start).days, 0), self.days - 1)
        early_health = float(health[start_index : start_index + 60].mean())
        achieved_count = 0
        slip = 0
        for milestone, target_offset in MILESTONES:
            target = contract_start + dt.timedelta(days=target_offset)
            slip += max(0, int(rng.normal(24 * (1 - early_health) ** 2, 4)))
            achieved = target + dt.timedelta(days=slip)
            if rng.random() < 0.25 * (1 - early_health) and contract_start >= self.start - dt.timedelta(days=200):
                achieved = None
            if achieved is not None and achieved > self.end:
                achieved = None
            if achieved is not None:
                achieved_count += 1
            self.rows["milestones"].append(
                {
                    "account_id": account_id,
                    "milestone": milestone,
                    "target_date": target,
                    "achieved_date": achieved,
                }
            )
            if achieved is None:
                break
        return achieved_count / len(MILESTONES) * early_health + (1 - early_health) * 0.2

    def _churn(
        self, account_id: str, profile: SegmentProfile, contract_start: dt.date, arr: float, health: np.ndarray
    ) -> tuple[int, str | None]:
        """Cancellation or downgrade happens at billing decisions; low recent health makes it likely."""
        rng = self.rng
        decision = _add_months(contract_start, profile.billing_months)
        while decision <= self.end:
            index = (decision - self.start).days
            if index >= 30:
                recent = float(health[index - 30 : index].mean())
                p_cancel = _sigmoid(_logit(profile.churn_at_decision) + 7.0 * (0.5 - recent))
                p_downgrade = 0.3 * p_cancel
                draw = rng.random()
                if draw < p_cancel or draw < p_cancel + p_downgrade:
                    churn_type = "cancellation" if draw < p_cancel else "downgrade"
                    weakest = str(rng.choice(list(CHURN_REASONS)))
                    lost = arr if churn_type == "cancellation" else round(arr * rng.uniform(0.2, 0.5), -2)
                    self.rows["churn_events"].append(
                        {
                            "account_id": account_id,
                            "churned_at": decision,
                            "churn_type": churn_type,
                            "reason": CHURN_REASONS[weakest] if rng.random() < 0.8 else None,
                            "arr_lost": lost,
                        }
                    )
                    if churn_type == "cancellation":
                        return index, churn_type
            decision = _add_months(decision, profile.billing_months)
        return self.days, None

    def _usage(
        self,
        account_id: str,
        seats: int,
        profile: SegmentProfile,
        health: np.ndarray,
        first_day: int,
        active_until: int,
    ) -> None:
        rng = self.rng
        span = active_until - first_day
        if span <= 0:
            return
        days = np.arange(first_day, active_until)
        h = health[first_day:active_until]
        weekday = np.array([(self.start + dt.timedelta(days=int(d))).weekday() for d in days])
        weekday_factor = np.where(weekday >= 5, 0.12, 1.0)
        # Ramp-up over the first weeks of a new contract.
        ramp = np.clip((days - first_day + 1) / 30.0, 0.15, 1.0) if first_day > 0 else np.ones(span)
        # Users differ: some are power users, some barely log in.
        user_affinity = rng.beta(1.2, 2.5, size=seats)
        p_active = np.clip(
            profile.activity
            * (h**1.6)[:, None]
            * weekday_factor[:, None]
            * ramp[:, None]
            * user_affinity[None, :]
            * 2.2,
            0,
            0.95,
        )
        active = rng.random(p_active.shape) < p_active
        day_index, user_index = np.nonzero(active)
        if day_index.size == 0:
            return
        events_per_user = 1 + rng.poisson(1.2 * h[day_index] * self.usage_scale)
        day_index = np.repeat(day_index, events_per_user)
        user_index = np.repeat(user_index, events_per_user)
        breadth = 2 + np.round(6 * h[day_index] ** 1.3).astype(int)
        feature_index = np.minimum((rng.random(day_index.size) * breadth).astype(int), len(FEATURES) - 1)
        seconds = rng.integers(7 * 3600, 19 * 3600, size=day_index.size)
        # Kept as numbers: tens of millions of events would not fit in memory as Python strings.
        self.rows["usage_events"].append(
            {
                "account_number": np.full(day_index.size, int(account_id.removeprefix("ACC-")), dtype=np.int32),
                "user_number": user_index.astype(np.int16),
                "occurred_ns": (
                    np.datetime64(self.start, "ns")
                    + days[day_index].astype("timedelta64[D]")
                    + seconds.astype("timedelta64[s]")
                ).astype(np.int64),
                "feature_index": feature_index.astype(np.int8),
                "duration_seconds": np.round(rng.lognormal(4.5 + h[day_index], 0.8)).astype("int64"),
            }
        )

    def _tickets(
        self,
        account_id: str,
        seats: int,
        profile: SegmentProfile,
        health: np.ndarray,
        first_day: int,
        active_until: int,
    ) -> None:
        rng = self.rng
        for day in range(first_day, active_until):
            h = health[day]
            rate = seats * profile.tickets_per_seat_day * (0.4 + 2.2 * (1 - h) ** 2) + 0.004
            for _ in range(rng.poisson(rate)):
                opened = dt.datetime.combine(self.start + dt.timedelta(days=day), dt.time(8)) + dt.timedelta(
                    minutes=int(rng.integers(0, 600))
                )
                severe = 0.08 + 0.45 * (1 - h) ** 2
                priority = str(
                    rng.choice(
                        ["low", "normal", "high", "urgent"],
                        p=[0.3 * (1 - severe), 0.7 * (1 - severe), 0.7 * severe, 0.3 * severe],
                    )
                )
                first_response = opened + dt.timedelta(hours=float(rng.lognormal(0.5 + (1 - h), 0.7)))
                resolution_hours = float(rng.lognormal(2.3 + 1.8 * (1 - h), 0.9))
                resolved = opened + dt.timedelta(hours=resolution_hours)
                now = dt.datetime.combine(self.end, dt.time(23, 59))
                if first_response > now:
                    first_response = None
                csat = None
                if resolved > now:
                    resolved = None
                    status = str(rng.choice(["open", "pending"], p=[0.6, 0.4]))
                else:
                    status = "closed" if (now - resolved).days > 7 else "solved"
                    if rng.random() < 0.45:
                        csat = int(np.clip(round(rng.normal(1.6 + 3.8 * h, 0.8)), 1, 5))
                self.rows["support_tickets"].append(
                    {
                        "account_id": account_id,
                        "opened_at": opened,
                        "first_response_at": first_response,
                        "resolved_at": resolved,
                        "priority": priority,
                        "category": str(rng.choice(TICKET_CATEGORIES)),
                        "status": status,
                        "csat_rating": csat,
                    }
                )

    def _invoices(
        self,
        account_id: str,
        profile: SegmentProfile,
        arr: float,
        currency: str,
        contract_start: dt.date,
        health: np.ndarray,
        active_until: int,
    ) -> None:
        rng = self.rng
        amount = round(arr * profile.billing_months / 12.0, 2)
        issued = contract_start
        last_day = self.start + dt.timedelta(days=active_until - 1)
        while issued <= last_day:
            if issued >= self.start - dt.timedelta(days=90):
                index = min(max((issued - self.start).days, 0), self.days - 1)
                h = float(health[index])
                due = issued + dt.timedelta(days=30 if profile.name != "SMB" else 14)
                delay = int(round(rng.normal(-7 + 50 * (1 - h) ** 2.5, 5)))
                # Early payers pay on the day they are invoiced at the earliest, never before.
                paid = max(due + dt.timedelta(days=delay), issued)
                if rng.random() < 0.35 * (1 - h) ** 2:
                    paid = None  # some invoices of struggling accounts stay unpaid
                if paid is not None and paid > self.end:
                    paid = None
                if rng.random() < 0.01:
                    status, paid = "void", None
                elif paid is not None:
                    status = "paid"
                else:
                    status = "overdue" if due < self.end else "open"
                self.rows["invoices"].append(
                    {
                        "account_id": account_id,
                        "issued_date": issued,
                        "due_date": due,
                        "paid_date": paid,
                        "amount": amount,
                        "currency": currency,
                        "status": status,
                    }
                )
            issued = _add_months(issued, profile.billing_months)

    def _surveys(
        self, account_id: str, name: str, profile: SegmentProfile, health: np.ndarray, first_day: int, active_until: int
    ) -> None:
        rng = self.rng
        # A relationship NPS survey each quarter, and a CSAT pulse after onboarding-heavy months.
        quarter_starts = [d for d in range(0, self.days, 91) if first_day + 30 <= d + 20 < active_until]
        for survey_day in quarter_starts:
            respondents = int(rng.integers(profile.nps_respondents[0], profile.nps_respondents[1] + 1))
            for respondent in range(respondents):
                if rng.random() > 0.55:
                    continue
                day = survey_day + int(rng.integers(0, 20))
                if day >= active_until:
                    continue
                score = int(np.clip(round(rng.normal(2.5 + 9.0 * health[day], 1.4)), 0, 10))
                bucket = "promoter" if score >= 9 else "passive" if score >= 7 else "detractor"
                self._survey_row(account_id, respondent, day, "nps", score, bucket)
        for day in range(first_day + 20, active_until, 120):
            if rng.random() < 0.5:
                score = int(np.clip(round(rng.normal(1.4 + 4.0 * health[day], 0.7)), 1, 5))
                bucket = "promoter" if score >= 5 else "passive" if score >= 4 else "detractor"
                self._survey_row(account_id, 9, day, "csat", score, bucket)

    def _csm_ratings(
        self, account_id: str, profile: SegmentProfile, health: np.ndarray, first_day: int, active_until: int
    ) -> None:
        """CSMs rate larger accounts every couple of months; ratings expire after 60 days."""
        rng = self.rng
        chance = {"SMB": 0.1, "Mid-Market": 0.35, "Enterprise": 0.7}[profile.name]
        owner = CSM_OWNERS[int(rng.integers(len(CSM_OWNERS)))]
        for day in range(first_day + 14, active_until, 60):
            if rng.random() >= chance:
                continue
            day += int(rng.integers(0, 20))
            if day >= active_until:
                continue
            rated = self.start + dt.timedelta(days=day)
            rating = int(np.clip(round(rng.normal(0.8 + 4.4 * health[day], 0.6)), 1, 5))
            self.rows["csm_ratings"].append(
                {
                    "account_id": account_id,
                    "rated_on": rated,
                    "rating": rating,
                    "rated_by": owner,
                    "expires_on": rated + dt.timedelta(days=60),
                    "note": None if rating >= 3 else "Sponsor unhappy, needs an executive call",
                }
            )

    def _survey_row(
        self, account_id: str, respondent: int, day: int, survey_type: str, score: int, bucket: str
    ) -> None:
        rng = self.rng
        comment = None
        if rng.random() < 0.4:
            comment = COMMENTS[bucket][int(rng.integers(len(COMMENTS[bucket])))]
        responded = dt.datetime.combine(self.start + dt.timedelta(days=day), dt.time(9)) + dt.timedelta(
            minutes=int(rng.integers(0, 540))
        )
        self.rows["survey_responses"].append(
            {
                "account_id": account_id,
                "respondent_email": f"user{respondent}.{account_id.lower()}@customer.example",
                "responded_at": responded,
                "survey_type": survey_type,
                "score": score,
                "comment": comment,
            }
        )


def _usage_frame(parts: list[dict[str, np.ndarray]]) -> pd.DataFrame:
    """The usage events of all accounts, in time order (then account and user), with their identifiers."""
    columns = ("account_number", "user_number", "occurred_ns", "feature_index", "duration_seconds")
    if not parts:
        arrays = {name: np.array([], dtype=np.int64) for name in columns}
    else:
        arrays = {name: np.concatenate([part[name] for part in parts]) for name in columns}
    order = np.lexsort((arrays["user_number"], arrays["account_number"], arrays["occurred_ns"]))
    arrays = {name: values[order] for name, values in arrays.items()}

    def padded(numbers: np.ndarray, width: int) -> pa.Array:
        # Large strings: tens of millions of identifiers exceed the 2 GB a plain Arrow string array can hold.
        return pc.utf8_lpad(pc.cast(pa.array(numbers, type=pa.int64()), pa.large_string()), width=width, padding="0")

    account_ids = pc.binary_join_element_wise(
        pa.scalar("ACC-", pa.large_string()), padded(arrays["account_number"], 5), pa.scalar("", pa.large_string())
    )
    table = pa.table(
        {
            "event_id": pc.binary_join_element_wise(
                pa.scalar("EV-", pa.large_string()),
                padded(np.arange(1, order.size + 1), 9),
                pa.scalar("", pa.large_string()),
            ),
            "account_id": account_ids,
            "user_id": pc.binary_join_element_wise(
                account_ids, padded(arrays["user_number"], 3), pa.scalar("-U", pa.large_string())
            ),
            "occurred_at": pa.array(arrays["occurred_ns"] // 1000, type=pa.timestamp("us", tz="UTC")),
            "feature": pc.take(
                pa.array(FEATURES, type=pa.large_string()), pa.array(arrays["feature_index"], type=pa.int32())
            ),
            "duration_seconds": pa.array(arrays["duration_seconds"], type=pa.int64()),
        }
    )
    return table.to_pandas()


def _hidden_health_frame(start: dt.date, parts: list[tuple[str, int, np.ndarray]]) -> pd.DataFrame:
    """The hidden health of all accounts, one row per account and simulated day, in account and day order."""
    if not parts:
        return _no_hidden_health()
    lengths = np.array([health.size for _, _, health in parts])
    # One string per account, repeated by reference: millions of rows at volume, not millions of strings.
    account_ids = np.repeat(np.array([account_id for account_id, _, _ in parts], dtype=object), lengths)
    day_index = np.concatenate([np.arange(first_day, first_day + health.size) for _, first_day, health in parts])
    return pd.DataFrame(
        {
            "account_id": pd.Series(account_ids, dtype="str"),
            "health_date": (np.datetime64(start, "D") + day_index.astype("timedelta64[D]")).astype("datetime64[ns]"),
            "hidden_health": np.concatenate([health for _, _, health in parts]).astype("float64"),
        }
    )


# Account hierarchies come from a random stream of their own, drawn after everything else: the rest of the
# sample stays exactly as it was before accounts had parents, so the figures quoted from it stay true.
HIERARCHY_STREAM = 1
PARENT_SHARE = 0.04
CHILDREN_PER_PARENT = (2, 5)
# Groups with a second level (a child that is itself a parent): the roll-up goes through every level.
SECOND_LEVEL_SHARE = 0.4


def _parent_accounts(accounts: pd.DataFrame, seed: int) -> pd.Series:
    """A parent for some accounts, as corporate groups have in a CRM: a few Mid-Market and Enterprise accounts
    head a family of two to five others, some of which head one of their own. A parent's contract starts no
    later than its children's, so every export that holds a child holds its parent."""
    rng = np.random.default_rng([seed, HIERARCHY_STREAM])
    starts = pd.to_datetime(accounts["contract_start_date"])
    parents = pd.Series(None, index=accounts.index, dtype="object")
    heads = accounts.index[accounts["segment"].isin(["Mid-Market", "Enterprise"]).to_numpy()]
    count = min(len(heads), max(1, round(len(accounts) * PARENT_SHARE)))
    taken: set[int] = set()

    def adopt(parent: int) -> list[int]:
        """Gives `parent` two to five children among the accounts not yet in a family."""
        eligible = [i for i in accounts.index if i not in taken and starts[i] >= starts[parent]]
        size = min(len(eligible), int(rng.integers(CHILDREN_PER_PARENT[0], CHILDREN_PER_PARENT[1] + 1)))
        children = sorted(int(i) for i in rng.choice(eligible, size=size, replace=False)) if size else []
        for child in children:
            parents[child] = accounts.at[parent, "account_id"]
            taken.add(child)
        return children

    for head in sorted(int(i) for i in rng.choice(heads, size=count, replace=False)) if count else []:
        if head in taken:
            continue  # already a child in an earlier family
        taken.add(head)
        children = adopt(head)
        if children and rng.random() < SECOND_LEVEL_SHARE:
            adopt(children[0])
    return parents


def simulate(accounts: int, days: int, seed: int, end_date: dt.date, usage_scale: float = 1.0) -> SimulationResult:
    """Simulates `accounts` accounts over the `days` days that end on `end_date`. `usage_scale` multiplies
    the events an active user records per day beyond the first (1: the committed sample's rate)."""
    if accounts < 1 or days < 30:
        raise ValueError("need at least 1 account and 30 days")
    rng = np.random.default_rng(seed)
    start = end_date - dt.timedelta(days=days - 1)
    # One row list per source of the contract, so a source added there cannot be forgotten here.
    rows: dict[str, list] = {name: [] for name in load_contracts()}
    simulator = _AccountSimulator(rng, start, days, rows, usage_scale)
    shares = np.array([s.share for s in SEGMENTS])
    used_names: set[str] = set()
    for number in range(1, accounts + 1):
        profile = SEGMENTS[int(rng.choice(len(SEGMENTS), p=shares))]
        simulator.run(number, profile, used_names)

    contracts = load_contracts()
    # A source without any row still has its columns, as a real export with no rows has its header.
    frames = {
        name: pd.DataFrame(rows[name]) if rows[name] else pd.DataFrame(columns=list(contracts[name].column_names))
        for name in rows
        if name != "usage_events"
    }
    frames["usage_events"] = _usage_frame(rows["usage_events"])
    if len(frames["accounts"]):
        frames["accounts"]["parent_account_id"] = _parent_accounts(frames["accounts"], seed)
    for name, key_prefix, key in (
        ("support_tickets", "TCK", "ticket_id"),
        ("invoices", "INV", "invoice_id"),
        ("survey_responses", "RSP", "response_id"),
    ):
        frame = frames[name]
        if key not in frame:
            frame.insert(0, key, [f"{key_prefix}-{i:07d}" for i in range(1, len(frame) + 1)])
    return SimulationResult(frames, _hidden_health_frame(start, simulator.hidden_health))
