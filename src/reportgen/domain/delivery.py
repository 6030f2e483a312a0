"""What a delivery carries: the files of one rendered bundle and a summary to show with them.

The run service builds a `Parcel` per (channel, recipient); a delivery channel sends it and
answers with a `Receipt`. Both are plain data, shared by services and the delivery adapters.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime


@dataclass(frozen=True)
class Attachment:
    """One file of a rendered bundle, as a delivery carries it."""

    filename: str
    content_type: str
    data: bytes
    sha256: str


@dataclass(frozen=True)
class Parcel:
    """What one delivery carries to one recipient: the files and a summary to show with them."""

    delivery_id: str
    run_id: str
    report_title: str
    report_slug: str
    schedule_name: str
    recipient: str
    generated_at: datetime
    classification: str
    files: tuple[Attachment, ...]
    # Narrative sentences (plain text) and KPI tiles (label, formatted value, formatted change).
    summary: tuple[str, ...] = ()
    kpis: tuple[tuple[str, str, str], ...] = ()
    # Where each file can be downloaded (filename -> URL), for files too big to attach.
    links: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Receipt:
    """What a channel reports after a successful send (message id, object keys, HTTP status)."""

    detail: str
