"""What a run hands to the channels: parcels built from renders, artifact rows, result hashes."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from html.parser import HTMLParser

from reportgen.artifacts import slug
from reportgen.domain.runs import Run
from reportgen.domain.schedules import Schedule
from reportgen.domain.spec import ReportSpec
from reportgen.services.ports import Attachment, Parcel
from reportgen.services.render import RenderedReport


class _Text(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.parts: list[str] = []

    def handle_data(self, data: str) -> None:
        self.parts.append(data)


def plain_text(html: str) -> str:
    """A narrative sentence without its markup (fact links and emphasis)."""
    parser = _Text()
    parser.feed(html)
    parser.close()
    return " ".join("".join(parser.parts).split())


@dataclass(frozen=True)
class ArtifactRow:
    kind: str
    uri: str
    sha256: str
    size_bytes: int
    content_type: str
    audience: str  # the policy key of the audience the render was made for


def artifact_rows(renders: dict[str, RenderedReport]) -> list[ArtifactRow]:
    """Every stored file of every render (manifests included), for the run's artifact list,
    each with the audience it was rendered for: a person may see only their own."""
    rows = []
    for audience, rendered in renders.items():
        for stored in (*rendered.bundle.files, rendered.bundle.manifest):
            name = stored.key.rsplit("/", 1)[-1]
            kind = "manifest" if stored is rendered.bundle.manifest else name.rsplit(".", 1)[-1]
            rows.append(
                ArtifactRow(
                    kind,
                    stored.key,
                    stored.sha256,
                    stored.size_bytes,
                    stored.content_type,
                    audience,
                )
            )
    return rows


def result_hashes(renders: dict[str, RenderedReport]) -> dict[str, list[str]]:
    """Per audience, the SHA-256 of every query result behind its render: equal hashes mean
    the recipients would get the same numbers as last time."""
    return {
        key: [str(q["result_sha256"]) for q in rendered.manifest.get("queries", [])]
        for key, rendered in sorted(renders.items())
    }


@dataclass(frozen=True)
class ParcelMaker:
    """Builds the parcel of one delivery from the render its recipient's audience got."""

    run: Run
    schedule: Schedule
    spec: ReportSpec
    as_of: datetime
    attachment_limit_bytes: int
    url_for: Callable[[str], str]

    def parcel(
        self, rendered: RenderedReport, recipient: str, *, capped: bool, delivery_id: str = ""
    ) -> Parcel:
        """The parcel of one delivery. ``capped`` (email) attaches files up to the attachment
        limit and links the rest; uncapped (storage, webhook) carries every file."""
        files, links = [], {}
        by_name = {s.key.rsplit("/", 1)[-1]: s for s in rendered.bundle.files}
        total = 0
        for file in rendered.files:
            stored = by_name.get(file.name)
            sha = stored.sha256 if stored else ""
            over = total + len(file.data) > self.attachment_limit_bytes
            if capped and over and stored is not None:
                links[file.name] = self.url_for(stored.key)
                continue
            total += len(file.data)
            files.append(Attachment(file.name, file.content_type, file.data, sha))
        preview = rendered.preview
        summary = tuple(
            plain_text(sentence) for block in preview.blocks for sentence in block.sentences
        )
        kpis = tuple(
            (
                tile.label,
                tile.value,
                "; ".join(f"{c.text} {c.label}".strip() for c in tile.changes),
            )
            for block in preview.blocks
            for tile in (kpi.tile() for kpi in block.kpis)
        )
        return Parcel(
            delivery_id=delivery_id,
            run_id=self.run.id,
            report_title=self.spec.title,
            report_slug=slug(self.spec.title),
            schedule_name=self.schedule.name,
            recipient=recipient,
            generated_at=self.as_of,
            classification=str(preview.dataset.classification),
            files=tuple(files),
            summary=summary,
            kpis=kpis,
            links=links,
        )
