"""The create and edit form of a schedule.

The form is not an ``st.form``: the plain-English description and the next five fire times
follow every change of the cadence or timezone. Its widgets are keyed under a *generation*
(``schedules_<gen>_<field>``); opening the form (new, edit, or "Reload theirs") starts a new
generation seeded from a `ScheduleDraft`, so a refused save leaves the user's values untouched.

Saving checks the whole draft first (the form's own checks, the model's, then
`ScheduleService.check`) and shows every problem beside the field it concerns; nothing is saved
while any remains. An edit carries the version the form was opened with: when someone saved in
between, the service's `Conflict` is shown with a "Reload theirs" button, and the draft stays.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import time
from typing import Any, cast

import streamlit as st
from pydantic import ValidationError
from streamlit.delta_generator import DeltaGenerator

from components.home_times import viewer_timezone
from components.schedule_notices import guarded, notice
from components.schedule_text import (
    CADENCE_KINDS,
    MISFIRE,
    MISFIRE_HELP,
    RUN_AS,
    RUN_AS_HELP,
    SHARING_WARNING,
    WEEKDAY_NAMES,
    local_time,
)
from components.session import services
from components.text import plain
from reportgen.domain.principal import Principal, Role
from reportgen.domain.schedules import (
    FORMATS,
    DailyAt,
    EmailChannel,
    MisfirePolicy,
    Recipient,
    RecipientKind,
    RetryPolicy,
    RunAs,
    SavedReport,
    ScheduleDraft,
    StorageChannel,
    WebhookChannel,
    Weekday,
)
from reportgen.domain.timing.checks import timezone_names
from reportgen.errors import Conflict, InvalidInput, NotFound

FORM = "_schedules_form"
"""Session key of the open form: {"gen", "schedule_id", "version", "parameters", "retry"}."""
CONFLICT = "_schedules_conflict"
_GENERATION = "_schedules_generation"
DEFAULT_AT = time(8, 0)
DEFAULT_CRON = "0 8 * * 1-5"
FORMAT_LABELS = {"pdf": "PDF", "csv": "CSV", "xlsx": "Excel (XLSX)", "html": "HTML"}
GENERAL = "general"
_PATH = re.compile(r"^(?P<root>[a-z_]+)(?:\[(?P<index>\d+)\])?")
_LOCATED = re.compile(r"^(?P<path>[A-Za-z_][\w.\[\]]*): (?P<message>.+)$", re.DOTALL)
_ADDRESSES = re.compile(r"[\s,;]+")


def widget(name: str) -> str:
    """The key of form field `name` in the open form's generation."""
    form = st.session_state.get(FORM) or {}
    return f"schedules_{form.get('gen', 0)}_{name}"


def browser_timezone() -> str:
    """The visitor's browser timezone when Streamlit knows it and it is an IANA name, else UTC."""
    zone = viewer_timezone()
    return zone if zone in timezone_names() else "UTC"


def new_draft(principal: Principal, report_id: str | None, name: str = "") -> ScheduleDraft:
    """What a new schedule starts as: daily at 08:00 in the browser's timezone, PDF by email
    to its author, named after its report when it has one (else not yet valid: no name)."""
    return ScheduleDraft.model_construct(
        name=name,
        report_id=report_id or "?",
        cadence=DailyAt(at=DEFAULT_AT),
        timezone=browser_timezone(),
        recipients=(Recipient(kind=RecipientKind.USER, value=principal.username),),
    )


