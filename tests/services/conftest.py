"""Fixtures the service tests share: the product's mail sink on loopback, and services wired
to send their email to it."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from reportgen.bootstrap import Services, build_services
from reportgen.delivery.mailsink import MailSink
from reportgen.services.users import seed_demo_users
from tests.conftest import make_settings
from tests.test_up import free_port


@pytest.fixture
def sink(tmp_path: Path) -> Iterator[MailSink]:
    """The product's SMTP mail sink on a free loopback port, keeping messages in tmp_path."""
    mail = MailSink("127.0.0.1", free_port(), tmp_path / "mail")
    mail.start()
    yield mail
    mail.stop()


@pytest.fixture
def live(
    tmp_path: Path, warehouse_path: Path, seeded_metadata: Path, sink: MailSink
) -> Iterator[Services]:
    """Services on a copy of the seeded metadata, sending email to `sink`."""
    shutil.copyfile(seeded_metadata, tmp_path / "meta.db")
    settings = make_settings(
        tmp_path, warehouse_path, smtp_url=f"smtp://127.0.0.1:{sink.port}", mail_sink=False
    )
    built = build_services(settings)
    seed_demo_users(built.users)  # already there: a no-op that proves seeding is idempotent
    yield built
    built.close()
