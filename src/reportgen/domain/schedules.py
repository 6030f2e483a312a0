"""Schedules: when a saved report runs, for whom, and where its files go.

A `ScheduleDraft` is what a person submits (UI form, API body, CLI); a `Schedule` is a stored
one, with its id, owner and version. Timing (`Cadence` plus an IANA timezone) is computed by
`reportgen.domain.timing`; this module holds the data and its field-level rules only. A schedule
runs a `SavedReport`: a named, versioned `ReportSpec` (every save is a new `ReportVersion`).
"""

from __future__ import annotations

from datetime import datetime, time
from enum import StrEnum
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from reportgen.domain.spec import ReportSpec

FORMATS = ("pdf", "csv", "xlsx", "html")
"""The file formats a schedule may deliver (the render service's formats)."""


class _Strict(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class MisfirePolicy(StrEnum):
    """What to do with fire times missed while no scheduler was running."""

    RUN_ONCE = "run_once"  # one run for the newest missed time; the others recorded as skipped
    RUN_ALL = "run_all"  # one run per missed time
    SKIP = "skip"  # every missed time recorded as skipped; wait for the next one


class RunAs(StrEnum):
    """Whose permissions a run's queries use."""

    RECIPIENT = "recipient"  # each recipient's own (bursting); the default
    OWNER = "owner"  # the owner's view, explicitly shared with every recipient


class Weekday(StrEnum):
    MON = "mon"
    TUE = "tue"
    WED = "wed"
    THU = "thu"
    FRI = "fri"
    SAT = "sat"
    SUN = "sun"


# Cadences: a cron expression or one of the friendly presets. `at` is local wall-clock time.


class CronCadence(_Strict):
    kind: Literal["cron"] = "cron"
    expression: Annotated[str, Field(min_length=1, max_length=100)]


class DailyAt(_Strict):
    kind: Literal["daily"] = "daily"
    at: time


class WeekdaysAt(_Strict):
    kind: Literal["weekdays"] = "weekdays"
    at: time


class WeeklyOn(_Strict):
    kind: Literal["weekly"] = "weekly"
    days: Annotated[tuple[Weekday, ...], Field(min_length=1, max_length=7)]
    at: time


class MonthlyOn(_Strict):
    """Day N of every month; in a month shorter than N, its last day."""

    kind: Literal["monthly"] = "monthly"
    day: Annotated[int, Field(ge=1, le=31)]
    at: time


class FirstBusinessDay(_Strict):
    """The first Monday-to-Friday day of every month."""

    kind: Literal["first_business_day"] = "first_business_day"
    at: time


Cadence = Annotated[
    CronCadence | DailyAt | WeekdaysAt | WeeklyOn | MonthlyOn | FirstBusinessDay,
    Field(discriminator="kind"),
]


class RecipientKind(StrEnum):
    USER = "user"  # a username: gets their own view
    ROLE = "role"  # every enabled user holding the role
    EMAIL = "email"  # an address; gets a view only if it maps to a user or the owner shares


class Recipient(_Strict):
    kind: RecipientKind
    value: Annotated[str, Field(min_length=1, max_length=320)]


class EmailChannel(_Strict):
    """Email to every recipient's address."""

    kind: Literal["email"] = "email"


class StorageChannel(_Strict):
    """Files written to the deployment's delivery storage, under an optional prefix."""

    kind: Literal["storage"] = "storage"
    prefix: Annotated[str, Field(max_length=200, pattern=r"^[A-Za-z0-9._/-]*$")] = ""


SLACK_PREFIX = "slack+"
"""Marks a webhook target that wants Slack's message shape (``slack+https://hooks...``)."""


class WebhookChannel(_Strict):
    """A JSON POST (Slack-compatible when `slack`) to an https URL outside our network."""

    kind: Literal["webhook"] = "webhook"
    url: Annotated[str, Field(min_length=1, max_length=2000)]
    slack: bool = False

    @property
    def target(self) -> str:
        """What the webhook delivery channel is handed: the URL, marked for Slack's shape."""
        return f"{SLACK_PREFIX}{self.url}" if self.slack else self.url


Channel = Annotated[
    EmailChannel | StorageChannel | WebhookChannel,
    Field(discriminator="kind"),
]


class RetryPolicy(_Strict):
    """Exponential backoff with jitter between attempts of a failing run or delivery."""

    max_attempts: Annotated[int, Field(ge=1, le=10)] = 3
    base_delay_s: Annotated[float, Field(ge=1, le=3600)] = 60.0
    max_delay_s: Annotated[float, Field(ge=1, le=86_400)] = 1800.0


class ScheduleDraft(_Strict):
    """What a person submits to create or update a schedule."""

    name: Annotated[str, Field(min_length=1, max_length=200)]
    report_id: Annotated[str, Field(min_length=1, max_length=36)]
    cadence: Cadence
    timezone: Annotated[str, Field(min_length=1, max_length=64)] = "UTC"
    recipients: Annotated[tuple[Recipient, ...], Field(max_length=500)] = ()
    channels: Annotated[tuple[Channel, ...], Field(min_length=1, max_length=20)] = (EmailChannel(),)
    formats: Annotated[tuple[str, ...], Field(min_length=1, max_length=4)] = ("pdf",)
    run_as: RunAs = RunAs.RECIPIENT
    only_if_changed: bool = False
    misfire_policy: MisfirePolicy = MisfirePolicy.RUN_ONCE
    retry: RetryPolicy = RetryPolicy()
    # Report parameters (e.g. region) the runs use; each recipient's row policies still apply.
    parameters: dict[str, tuple[str, ...]] = Field(default_factory=dict)

    @field_validator("formats")
    @classmethod
    def _known_formats(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        unknown = [f for f in value if f not in FORMATS]
        if unknown:
            raise ValueError(f"unknown format {unknown[0]!r}; use one of {', '.join(FORMATS)}")
        return tuple(dict.fromkeys(value))


class Schedule(ScheduleDraft):
    """A stored schedule. ``version`` grows with every change (optimistic locking)."""

    id: str
    owner: str
    paused: bool = False
    version: int = 1
    created_at: datetime
    updated_at: datetime
    updated_by: str = ""  # who saved, paused or resumed it last

    def draft(self) -> ScheduleDraft:
        """What a person would submit to save this schedule unchanged."""
        return ScheduleDraft.model_validate(
            self.model_dump(include=set(ScheduleDraft.model_fields))
        )


class SavedReport(_Strict):
    """A named report spec at one of its versions (the newest unless asked otherwise)."""

    id: str
    name: str
    description: str = ""
    owner: str
    dataset: str
    version: int
    spec: ReportSpec
    created_at: datetime
    updated_at: datetime


class ReportVersion(_Strict):
    """One saved version of a report: never rewritten."""

    report_id: str
    version: int
    created_by: str
    created_at: datetime
    comment: str = ""
