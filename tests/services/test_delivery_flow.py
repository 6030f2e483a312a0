"""A schedule, end to end on the real services: saved report, schedule, run now, the worker's
render and a real SMTP conversation with the product's mail sink. Each recipient's email holds
the PDF their own permissions allow (bursting), and an unknown address gets nothing. The run and
delivery counters are read from a `Metrics` of the test's own, wired into the RunService the
test uses, so threads left over by other tests cannot move them."""

from __future__ import annotations

import email
import io
from datetime import date, time
from email.message import EmailMessage
from email.policy import default

from pypdf import PdfReader

from reportgen.bootstrap import Services
from reportgen.delivery.mailsink import MailSink
from reportgen.domain.query import TimeRange
from reportgen.domain.runs import DeliveryStatus, RunStatus
from reportgen.domain.schedules import DailyAt, Recipient, RecipientKind, ScheduleDraft
from reportgen.domain.spec import KpiBlock, KpiTile, ReportSpec, TableBlock
from reportgen.observability.metrics import Metrics, record_delivery, record_run
from reportgen.services.runs import RunService
from tests.conftest import ADMIN, ANA

SPEC = ReportSpec(
    title="Revenue by region",
    dataset="sales",
    time_range=TimeRange(start=date(2026, 10, 1), end=date(2026, 11, 1)),
    blocks=(
        KpiBlock(tiles=(KpiTile(measure="revenue", compare=()),)),
        TableBlock(title="Revenue by region", dimensions=("region",), measures=("revenue",)),
    ),
)


def _inbox(sink: MailSink) -> dict[str, EmailMessage]:
    messages = {}
    for path in sink.messages():
        message = email.message_from_bytes(path.read_bytes(), policy=default)
        assert isinstance(message, EmailMessage)
        messages[str(message["To"])] = message
    return messages


def _pdf_text(message: EmailMessage) -> str:
    attachments = [
        a for a in message.iter_attachments() if a.get_content_type() == "application/pdf"
    ]
    assert len(attachments) == 1
    reader = PdfReader(io.BytesIO(attachments[0].get_content()))
    return "\n".join(page.extract_text() for page in reader.pages)


def observed(live: Services, metrics: Metrics) -> RunService:
    """The live RunService's wiring, reporting to ``metrics`` instead of the process's."""
    runs = live.runs
    return RunService(
        runs.ledger,
        runs.deliveries,
        schedules=runs.schedules,
        reports=runs.executor.reports,
        users=runs.executor.users,
        render=runs.render,
        channels=runs.executor.channels,
        audit=runs.audit,
        limits=runs.limits,
        stale_after_s=runs.stale_after_s,
        on_run_finished=lambda run, s: record_run(run.status.value, s, metrics=metrics),
        on_delivery=lambda channel, status: record_delivery(channel, status, metrics=metrics),
    )


def _counts(metrics: Metrics) -> dict[str, float]:
    """The run and delivery counters, as /metrics would show them."""
    registry = metrics.registry
    return {
        "succeeded": registry.get_sample_value("reportgen_runs_total", {"status": "succeeded"})
        or 0.0,
        "emailed": registry.get_sample_value(
            "reportgen_deliveries_total", {"channel": "email", "status": "delivered"}
        )
        or 0.0,
    }


def test_run_now_emails_each_recipient_the_pdf_their_permissions_allow(
    live: Services, sink: MailSink
) -> None:
    report = live.saved_reports.save(ANA, SPEC, name="Revenue by region")
    schedule = live.schedules.create(
        ANA,
        ScheduleDraft(
            name="Morning revenue",
            report_id=report.id,
            cadence=DailyAt(at=time(8)),
            timezone="Europe/London",
            recipients=(
                Recipient(kind=RecipientKind.USER, value="ana"),
                Recipient(kind=RecipientKind.USER, value="admin"),
                Recipient(kind=RecipientKind.EMAIL, value="stranger@elsewhere.example"),
            ),
        ),
    )

    metrics = Metrics()
    runs = observed(live, metrics)
    queued = runs.run_now(ANA, schedule.id, idempotency_key="click-1")
    assert runs.run_now(ANA, schedule.id, idempotency_key="click-1").id == queued.id
    claimed = runs.claim("test-worker")
    assert claimed is not None
    assert claimed.id == queued.id
    finished = runs.execute(claimed, "test-worker")

    assert finished.status is RunStatus.SUCCEEDED, finished.error
    inbox = _inbox(sink)
    addresses = {user.username: user.email for user in live.users.list()}
    ana_address, admin_address = addresses["ana"], addresses["admin"]
    assert set(inbox) == {ana_address, admin_address}
    ana_pdf = _pdf_text(inbox[ana_address])
    admin_pdf = _pdf_text(inbox[admin_address])
    assert "EMEA" in ana_pdf
    assert "Americas" not in ana_pdf
    assert "APAC" not in ana_pdf
    assert "Americas" in admin_pdf
    assert "APAC" in admin_pdf
    for message in inbox.values():
        assert message["Subject"]
        assert message.get_body(("plain",)) is not None
        assert message.get_body(("html",)) is not None
        assert str(message["Message-ID"]).startswith("<")

    detail = runs.get(ADMIN, finished.id)
    by_recipient = {d.recipient: d.status for d in detail.deliveries}
    assert by_recipient["stranger@elsewhere.example"] is DeliveryStatus.SKIPPED
    assert by_recipient[ana_address] is DeliveryStatus.DELIVERED
    assert _counts(metrics) == {"succeeded": 1.0, "emailed": 2.0}
    report_check = live.audit.verify()
    assert report_check.ok, report_check.reason
