"""Executing one claimed run: load, render once per audience, compare, deliver, settle.

Each stage is bounded (querying and rendering by ``render_timeout_s``, delivering by
``deliver_timeout_s``); a render that overruns cannot be interrupted, so its thread is abandoned
and counted (`StageThreads`), and workers stop claiming while too many are still going. Every
failure ends in the run's history with a reason a person can act on; an unexpected one shows an
incident id, the log has the rest. Transient failures retry with backoff, permanent ones go to
the dead letters. Deliveries are claimed before sending and skipped once delivered (or once
their outcome is unknown), so a resumed or retried run never sends twice. The run's ending is
read from all its deliveries, not from the last pass: one failed for good or of unknown outcome
sends the run to the dead letters. Storage and webhook channels are the owner's own
destinations and receive the owner's view, every file of it (the attachment cap is email's).
"""

from __future__ import annotations

import logging
import secrets
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TypeVar

from reportgen.domain.principal import User
from reportgen.domain.runs import (
    Delivery,
    DeliveryStatus,
    Run,
    RunLost,
    RunStatus,
    Stage,
    backoff_delay,
    retries_left,
    stage_timeout_reason,
    unchanged_reason,
)
from reportgen.domain.schedules import EmailChannel, RetryPolicy, Schedule
from reportgen.domain.spec import ReportSpec
from reportgen.errors import NotFound, UserError
from reportgen.services.ports import AuditSink, DeliveryChannel, UserStore
from reportgen.services.render import Format, RenderedReport, RenderService
from reportgen.services.runs.audience import Plan, channel_target, plan_audience
from reportgen.services.runs.parcels import ParcelMaker, artifact_rows, result_hashes
from reportgen.services.runs.ports import (
    DeliveryLedger,
    ReportSource,
    RunLedger,
    SavedReportView,
    ScheduleSource,
)
from reportgen.services.runs.sending import NOTICE, Sender, SendOutcome

log = logging.getLogger(__name__)
T = TypeVar("T")
UNREADABLE_NOTICE = "report_unreadable"
SCHEDULER = "scheduler"


class StageTimeout(Exception):
    """A stage ran past its limit; the run fails and is retried."""


class Permanent(Exception):
    """A failure that retrying cannot fix: the run goes to the dead letters."""


class Transient(Exception):
    """A failure worth retrying after a backoff."""


@dataclass(frozen=True)
class Limits:
    render_timeout_s: float = 300.0
    deliver_timeout_s: float = 120.0
    attachment_limit_bytes: int = 10 * 1024 * 1024
    # Stage threads abandoned on a timeout and still working, beyond which workers claim
    # nothing new (each one holds warehouse and render work the pool no longer counts).
    max_abandoned_stages: int = 2


