"""Sending one delivery at most once, and recording every attempt.

A delivery row is inserted if absent, then claimed ("sending") by this worker's attempt of the
run with one conditional UPDATE that also checks the worker still holds the run; only then is
it handed to the channel. A row already delivered, skipped, refused for good or unknown is left
alone, so a resumed run, a retry or a second worker never sends it again. A row found still
"sending" by a later attempt was being sent when its worker died or lost the run: it may have
arrived, so it becomes "unknown" (never resent by itself; a replay resends it). Channels mark
each send with the delivery id (Message-ID, object key, header), so the receiver can recognise
it too. Owner notices are deliveries on their own channel key, ``notice``.
"""

from __future__ import annotations

import dataclasses
import logging
import secrets
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime

from reportgen.domain.runs import Delivery, DeliveryStatus, Run, RunLost
from reportgen.domain.schedules import Schedule
from reportgen.errors import DeliveryError, PermanentDeliveryError
from reportgen.services.ports import AuditSink, DeliveryChannel, Parcel
from reportgen.services.runs.ports import DeliveryLedger

log = logging.getLogger(__name__)
NOTICE = "notice"
SCHEDULER = "scheduler"
"""The channel key of owner notices: apart from the owner's own delivery of the report."""


@dataclass
class SendOutcome:
    """What went wrong in one pass over a run's deliveries."""

    transient: list[str] = field(default_factory=list)
    permanent: list[str] = field(default_factory=list)
    timed_out: bool = False