def open_form(draft: ScheduleDraft, *, schedule_id: str | None, version: int | None) -> None:
    """Open the form on `draft` (a new generation of widgets); callbacks and the page call it."""
    gen = int(st.session_state.get(_GENERATION, 0)) + 1
    st.session_state[_GENERATION] = gen
    st.session_state[FORM] = {
        "gen": gen,
        "schedule_id": schedule_id,
        "version": version,
        "parameters": dict(draft.parameters),
        "retry": draft.retry,
    }
    st.session_state.pop(CONFLICT, None)
    cadence = draft.cadence
    kinds = {kind: [r.value for r in draft.recipients if r.kind is kind] for kind in RecipientKind}
    storage = next((c for c in draft.channels if isinstance(c, StorageChannel)), None)
    webhook = next((c for c in draft.channels if isinstance(c, WebhookChannel)), None)
    seeds: dict[str, Any] = {
        "name": draft.name,
        "report": draft.report_id,
        "kind": cadence.kind,
        "at": getattr(cadence, "at", DEFAULT_AT),
        "days": list(getattr(cadence, "days", (Weekday.MON,))),
        "day": getattr(cadence, "day", 1),
        "cron": getattr(cadence, "expression", DEFAULT_CRON),
        "timezone": draft.timezone,
        "users": kinds[RecipientKind.USER],
        "roles": kinds[RecipientKind.ROLE],
        "emails": "\n".join(kinds[RecipientKind.EMAIL]),
        "email_on": any(isinstance(c, EmailChannel) for c in draft.channels),
        "storage_on": storage is not None,
        "storage_prefix": storage.prefix if storage else "",
        "webhook_on": webhook is not None,
        "webhook_url": webhook.url if webhook else "",
        "webhook_slack": webhook.slack if webhook else False,
        "formats": list(draft.formats),
        "run_as": draft.run_as,
        "only_if_changed": draft.only_if_changed,
        "misfire": draft.misfire_policy,
        "attempts": draft.retry.max_attempts,
    }
    for name, value in seeds.items():
        st.session_state[f"schedules_{gen}_{name}"] = value


def close_form() -> None:
    st.session_state.pop(FORM, None)
    st.session_state.pop(CONFLICT, None)


def form_state() -> dict[str, Any] | None:
    form = st.session_state.get(FORM)
    return cast("dict[str, Any]", form) if isinstance(form, dict) else None


def reload_theirs(principal: Principal, schedule_id: str) -> None:
    """Button callback: drop the draft and reopen the form on the schedule as saved now."""
    try:
        current = services().schedules.get(principal, schedule_id)
    except NotFound as exc:
        close_form()
        notice("warning", str(exc))
        return
    open_form(current.draft(), schedule_id=current.id, version=current.version)


@dataclass
class Problems:
    """Problems by the slot of the field they concern, placed once every field is drawn."""

    slots: dict[str, DeltaGenerator] = field(default_factory=dict)
    found: dict[str, list[str]] = field(default_factory=dict)
    recipient_kinds: list[str] = field(default_factory=list)
    channel_kinds: list[str] = field(default_factory=list)

    def slot(self, name: str) -> None:
        self.slots[name] = st.empty()

    def add(self, path: str, message: str) -> None:
        slot = self.slot_for(path)
        sentence = message[:1].upper() + message[1:]
        if sentence not in self.found.setdefault(slot, []):
            self.found[slot].append(sentence)

    def add_located(self, problems: list[str]) -> None:
        """Problems worded ``field: message`` (InvalidInput from the service)."""
        for problem in problems:
            match = _LOCATED.match(problem)
            if match is None:
                self.add(GENERAL, problem)
            else:
                self.add(match["path"], match["message"])

    def slot_for(self, path: str) -> str:
        match = _PATH.match(path)
        if match is None:
            return GENERAL
        root, index = match["root"], match["index"]
        if root == "recipients" and index is not None and int(index) < len(self.recipient_kinds):
            return f"recipients.{self.recipient_kinds[int(index)]}"
        if root == "channels" and index is not None and int(index) < len(self.channel_kinds):
            return f"channels.{self.channel_kinds[int(index)]}"
        if root == "misfire_policy":
            return "misfire"
        return root if root in self.slots else GENERAL

    def __bool__(self) -> bool:
        return any(self.found.values())

    def show(self) -> None:
        for slot, messages in self.found.items():
            target = self.slots.get(slot) or self.slots[GENERAL]
            with target.container():
                for message in messages:
                    st.error(message, icon=":material/error:")


def _report_label(reports: dict[str, SavedReport]) -> Any:
    def label(report_id: str) -> str:
        report = reports.get(report_id)
        if report is None:
            return "A report you can no longer open"
        return f"{report.name} (version {report.version}, {report.dataset})"

    return label