class StageThreads:
    """Counts stage threads abandoned on a timeout that are still running."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._abandoned = 0

    @property
    def abandoned(self) -> int:
        with self._lock:
            return self._abandoned

    def bounded(self, work: Callable[[], T], limit_s: float, reason: str) -> T:
        """``work()``'s result, or `StageTimeout` when it takes longer than ``limit_s``.

        The work runs on a daemon thread that is abandoned on timeout (a render cannot be
        interrupted) and counted in `abandoned` until it ends; its result is discarded.
        """
        done = threading.Event()
        box: dict[str, object] = {}
        state = {"finished": False, "abandoned": False}

        def target() -> None:
            try:
                box["value"] = work()
            except BaseException as exc:  # noqa: BLE001 - handed back to the waiting thread
                box["error"] = exc
            finally:
                with self._lock:
                    state["finished"] = True
                    if state["abandoned"]:
                        self._abandoned -= 1
                        log.info("an abandoned stage thread ended; %d still running",
                                 self._abandoned)  # fmt: skip
                done.set()

        threading.Thread(target=target, name="run-stage", daemon=True).start()
        if not done.wait(max(limit_s, 0.0)):
            with self._lock:
                if not state["finished"]:
                    state["abandoned"] = True
                    self._abandoned += 1
                    log.warning("%s; its thread is abandoned (%d abandoned and running)",
                                reason, self._abandoned)  # fmt: skip
                    raise StageTimeout(reason)
            done.wait()  # it finished just as the wait ended: use its result
        if "error" in box:
            raise box["error"]  # type: ignore[misc]
        return box["value"]  # type: ignore[return-value]


def bounded(work: Callable[[], T], limit_s: float, reason: str) -> T:
    """`StageThreads.bounded` on a counter of its own, for callers that do not keep one."""
    return StageThreads().bounded(work, limit_s, reason)


class RunExecutor:
    """Carries a claimed run to its end. Every status change is guarded by the worker id, so a
    run reaped from a stalled worker is never finished twice."""

    def __init__(
        self,
        ledger: RunLedger,
        deliveries: DeliveryLedger,
        *,
        schedules: ScheduleSource,
        reports: ReportSource,
        users: UserStore,
        render: RenderService,
        channels: Mapping[str, DeliveryChannel],
        audit: AuditSink,
        limits: Limits,
        clock: Callable[[], datetime],
        random: Callable[[], float],
        on_delivery: Callable[[str, str], None] | None = None,
    ) -> None:
        self.ledger = ledger
        self.deliveries = deliveries
        self.schedules = schedules
        self.reports = reports
        self.users = users
        self.render = render
        self.channels = channels
        self.audit = audit
        self.limits = limits
        self.clock = clock
        self.random = random
        self.sender = Sender(deliveries, channels, audit, clock, on_delivery)
        self.stages = StageThreads()

    def execute(self, run: Run, worker_id: str) -> Run:
        """Run ``run`` (claimed by ``worker_id``) to success, skip, retry or the dead letters."""
        schedule = self.schedules.load(run.schedule_id) if run.schedule_id else None
        try:
            return self._work(run, worker_id, schedule)
        except RunLost:
            log.warning("run %s was taken from worker %s; leaving it", run.id, worker_id)
            current = self.ledger.get(run.id)
            assert current is not None
            return current
        except Permanent as failure:
            return self._settle_failure(run, worker_id, str(failure), schedule, permanent=True)
        except (StageTimeout, Transient) as failure:
            return self._settle_failure(run, worker_id, str(failure), schedule, permanent=False)
        except Exception:
            incident = secrets.token_hex(4)
            log.exception("incident %s: run %s failed", incident, run.id)
            # The exception's text may name hosts, SQL or credentials: people get an id.
            reason = f"Something went wrong (incident {incident}); the scheduler log has details"
            return self._settle_failure(run, worker_id, reason, schedule, permanent=False)

    # The stages ------------------------------------------------------------------------------

    def _work(self, run: Run, worker_id: str, schedule: Schedule | None) -> Run:
        if schedule is None:
            return self._finish(run, worker_id, RunStatus.SKIPPED, "the schedule was deleted")
        owner = self.users.get(schedule.owner)
        if owner is None or owner.disabled:
            raise Permanent(f"the schedule's owner {schedule.owner} has no active account")
        started = self.clock()
        report = self._load_report(run, schedule, owner, worker_id)
        plan = plan_audience(schedule, owner, self.users.list())
        self.ledger.move(
            run.id,
            [RunStatus.RUNNING],
            now=self.clock(),
            stage=Stage.RENDERING,
            held_by=worker_id,
            detail=f"report version {report.version}; {len(plan.audiences)} audience(s)",
            values={"report_version": report.version},
        )
        as_of = self._as_of(run)
        renders, refused = self._render_all(run, schedule, plan, report.spec, as_of, started)
        hashes = result_hashes(renders)
        if schedule.only_if_changed and run.trigger != "replay":
            last = self.ledger.last_delivered(schedule.id, excluding=run.id)
            if last is not None and last.result_hashes == hashes:
                return self._finish(run, worker_id, RunStatus.SKIPPED, unchanged_reason(last.id))
        self.ledger.move(
            run.id,
            [RunStatus.RUNNING],
            now=self.clock(),
            stage=Stage.DELIVERING,
            held_by=worker_id,
            values={"result_hashes": hashes},
        )
        maker = ParcelMaker(
            run=run,
            schedule=schedule,
            spec=report.spec,
            as_of=as_of,
            attachment_limit_bytes=self.limits.attachment_limit_bytes,
            url_for=self.render.store.url_for,
        )
        deadline = self.clock() + timedelta(seconds=self.limits.deliver_timeout_s)
        outcome = self._deliver(run, schedule, plan, renders, refused, maker, deadline, worker_id)
        if outcome.transient:
            raise Transient(
                f"{len(outcome.transient)} deliveries will be retried: {outcome.transient[0]}"
            )
        self._check_deliveries(run)
        self.deliveries.forget_notice(schedule.id, UNREADABLE_NOTICE)
        return self._finish(run, worker_id, RunStatus.SUCCEEDED, None)

    def _check_deliveries(self, run: Run) -> None:
        """`Permanent` naming every delivery of the run that failed for good or whose outcome
        is unknown, whichever pass it happened in."""
        troubled = [
            d
            for d in self.deliveries.of_runs([run.id])
            if d.status in {DeliveryStatus.FAILED, DeliveryStatus.UNKNOWN} and d.channel != NOTICE
        ]
        if not troubled:
            return
        failed = [d for d in troubled if d.status is DeliveryStatus.FAILED]
        unknown = [d for d in troubled if d.status is DeliveryStatus.UNKNOWN]
        parts = []
        if failed:
            parts.append(
                f"{len(failed)} deliveries failed for good: {_listed(failed, reasons=True)}"
            )
        if unknown:
            parts.append(
                f"{len(unknown)} deliveries may or may not have arrived (their sender stopped"
                f" mid-send): {_listed(unknown)}; replay the run to send them again"
            )
        raise Permanent("; ".join(parts))

    def _load_report(
        self, run: Run, schedule: Schedule, owner: User, worker_id: str
    ) -> SavedReportView:
        try:
            report = self.reports.load(schedule.report_id, run.report_version)
            self.render.reports.check(owner.principal(), report.spec)
        except (NotFound, UserError) as error:
            reason = (
                f"the owner {owner.username} can no longer read report {schedule.report_id}"
                f" ({error}); restore the report or the owner's access, then replay this run"
            )
            self._notify_owner(run, schedule, owner, reason, worker_id)
            raise Permanent(reason) from error
        return report

    def _as_of(self, run: Run) -> datetime:
        if run.replay_of:
            original = self.ledger.get(run.replay_of)
            if original is not None:
                return original.fire_time
        return run.fire_time

    def _render_all(  # noqa: PLR0917 - the pieces of a render
        self,
        run: Run,
        schedule: Schedule,
        plan: Plan,
        spec: ReportSpec,
        as_of: datetime,
        started: datetime,
    ) -> tuple[dict[str, RenderedReport], dict[str, str]]:
        """One render per audience (and the owner's, when a channel needs it); the audiences
        whose permissions refuse the report, with the reason."""
        needed = {a.key: a.principal for a in plan.audiences}
        if any(not isinstance(c, EmailChannel) for c in schedule.channels):
            needed.setdefault(plan.owner.key, plan.owner.principal)
        formats = tuple(Format(f) for f in schedule.formats)
        renders: dict[str, RenderedReport] = {}
        refused: dict[str, str] = {}
        limit = self.limits.render_timeout_s
        for key, principal in needed.items():
            left = limit - (self.clock() - started).total_seconds()
            try:
                renders[key] = self.stages.bounded(
                    lambda p=principal: self.render.render(  # type: ignore[misc]
                        p, spec, formats=formats, as_of=as_of, parameters=dict(schedule.parameters)
                    ),
                    left,
                    stage_timeout_reason(Stage.RENDERING, limit),
                )
            except UserError as error:
                if key == plan.owner.key:
                    raise Permanent(f"the owner's view cannot be rendered: {error}") from error
                refused[key] = f"their permissions do not allow this report: {error}"
        self.deliveries.add_artifacts(run.id, artifact_rows(renders), self.clock())
        return renders, refused

    def _deliver(  # noqa: PLR0917
        self,
        run: Run,
        schedule: Schedule,
        plan: Plan,
        renders: dict[str, RenderedReport],
        refused: dict[str, str],
        maker: ParcelMaker,
        deadline: datetime,
        worker_id: str,
    ) -> SendOutcome:
        outcome = SendOutcome()
        done = self._already_delivered(run)
        actor = run.requested_by or SCHEDULER
        for channel in schedule.channels:
            if isinstance(channel, EmailChannel):
                for unreachable in plan.unreachable:
                    self.sender.skip(run, "email", unreachable.address, unreachable.reason)
                for audience in plan.audiences:
                    for member in audience.members:
                        if audience.key in refused:
                            self.sender.skip(run, "email", member.address, refused[audience.key])
                            continue
                        parcel = maker.parcel(renders[audience.key], member.address, capped=True)
                        self.sender.send(
                            run, "email", member.address, member.address, parcel,
                            worker_id=worker_id, done=done, outcome=outcome, deadline=deadline,
                            actor=actor,
                        )  # fmt: skip
                continue
            target, label = channel_target(channel)
            # Storage and webhooks carry every file: the attachment cap is email's alone.
            parcel = maker.parcel(renders[plan.owner.key], label, capped=False)
            self.sender.send(
                run, channel.kind, target, label, parcel,
                worker_id=worker_id, done=done, outcome=outcome, deadline=deadline, actor=actor,
            )  # fmt: skip
        if outcome.timed_out:
            raise StageTimeout(
                stage_timeout_reason(Stage.DELIVERING, self.limits.deliver_timeout_s)
            )
        return outcome

    def _already_delivered(self, run: Run) -> set[tuple[str, str]]:
        """(channel, recipient) pairs the original of a replay, or an earlier replay, delivered."""
        if not run.replay_of:
            return set()
        family = [run.replay_of, *self.ledger.replays_of(run.replay_of)]
        return {
            (d.channel, d.recipient)
            for d in self.deliveries.of_runs(family)
            if d.status is DeliveryStatus.DELIVERED and d.run_id != run.id
        }

    # Endings ---------------------------------------------------------------------------------

    def _finish(self, run: Run, worker_id: str, status: RunStatus, reason: str | None) -> Run:
        return self.ledger.move(
            run.id,
            [status],
            now=self.clock(),
            held_by=worker_id,
            detail=reason,
            values={"finished_at": self.clock(), "error": reason, "next_attempt_at": None},
        )

    def _settle_failure(
        self,
        run: Run,
        worker_id: str,
        reason: str,
        schedule: Schedule | None,
        *,
        permanent: bool,
    ) -> Run:
        policy = schedule.retry if schedule else RetryPolicy()
        now = self.clock()
        try:
            if not permanent and retries_left(policy, run.attempt):
                wait = backoff_delay(policy, run.attempt, self.random)
                return self.ledger.move(
                    run.id,
                    [RunStatus.FAILED, RunStatus.RETRYING],
                    now=now,
                    held_by=worker_id,
                    detail=f"{reason}; retry {run.attempt + 1} of {policy.max_attempts}"
                    f" in {wait:.0f} s",
                    values={"error": reason, "next_attempt_at": now + timedelta(seconds=wait)},
                )
            if not permanent:
                reason = f"{reason} (gave up after {run.attempt} attempts)"
            return self.ledger.move(
                run.id,
                [RunStatus.FAILED, RunStatus.DEAD],
                now=now,
                held_by=worker_id,
                detail=reason,
                values={"error": reason, "finished_at": now, "next_attempt_at": None},
            )
        except RunLost:
            current = self.ledger.get(run.id)
            assert current is not None
            return current

    def _notify_owner(
        self, run: Run, schedule: Schedule, owner: User, reason: str, worker_id: str
    ) -> None:
        """Tell the owner once per schedule; if the notice cannot be sent, the next run tries."""
        if not owner.email or "email" not in self.channels:
            return
        if not self.deliveries.claim_notice(schedule.id, UNREADABLE_NOTICE, run.id, self.clock()):
            return
        try:
            sent = self.sender.notice(run, owner.email, schedule, reason, worker_id)
        except BaseException:
            # Whatever went wrong (the run lost, the database away), the next run tries again.
            self.deliveries.forget_notice(schedule.id, UNREADABLE_NOTICE)
            raise
        if not sent:
            self.deliveries.forget_notice(schedule.id, UNREADABLE_NOTICE)
        log.info("owner notice for schedule %s by %s: sent=%s", schedule.id, worker_id, sent)


def _listed(deliveries: list[Delivery], *, reasons: bool = False) -> str:
    return ", ".join(
        f"{d.channel} to {d.recipient}" + (f" ({d.last_error})" if reasons and d.last_error else "")
        for d in deliveries
    )