class Sender:
    def __init__(
        self,
        deliveries: DeliveryLedger,
        channels: Mapping[str, DeliveryChannel],
        audit: AuditSink,
        clock: Callable[[], datetime],
        on_delivery: Callable[[str, str], None] | None,
    ) -> None:
        self.deliveries = deliveries
        self.channels = channels
        self.audit = audit
        self.clock = clock
        self.on_delivery = on_delivery

    def skip(self, run: Run, channel: str, recipient: str, reason: str) -> None:
        delivery = self.deliveries.open(run.id, channel, recipient, self.clock())
        if delivery.status is DeliveryStatus.PENDING:
            self.deliveries.record_attempt(
                delivery.id, outcome="skipped", detail=reason, now=self.clock()
            )
            self._count(channel, "skipped")

    def send(
        self,
        run: Run,
        kind: str,
        target: str,
        recipient: str,
        parcel: Parcel,
        *,
        worker_id: str,
        done: set[tuple[str, str]],
        outcome: SendOutcome,
        deadline: datetime,
        actor: str,
    ) -> None:
        """Send one delivery unless it was made (or may have been made) already; failures go
        into ``outcome``. Raises `RunLost` when ``worker_id`` no longer holds the run."""
        if (kind, recipient) in done:
            return
        delivery = self.deliveries.open(run.id, kind, recipient, self.clock())
        if delivery.status is DeliveryStatus.SENDING:
            self._unknown(run, delivery, worker_id, actor)
            return
        if delivery.status is not DeliveryStatus.PENDING:
            return
        if self.clock() >= deadline:
            outcome.timed_out = True
            return
        if not self._claim(run, delivery, worker_id):
            return
        try:
            receipt = self._channel(kind).send(
                dataclasses.replace(parcel, delivery_id=delivery.id), target
            )
        except DeliveryError as error:
            transient = error.transient
            self.deliveries.record_attempt(
                delivery.id,
                outcome="transient" if transient else "permanent",
                detail=str(error),
                now=self.clock(),
            )
            (outcome.transient if transient else outcome.permanent).append(
                f"{kind} to {recipient}: {error}"
            )
            self._audit(actor, kind, recipient, run, "failed", str(error))
            self._count(kind, "retrying" if transient else "failed")
            return
        except Exception:
            incident = secrets.token_hex(4)
            log.exception("incident %s: %s channel failed for delivery %s", incident, kind,
                          delivery.id)  # fmt: skip
            detail = (
                f"the {kind} channel failed unexpectedly (incident {incident}); the scheduler"
                " log has the details"
            )
            self.deliveries.record_attempt(
                delivery.id, outcome="transient", detail=detail, now=self.clock()
            )
            outcome.transient.append(f"{kind} to {recipient}: {detail}")
            self._count(kind, "retrying")
            return
        self.deliveries.record_attempt(
            delivery.id, outcome="delivered", detail=receipt.detail, now=self.clock()
        )
        self._audit(actor, kind, recipient, run, "succeeded", receipt.detail)
        self._count(kind, "delivered")

    def _claim(self, run: Run, delivery: Delivery, worker_id: str) -> bool:
        """Claim the delivery for this attempt; False when another took it, `RunLost` when the
        run is no longer this worker's."""
        claimed = self.deliveries.claim(
            delivery.id, worker_id=worker_id, attempt=run.attempt, now=self.clock()
        )
        if claimed == "lost":
            raise RunLost(f"run {run.id} is no longer held by {worker_id} (attempt {run.attempt})")
        return claimed == "claimed"

    def _unknown(self, run: Run, delivery: Delivery, worker_id: str, actor: str) -> None:
        marked = self.deliveries.mark_unknown(
            delivery.id, worker_id=worker_id, attempt=run.attempt, now=self.clock()
        )
        if marked is not None:
            log.warning("delivery %s of run %s: %s", delivery.id, run.id, marked.last_error)
            self._audit(actor, delivery.channel, delivery.recipient, run, "failed",
                        marked.last_error or "outcome unknown")  # fmt: skip
            self._count(delivery.channel, "unknown")

    def _channel(self, kind: str) -> DeliveryChannel:
        channel = self.channels.get(kind)
        if channel is None:
            raise PermanentDeliveryError(f"no {kind} channel is configured in this deployment")
        return channel

    def notice(
        self, run: Run, address: str, schedule: Schedule, reason: str, worker_id: str
    ) -> bool:
        """Email the owner that the schedule cannot run; True when it was sent (or may have
        been: a notice found mid-send is not sent twice)."""
        delivery = self.deliveries.open(run.id, NOTICE, address, self.clock())
        if delivery.status is DeliveryStatus.SENDING:
            self._unknown(run, delivery, worker_id, SCHEDULER)
            return True
        if delivery.status in {DeliveryStatus.DELIVERED, DeliveryStatus.UNKNOWN}:
            return True
        if delivery.status is not DeliveryStatus.PENDING or not self._claim(
            run, delivery, worker_id
        ):
            return False
        parcel = Parcel(
            delivery_id=delivery.id,
            run_id=run.id,
            report_title=f"Schedule {schedule.name!r} cannot run",
            report_slug="schedule-notice",
            schedule_name=schedule.name,
            recipient=address,
            generated_at=self.clock(),
            classification="internal",
            files=(),
            summary=(reason,),
        )
        try:
            receipt = self.channels["email"].send(parcel, address)
        except DeliveryError as error:
            self.deliveries.record_attempt(
                delivery.id, outcome="permanent", detail=f"owner notice: {error}", now=self.clock()
            )
            return False
        except Exception:
            incident = secrets.token_hex(4)
            log.exception("incident %s: the owner notice of run %s failed", incident, run.id)
            self.deliveries.record_attempt(
                delivery.id,
                outcome="permanent",
                detail=f"owner notice failed unexpectedly (incident {incident})",
                now=self.clock(),
            )
            return False
        self.deliveries.record_attempt(
            delivery.id, outcome="delivered", detail=f"owner notice: {receipt.detail}",
            now=self.clock(),
        )  # fmt: skip
        self._audit(SCHEDULER, NOTICE, address, run, "succeeded", "owner notice")
        return True

    def _audit(  # noqa: PLR0917
        self, actor: str, kind: str, recipient: str, run: Run, outcome: str, detail: str
    ) -> None:
        self.audit.append(
            actor,
            "delivery.send",
            f"run:{run.id}",
            outcome,
            {"channel": kind, "recipient": recipient, "detail": detail[:500]},
        )

    def _count(self, channel: str, status: str) -> None:
        if self.on_delivery is not None:
            self.on_delivery(channel, status)
