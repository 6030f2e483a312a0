"""Sending one delivery at most once, and recording every attempt.

A delivery row is inserted if absent before anything is sent; a row already delivered, skipped
or refused for good is left alone, so a resumed run, a retry or a second worker never sends it
again. Channels mark each send with the delivery id (Message-ID, object key, header), so even a
crash between sending and recording is recognisable by the receiver.
"""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime

from reportgen.domain.runs import DeliveryStatus, Run
from reportgen.domain.schedules import Schedule
from reportgen.errors import DeliveryError, PermanentDeliveryError
from reportgen.services.ports import AuditSink, DeliveryChannel, Parcel
from reportgen.services.runs.ports import DeliveryLedger

log = logging.getLogger(__name__)


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
        done: set[tuple[str, str]],
        outcome: SendOutcome,
        deadline: datetime,
        actor: str,
    ) -> None:
        """Send one delivery unless it was made already; failures go into ``outcome``."""
        if (kind, recipient) in done:
            return
        delivery = self.deliveries.open(run.id, kind, recipient, self.clock())
        if delivery.status is not DeliveryStatus.PENDING:
            return
        if self.clock() >= deadline:
            outcome.timed_out = True
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
        except Exception as error:
            log.exception("%s channel failed for delivery %s", kind, delivery.id)
            detail = f"{type(error).__name__}: {error}"
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

    def _channel(self, kind: str) -> DeliveryChannel:
        channel = self.channels.get(kind)
        if channel is None:
            raise PermanentDeliveryError(f"no {kind} channel is configured in this deployment")
        return channel

    def notice(self, run: Run, address: str, schedule: Schedule, reason: str) -> bool:
        """Email the owner that the schedule cannot run; True when it was sent."""
        delivery = self.deliveries.open(run.id, "email", address, self.clock())
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
        self.deliveries.record_attempt(
            delivery.id, outcome="delivered", detail=f"owner notice: {receipt.detail}",
            now=self.clock(),
        )  # fmt: skip
        self._audit("scheduler", "email", address, run, "succeeded", "owner notice")
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