def _cadence_fields(problems: Problems) -> tuple[dict[str, Any] | None, str]:
    """Draw the cadence and timezone fields; the cadence they describe (None when incomplete)."""
    kind = st.selectbox(
        "Repeats",
        list(CADENCE_KINDS),
        format_func=CADENCE_KINDS.__getitem__,
        key=widget("kind"),
        help="Every weekday runs Monday to Friday; on chosen days runs only on the days you pick.",
    )
    cadence: dict[str, Any] | None = {"kind": kind}
    if kind == "cron":
        expression = st.text_input(
            "Cron expression",
            key=widget("cron"),
            max_chars=100,
            help="Five fields: minute hour day-of-month month day-of-week, e.g. 0 8 * * 1-5.",
        )
        if not expression.strip():
            problems.add("cadence", "enter a cron expression, e.g. 0 8 * * 1-5 (weekdays 08:00)")
            cadence = None
        else:
            cadence = {"kind": kind, "expression": expression.strip()}
    else:
        row = st.columns(2)
        with row[0]:
            at = st.time_input("At (local time)", key=widget("at"), step=300)
        assert cadence is not None
        cadence["at"] = at
        if kind == "weekly":
            with row[1]:
                days = st.multiselect(
                    "Days of the week",
                    list(Weekday),
                    format_func=WEEKDAY_NAMES.__getitem__,
                    key=widget("days"),
                    placeholder="Pick days",
                )
            if not days:
                problems.add("cadence", "pick at least one day of the week")
                cadence = None
            else:
                cadence["days"] = tuple(days)
        elif kind == "monthly":
            with row[1]:
                day = st.number_input(
                    "Day of the month",
                    min_value=1,
                    max_value=31,
                    step=1,
                    key=widget("day"),
                    help="In months shorter than this, the run is on their last day.",
                )
            cadence["day"] = int(day)
    problems.slot("cadence")
    zones = sorted(timezone_names())
    timezone = st.selectbox(
        "Timezone",
        zones,
        key=widget("timezone"),
        help="Type to search, e.g. London or New_York. Daylight saving time is followed.",
    )
    problems.slot("timezone")
    return cadence, timezone


def _timing_preview(cadence: dict[str, Any] | None, timezone: str, problems: Problems) -> None:
    """The cadence in words and its next five fire times, or its problems beside the field."""
    if cadence is None:
        return
    try:
        model = ScheduleDraft.model_validate(
            {"name": "preview", "report_id": "preview", "cadence": cadence}
        ).cadence
    except ValidationError as exc:
        for error in exc.errors():
            problems.add("cadence", str(error["msg"]))
        return
    preview = services().schedules.timing(model, timezone, count=5)
    for problem in preview.problems:
        problems.add("cadence" if not problem.startswith("timezone") else "timezone", problem)
    if preview.problems:
        return
    times = "  \n".join(local_time(t, timezone, weekday=True) for t in preview.next_fire_times)
    with st.container(border=True, key=widget("timing")):
        st.markdown(f":material/schedule: **{plain(preview.description)}**")
        st.caption(f"Next {len(preview.next_fire_times)} runs:  \n{plain(times)}")


def _recipient_fields(problems: Problems) -> list[dict[str, str]]:
    st.markdown("**Recipients**")
    people = [u for u in services().users.list() if not u.disabled]
    names = {u.username: f"{u.display_name or u.username} ({u.username})" for u in people}
    chosen_users = st.session_state.get(widget("users"), [])
    for username in chosen_users:  # keep a recipient who left, so the problem can be shown
        names.setdefault(username, username)
    users = st.multiselect(
        "People",
        list(names),
        format_func=names.__getitem__,
        key=widget("users"),
        placeholder="Choose people",
        help="Each person gets the report as their own access allows (unless you share yours).",
    )
    problems.slot("recipients.user")
    roles = st.multiselect(
        "Everyone with the role",
        [role.value for role in Role],
        key=widget("roles"),
        placeholder="Choose roles",
    )
    problems.slot("recipients.role")
    emails = st.text_area(
        "External email addresses",
        key=widget("emails"),
        height=80,
        placeholder="one@example.com, another@example.com",
        help="One per line or separated by commas. An address without an account here gets the "
        "report only when you share your view.",
    )
    problems.slot("recipients.email")
    problems.slot("recipients")
    addresses = [a for a in _ADDRESSES.split(emails) if a]
    recipients = [
        *({"kind": RecipientKind.USER.value, "value": u} for u in users),
        *({"kind": RecipientKind.ROLE.value, "value": r} for r in roles),
        *({"kind": RecipientKind.EMAIL.value, "value": a} for a in addresses),
    ]
    problems.recipient_kinds = [r["kind"] for r in recipients]
    return recipients


