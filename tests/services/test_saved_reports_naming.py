"""The name a report is saved under is what its readers see: the spec's title in the builder,
the subject of the schedule's email and the title of the PDF, even for a version saved before
names worked this way (its spec still titled otherwise)."""

from __future__ import annotations

import email
import io
from datetime import UTC, date, datetime, time
from email.message import EmailMessage
from email.policy import default

import pytest
from pypdf import PdfReader

from reportgen.bootstrap import Services
from reportgen.delivery.email_body import subject
from reportgen.delivery.mailsink import MailSink
from reportgen.domain.query import TimeRange
from reportgen.domain.runs import RunStatus
from reportgen.domain.schedules import DailyAt, Recipient, RecipientKind, ScheduleDraft
from reportgen.domain.spec import KpiBlock, KpiTile, ReportSpec
from tests.conftest import ANA

SPEC = ReportSpec(
    title="Revenue by region",
    dataset="sales",
    time_range=TimeRange(start=date(2026, 10, 1), end=date(2026, 11, 1)),
    blocks=(KpiBlock(tiles=(KpiTile(measure="revenue", compare=()),)),),
)
NAME = "EMEA board pack"


def test_saving_makes_the_name_the_title(services: Services) -> None:
    first = services.saved_reports.save(ANA, SPEC, name=f"  {NAME} ")
    assert (first.name, first.spec.title) == (NAME, NAME)

    renamed = services.saved_reports.save(ANA, SPEC, name="EMEA monthly", report_id=first.id)

    assert renamed.spec.title == "EMEA monthly"
    assert services.saved_reports.get(ANA, first.id).spec.title == "EMEA monthly"
    assert services.saved_reports.load(first.id).spec.title == "EMEA monthly"
    assert [r.spec.title for r in services.saved_reports.list(ANA)] == ["EMEA monthly"]
    # The rest of the spec is as given.
    assert renamed.spec.model_copy(update={"title": SPEC.title}) == SPEC


def test_a_version_saved_under_another_title_reads_back_with_its_name(
    services: Services,
) -> None:
    # As saved before names became titles: straight into the store.
    stored = services.store.reports.save(
        SPEC,
        report_id=None,
        name=NAME,
        description="",
        owner="ana",
        author="ana",
        comment="",
        at=datetime(2026, 11, 1, tzinfo=UTC),
    )
    assert stored.spec.title == SPEC.title

    assert services.saved_reports.get(ANA, stored.id).spec.title == NAME
    assert services.saved_reports.load(stored.id, 1).spec.title == NAME
    assert [r.spec.title for r in services.saved_reports.list(ANA)] == [NAME]


def test_the_email_subject_and_the_pdf_say_the_saved_name(live: Services, sink: MailSink) -> None:
    report = live.saved_reports.save(ANA, SPEC, name=NAME)
    schedule = live.schedules.create(
        ANA,
        ScheduleDraft(
            name="Monday morning",
            report_id=report.id,
            cadence=DailyAt(at=time(8)),
            timezone="Europe/London",
            recipients=(Recipient(kind=RecipientKind.USER, value="ana"),),
        ),
    )

    queued = live.runs.run_now(ANA, schedule.id, idempotency_key="naming-1")
    claimed = live.runs.claim("naming-worker")
    assert claimed is not None
    assert claimed.id == queued.id
    finished = live.runs.execute(claimed, "naming-worker")

    assert finished.status is RunStatus.SUCCEEDED, finished.error
    (path,) = sink.messages()
    message = email.message_from_bytes(path.read_bytes(), policy=default)
    assert isinstance(message, EmailMessage)
    assert message["Subject"] == f"{NAME}: Monday morning"
    (pdf,) = [
        part for part in message.iter_attachments() if part.get_content_type() == "application/pdf"
    ]
    reader = PdfReader(io.BytesIO(pdf.get_content()))
    assert reader.metadata is not None
    assert reader.metadata.title == NAME
    assert NAME in reader.pages[0].extract_text()
    assert SPEC.title not in "".join(page.extract_text() for page in reader.pages[:1])


@pytest.mark.parametrize(
    ("title", "schedule", "expected"),
    [
        (NAME, "Monday morning", f"{NAME}: Monday morning"),
        # "Save as schedule" names the schedule after its report: the name is said once.
        (NAME, NAME, NAME),
        (NAME, f"  {NAME.upper()}\n", NAME),
        ("Two\nlines", "A  schedule", "Two lines: A schedule"),
    ],
)
def test_the_subject_says_the_name_once(title: str, schedule: str, expected: str) -> None:
    assert subject(title, schedule) == expected