def _channel_fields(problems: Problems) -> list[dict[str, Any]]:
    """The ticked channels as the model's fields (the model checks them when saving)."""
    st.markdown("**Delivery**")
    channels: list[dict[str, Any]] = []
    if st.checkbox("Email to the recipients", key=widget("email_on")):
        channels.append({"kind": "email"})
    problems.slot("channels.email")
    if st.checkbox("Save to the report storage", key=widget("storage_on")):
        prefix = st.text_input(
            "Storage folder (optional)",
            key=widget("storage_prefix"),
            max_chars=200,
            help="Letters, digits and . _ / - only, e.g. finance/weekly.",
        )
        channels.append({"kind": "storage", "prefix": prefix.strip()})
    problems.slot("channels.storage")
    if st.checkbox("Post to a webhook", key=widget("webhook_on")):
        url = st.text_input(
            "Webhook URL", key=widget("webhook_url"), placeholder="https://hooks.example.com/…"
        )
        slack = st.toggle(
            "Slack incoming webhook",
            key=widget("webhook_slack"),
            help="Sends Slack's message shape; the link to the files is in the message.",
        )
        if url.strip():
            channels.append({"kind": "webhook", "url": url.strip(), "slack": slack})
        else:
            problems.add("channels.webhook", "enter the webhook's https URL, or untick it")
    problems.slot("channels.webhook")
    problems.slot("channels")
    problems.channel_kinds = [c["kind"] for c in channels]
    return channels


def _policy_fields(problems: Problems) -> dict[str, Any]:
    formats = st.multiselect(
        "Formats",
        list(FORMATS),
        format_func=FORMAT_LABELS.__getitem__,
        key=widget("formats"),
        placeholder="Choose formats",
    )
    problems.slot("formats")
    run_as = st.radio(
        "Run with",
        list(RunAs),
        format_func=RUN_AS.__getitem__,
        captions=[RUN_AS_HELP[r] for r in RunAs],
        key=widget("run_as"),
    )
    if run_as is RunAs.OWNER:
        st.warning(SHARING_WARNING, icon=":material/visibility:")
    problems.slot("run_as")
    only_if_changed = st.toggle(
        "Send only if the numbers changed",
        key=widget("only_if_changed"),
        help="Skips a run whose query results equal the last delivered run's.",
    )
    misfire = st.radio(
        "If runs were missed (scheduler down)",
        list(MisfirePolicy),
        format_func=MISFIRE.__getitem__,
        captions=[MISFIRE_HELP[m] for m in MisfirePolicy],
        key=widget("misfire"),
    )
    problems.slot("misfire")
    attempts = st.number_input(
        "Attempts before giving up",
        min_value=1,
        max_value=10,
        step=1,
        key=widget("attempts"),
        help="A failing run or delivery is retried with growing waits, up to this many tries.",
    )
    problems.slot("retry")
    if not formats:
        problems.add("formats", "pick at least one format")
    return {
        "formats": tuple(formats) or ("pdf",),
        "run_as": run_as,
        "only_if_changed": only_if_changed,
        "misfire_policy": misfire,
        "attempts": int(attempts),
    }


def _draft(values: dict[str, Any], problems: Problems) -> ScheduleDraft | None:
    try:
        return ScheduleDraft.model_validate(values)
    except ValidationError as exc:
        for error in exc.errors():
            path = ""
            for part in error["loc"]:
                path += f"[{part}]" if isinstance(part, int) else (f".{part}" if path else part)
            problems.add(path, str(error["msg"]))
        return None


def schedule_form(principal: Principal, reports: dict[str, SavedReport]) -> None:
    """The open form: every field, the live timing preview, Save and Cancel."""
    form = form_state()
    if form is None:
        return
    editing = form["schedule_id"]
    problems = Problems()
    with st.container(border=True, key="schedules_form"):
        st.subheader("Edit schedule" if editing else "New schedule", anchor=False)
        conflict = st.session_state.get(CONFLICT)
        if conflict and editing:
            st.error(conflict, icon=":material/sync_problem:")
            st.caption("Your changes are still in the form below.")
            st.button(
                "Reload theirs",
                key="schedules_reload",
                icon=":material/refresh:",
                on_click=guarded(reload_theirs),
                args=(principal, editing),
                help="Discards your changes and shows the schedule as it is saved now.",
            )
        problems.slot(GENERAL)
        left, right = st.columns(2, gap="large")
        with left:
            name = st.text_input("Name", key=widget("name"), max_chars=200)
            problems.slot("name")
            options = list(reports)
            chosen = st.session_state.get(widget("report"))
            if chosen and chosen not in options:
                options.append(chosen)
            report_id = st.selectbox(
                "Saved report",
                options,
                format_func=_report_label(reports),
                key=widget("report"),
            )
            problems.slot("report_id")
            cadence, timezone = _cadence_fields(problems)
            _timing_preview(cadence, timezone, problems)
        with right:
            recipients = _recipient_fields(problems)
            channels = _channel_fields(problems)
        policies = _policy_fields(problems)
        save, cancel = st.columns(2)
        with save:
            clicked = st.button(
                "Save changes" if editing else "Create schedule",
                key="schedules_save",
                type="primary",
                icon=":material/save:",
                width="stretch",
            )
        with cancel:
            st.button("Cancel", key="schedules_cancel", on_click=close_form, width="stretch")
    if clicked:
        _submit(
            principal,
            form,
            problems,
            {
                "name": name.strip(),
                "report_id": report_id,
                "cadence": cadence,
                "timezone": timezone,
                "recipients": tuple(recipients),
                "channels": tuple(channels),
                "parameters": form["parameters"],
                **policies,
            },
        )
    problems.show()


def _submit(
    principal: Principal, form: dict[str, Any], problems: Problems, values: dict[str, Any]
) -> None:
    """Check everything, then create or update; every problem found is left in `problems`.

    A missing name, report or cadence is reported by the form and stood in for, so the rest of
    the draft is still checked and every problem shows at once.
    """
    missing: set[str] = set()
    if not values["name"]:
        problems.add("name", "give the schedule a name, such as “Weekly EMEA sales”")
        values["name"], missing = "-", {*missing, "name"}
    if not values["report_id"]:
        problems.add("report_id", "choose the saved report this schedule sends")
        values["report_id"], missing = "-", {*missing, "report_id"}
    if values["cadence"] is None:
        values["cadence"], missing = {"kind": "daily", "at": DEFAULT_AT}, {*missing, "cadence"}
    if not values["channels"]:
        problems.add("channels", "choose at least one way to deliver: email, storage or webhook")
        values["channels"] = ({"kind": "storage", "prefix": ""},)
    retry: RetryPolicy = form["retry"]
    values["retry"] = retry.model_copy(update={"max_attempts": values.pop("attempts")})
    draft = _draft(values, problems)
    if draft is None:
        return
    schedules = services().schedules
    for problem in schedules.check(principal, draft):
        if problem.field.split(".")[0] not in missing:
            problems.add(problem.field, problem.message)
    if problems:
        return
    try:
        if form["schedule_id"] is None:
            saved = schedules.create(principal, draft)
            verb = "Created"
        else:
            saved = schedules.update(
                principal, form["schedule_id"], draft, expected_version=form["version"]
            )
            verb = "Saved"
    except Conflict as exc:
        st.session_state[CONFLICT] = str(exc)
        st.rerun()
    except InvalidInput as exc:
        problems.add_located(list(exc.problems))
        return
    except NotFound as exc:
        problems.add(GENERAL, str(exc))
        return
    close_form()
    notice("success", f"{verb} “{plain(saved.name)}”.")
    st.rerun()
