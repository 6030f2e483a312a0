"""Reports end to end: preview as the reader, render every format, lineage and determinism."""

from __future__ import annotations

import io
import json
import re
import threading
from collections import Counter
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import openpyxl
import plotly.graph_objects as go
import pytest
from pypdf import PdfReader

from reportgen.artifacts import read_manifest, verify_bundle
from reportgen.bootstrap import Services
from reportgen.domain.catalog import TimeGrain
from reportgen.domain.query import Filter, Operator, TimeRange
from reportgen.domain.spec import ChartBlock, ReportSpec
from reportgen.domain.sql import CompiledQuery
from reportgen.errors import InvalidInput
from reportgen.rendering.specfiles import load_spec_file
from reportgen.services import reports as reports_module
from reportgen.services.documents import DocumentBuilder
from reportgen.services.queries import QueryResult, SharedRuns
from reportgen.services.render import Format
from reportgen.services.report_data import partial_buckets
from reportgen.services.reports import ReportPreview
from tests.conftest import ANA, REPO, VICTOR

AS_OF = datetime(2026, 10, 31, 7, 30, tzinfo=UTC)
EXECUTIVE = REPO / "report_templates/executive_summary/sample.yml"
OPERATIONS = REPO / "report_templates/operational_status/sample.yml"
STARTER = REPO / "report_templates/executive_summary/spec.yml"  # the builder's first draft
OTHER_REGIONS = ("Americas", "APAC")


def spec_of(path: Path) -> ReportSpec:
    return load_spec_file(path).spec


def pdf_text(data: bytes) -> str:
    return "\n".join(page.extract_text() or "" for page in PdfReader(io.BytesIO(data)).pages)


def test_preview_is_governed_and_complete(services: Services) -> None:
    preview = services.reports.preview(ANA, spec_of(EXECUTIVE), today=AS_OF.date())
    kinds = [b.block.kind for b in preview.blocks]
    assert kinds.count("chart") == 6 and kinds.count("table") == 2
    assert all(b.figure is not None for b in preview.blocks if b.block.kind == "chart")
    for block in preview.blocks:
        if block.table is not None:
            frame = block.table.result.frame
            if "country" in frame:
                assert set(frame["country"]) <= {
                    "Germany", "France", "United Kingdom", "Spain", "Italy", "Netherlands",
                    "Sweden", "South Africa", "UAE",
                }  # fmt: skip
    assert preview.spec.time_range is not None and preview.spec.time_range.preset is None
    assert preview.spec.time_range.start is not None
    assert preview.spec.time_range.start.isoformat() == "2026-01-01"
    narrative = next(b for b in preview.blocks if b.block.kind == "narrative")
    assert narrative.sentences and 'href="#fact-' in narrative.sentences[0]
    assert all(
        r.access == ("rows limited to region in (EMEA)",)
        for r in preview.results
        if r.dataset == "sales"
    )


def test_spec_problems_are_listed(services: Services) -> None:
    spec = spec_of(EXECUTIVE)
    with pytest.raises(InvalidInput) as caught:
        services.reports.preview(VICTOR, spec)  # a viewer may not use targets or margins
    assert any("targets" in p for p in caught.value.problems)


@pytest.mark.slow
def test_render_every_format_deterministic_and_governed(services: Services) -> None:
    spec = spec_of(EXECUTIVE)
    formats = (Format.PDF, Format.CSV, Format.XLSX, Format.HTML)
    first = services.render.render(ANA, spec, formats=formats, as_of=AS_OF)
    second = services.render.render(ANA, spec, formats=formats, as_of=AS_OF)
    assert first.bundle.prefix != second.bundle.prefix  # every render is its own bundle
    assert [f.name for f in first.files] == [f.name for f in second.files]
    for a, b in zip(first.files, second.files, strict=True):
        assert a.data == b.data, f"{a.name} differs between two renders"
    store = services.render.store
    assert verify_bundle(store, first.bundle.prefix) == []
    manifest = read_manifest(store, first.bundle.prefix)
    assert manifest["generated_for"] == "ana"
    assert manifest["generated_at"] == "2026-10-31T07:30:00+00:00"
    assert {d[0] for d in manifest["datasets"]} == {"sales", "targets"}
    assert all("region IN" in q["sql"] for q in manifest["queries"])
    # Date columns: ages in days before generation (AS_OF is 2026-10-31, targets end 10-01).
    freshness = {q["dataset"]: q["freshness"] for q in manifest["queries"]}
    assert freshness["sales"] == "latest 2026-10-31, the day of generation"
    assert freshness["targets"] == "latest 2026-10-01, 30 days before generation"
    pdf = next(f for f in first.files if f.name.endswith(".pdf")).data
    text = pdf_text(pdf)
    assert "Sales executive summary" in text and "EMEA" in text
    for region in OTHER_REGIONS:
        assert region not in text
    reader = PdfReader(io.BytesIO(pdf))
    assert len(reader.pages) >= 6
    assert reader.metadata is not None and reader.metadata.title == "Sales executive summary"
    for file in first.files:
        if file.name.endswith(".csv"):
            body = file.data.decode("utf-8-sig")
            assert all(region not in body for region in OTHER_REGIONS)
        if file.name.endswith(".xlsx"):
            workbook = openpyxl.load_workbook(io.BytesIO(file.data))
            cells = [
                str(c.value)
                for ws in workbook.worksheets
                if ws.title != "Lineage"
                for row in ws.iter_rows()
                for c in row
            ]
            assert all(region not in cell for cell in cells for region in OTHER_REGIONS)
            assert "Lineage" in workbook.sheetnames
        if file.name.endswith(".html"):
            page = file.data.decode()
            assert "Plotly" in page
            markup = re.sub(r"<script[^>]*>.*?</script>", "", page, flags=re.DOTALL)
            assert 'src="http' not in markup and 'href="http' not in markup
    audit = services.audit.recent(actor="ana", action="report.render")
    assert audit[0].details["bundle"] == second.bundle.prefix


@pytest.mark.slow
def test_viewer_gets_their_region_in_every_format(services: Services) -> None:
    result = services.render.render(
        VICTOR, spec_of(OPERATIONS), formats=(Format.PDF, Format.CSV), as_of=AS_OF
    )
    text = pdf_text(next(f for f in result.files if f.name.endswith(".pdf")).data)
    assert "Support operational status" in text
    assert "EMEA" not in text and "APAC" not in text
    queries = json.loads(json.dumps(result.manifest["queries"]))
    assert all("Americas" in q["params"] for q in queries if "region IN" in q["sql"])


def test_parameters_must_be_values_the_reader_may_see(services: Services) -> None:
    spec = spec_of(REPO / "report_templates/regional_performance/sample.yml")
    with pytest.raises(InvalidInput, match="parameter 'region' needs a value"):
        services.reports.preview(VICTOR, spec, today=AS_OF.date())
    with pytest.raises(
        InvalidInput, match=r"EMEA is not among the values you may see \(Americas\)"
    ):
        services.reports.preview(VICTOR, spec, parameters={"region": ("EMEA",)})
    with pytest.raises(InvalidInput, match="unknown parameter 'country'"):
        services.reports.preview(
            VICTOR, spec, parameters={"region": ("Americas",), "country": ("x",)}
        )
    preview = services.reports.preview(
        VICTOR, spec, parameters={"region": ("Americas",)}, today=AS_OF.date()
    )
    assert all("Americas" in r.query.params for r in preview.results if r.dataset == "sales")


def test_table_totals_are_formatted(services: Services) -> None:
    preview = services.reports.preview(ANA, spec_of(EXECUTIVE), today=AS_OF.date())
    document = DocumentBuilder(preview, None, AS_OF, {"sales": "Sales orders"}).document()
    tables = [b.table for b in document.blocks if b.table is not None]
    assert tables and all(t.totals is not None for t in tables)
    for table in tables:
        assert table.totals is not None
        assert all(cell.text not in {"", "–"} for cell in table.totals if cell.numeric)


def test_a_cut_table_says_so_and_notes_reach_the_document(services: Services) -> None:
    spec = ReportSpec.model_validate(
        {
            "title": "Cut",
            "dataset": "sales",
            "time_range": {"start": "2026-10-01", "end": "2026-10-11"},
            "blocks": [
                {
                    "kind": "kpis",
                    "tiles": [
                        {
                            "measure": "revenue",
                            "compare": ["target"],
                            "target": {"dataset": "targets", "measure": "revenue_target"},
                        }
                    ],
                },
                {
                    "kind": "table",
                    "title": "T",
                    "dimensions": ["country"],
                    "measures": ["orders"],
                    "max_rows": 3,
                },
            ],
        }
    )
    preview = services.reports.preview(ANA, spec, today=AS_OF.date())
    document = DocumentBuilder(preview, None, AS_OF, {"sales": "Sales orders"}).document()
    table = next(b.table for b in document.blocks if b.table is not None)
    assert len(table.rows) == 3
    assert table.note.startswith("Showing the first 3 of 9 rows")
    assert "the total covers all 9 rows" in table.note
    assert any("prorated" in fact.note for fact in document.facts)
    assert document.data_as_of


def test_lineage_lists_only_facts_the_report_quotes(services: Services) -> None:
    # Ana sees EMEA only: no region fell, nothing is comparable, and the appendix has no
    # rows such as "Relative change of the bottom mover — no region fell — not comparable".
    # Nor a number the narrative computed that no sentence uses.
    spec = ReportSpec.model_validate(
        {
            "title": "One region",
            "dataset": "sales",
            "time_range": {"start": "2026-07-01", "end": "2026-10-01"},
            "blocks": [{"kind": "narrative", "measure": "revenue", "by": "region"}],
        }
    )
    preview = services.reports.preview(ANA, spec, today=AS_OF.date())
    assert any(not fact.available for fact in preview.facts)
    document = DocumentBuilder(preview, None, AS_OF, {"sales": "Sales orders"}).document()
    sentences = " ".join(s for b in document.blocks for s in b.sentences)
    linked = set(re.findall(r'href="#fact-([^"]+)"', sentences))
    assert [f.id for f in document.facts] == [f.id for f in preview.facts if f.id in linked]
    assert len(document.facts) < len([f for f in preview.facts if f.available])
    assert not any("mover" in f.id for f in document.facts)
    assert not any(f.formatted in {"–", "not comparable"} for f in document.facts)


@pytest.mark.parametrize(
    ("start", "end", "grain", "note"),
    [
        ("2026-01-01", "2026-11-01", "month", ""),
        (
            "2026-07-01",
            "2026-10-01",
            "week",
            "The first and last weeks are partial: the period starts and ends mid-week.",
        ),
        ("2026-06-29", "2026-10-01", "week", "The last week is partial: the period ends mid-week."),
        (
            "2026-01-15",
            "2026-04-01",
            "quarter",
            "The first quarter is partial: the period starts mid-quarter.",
        ),
        ("2026-01-15", "2026-04-01", "day", ""),
    ],
)
def test_partial_buckets_are_noted(start: str, end: str, grain: str, note: str) -> None:
    spec = ReportSpec.model_validate(
        {
            "title": "P",
            "dataset": "sales",
            "time_range": {"start": start, "end": end},
            "blocks": [{"kind": "page_break"}],
        }
    )
    assert partial_buckets(spec, TimeGrain(grain)) == note


def test_weekly_chart_over_a_quarter_says_its_edges_are_partial(services: Services) -> None:
    spec = spec_of(REPO / "report_templates/regional_performance/sample.yml")
    preview = services.reports.preview(
        VICTOR, spec, parameters={"region": ("Americas",)}, today=AS_OF.date()
    )
    document = DocumentBuilder(preview, None, AS_OF, {"sales": "Sales orders"}).document()
    line = next(b.figure for b in document.blocks if b.figure is not None)
    assert "The first and last weeks are partial" in line.caption


def test_a_table_by_month_labels_and_formats_its_periods(services: Services) -> None:
    spec = ReportSpec.model_validate(
        {
            "title": "By month",
            "dataset": "sales",
            "time_range": {"start": "2026-07-01", "end": "2026-10-01"},
            "blocks": [{"kind": "table", "title": "T", "grain": "month", "measures": ["orders"]}],
        }
    )
    preview = services.reports.preview(ANA, spec, today=AS_OF.date())
    document = DocumentBuilder(preview, None, AS_OF, {"sales": "Sales orders"}).document()
    table = next(b.table for b in document.blocks if b.table is not None)
    assert table.columns == ("Order date (month)", "Orders")
    assert [row[0].text for row in table.rows] == ["Jul 2026", "Aug 2026", "Sep 2026"]


# -- speed without changing a number ---------------------------------------------------------------


def starter_spec(*countries: str) -> ReportSpec:
    """The builder's Executive summary over a fixed period, filtered by country."""
    period = TimeRange(start=date(2026, 1, 1), end=date(2026, 11, 1))
    filters = (Filter(field="country", op=Operator.IN, value=countries),)
    return spec_of(STARTER).model_copy(update={"time_range": period, "filters": filters})


@pytest.fixture
def fetched(services: Services, monkeypatch: pytest.MonkeyPatch) -> Counter[str]:
    """Warehouse fetches by query fingerprint (they still run for real)."""
    seen: Counter[str] = Counter()
    fetch = services.warehouse.fetch

    def counting(query: CompiledQuery, *, timeout_s: float) -> object:
        seen[query.fingerprint] += 1
        return fetch(query, timeout_s=timeout_s)

    monkeypatch.setattr(services.warehouse, "fetch", counting)
    return seen


@pytest.mark.parametrize("at_once", [1, 4])
def test_a_preview_asks_each_question_once_and_audits_it_once(
    services: Services, fetched: Counter[str], monkeypatch: pytest.MonkeyPatch, at_once: int
) -> None:
    """Blocks asking for the same rows share one governed query, even when run at once."""
    monkeypatch.setattr(services.warehouse, "concurrent_queries", at_once)
    preview = services.reports.preview(ANA, starter_spec("France"), today=AS_OF.date())
    distinct = {r.query_hash for r in preview.queried}
    report_queries = {h: n for h, n in fetched.items() if h in distinct}
    assert report_queries and set(report_queries.values()) == {1}
    assert len(distinct) < len(preview.queried)  # some blocks did share
    audited = [
        e.details["query_hash"]
        for e in services.audit.recent(actor="ana", action="dataset.query", limit=1000)
    ]
    assert sorted(audited) == sorted(distinct)
    # The KPI tiles, the narrative and the table's totals quote one query for the period.
    kpis = next(b for b in preview.blocks if b.kpis)
    narrative = next(b for b in preview.blocks if b.facts is not None)
    table = next(b for b in preview.blocks if b.table is not None)
    assert narrative.facts is not None and table.table is not None
    assert table.table.totals is not None
    revenue = kpis.kpis[0]
    assert revenue.measure == "revenue"
    assert narrative.facts["total"].value == revenue.value.value
    assert narrative.facts["total"].source.query_hash == revenue.value.source.query_hash
    assert table.table.totals.query_hash == revenue.value.source.query_hash


@pytest.mark.parametrize("at_once", [1, 4])
def test_blocks_are_prepared_as_many_at_once_as_the_warehouse_runs_queries(
    services: Services, monkeypatch: pytest.MonkeyPatch, at_once: int
) -> None:
    monkeypatch.setattr(services.warehouse, "concurrent_queries", at_once)
    drawn: list[tuple[go.Figure, int]] = []
    preview = services.reports.preview(
        ANA,
        spec_of(EXECUTIVE),
        today=AS_OF.date(),
        on_figure=lambda fig: drawn.append((fig, threading.get_ident())),
    )
    charts = [id(b.figure) for b in preview.blocks if b.figure is not None]
    assert len(charts) == 6
    assert sorted(id(fig) for fig, _ in drawn) == sorted(charts)
    here = {ident == threading.get_ident() for _, ident in drawn}
    if at_once == 1:  # one at a time, in this thread, in the spec's order
        assert here == {True}
        assert [id(fig) for fig, _ in drawn] == charts
    else:
        assert here == {False}


def test_previews_of_the_same_rows_share_their_figures(
    services: Services, monkeypatch: pytest.MonkeyPatch
) -> None:
    built: list[str] = []
    build = reports_module.build_figure

    def counting(block: ChartBlock, *args: Any, **kwargs: Any) -> go.Figure:
        built.append(block.title)
        return build(block, *args, **kwargs)

    monkeypatch.setattr(reports_module, "build_figure", counting)
    first = services.reports.preview(ANA, starter_spec("France"), today=AS_OF.date())
    again = services.reports.preview(ANA, starter_spec("France"), today=AS_OF.date())
    other = services.reports.preview(ANA, starter_spec("Spain"), today=AS_OF.date())

    def figure(preview: ReportPreview) -> go.Figure:
        return next(b.figure for b in preview.blocks if b.figure is not None)

    assert built == ["Revenue by month", "Revenue by month"]  # France once, Spain once
    assert figure(again) is figure(first)
    assert figure(other) is not figure(first)
    assert figure(other).to_json() != figure(first).to_json()
    services.reports.clear_cache()
    services.queries.clear_cache()
    fresh = services.reports.preview(ANA, starter_spec("France"), today=AS_OF.date())
    assert len(built) == 3
    assert figure(fresh) is not figure(first)
    assert figure(fresh).to_json() == figure(first).to_json()


def test_a_shared_question_fails_alike_for_every_asker() -> None:
    runs = SharedRuns()
    asked: list[str] = []

    def refuse() -> QueryResult:
        asked.append("refused")
        raise InvalidInput("not this one")

    for _ in range(2):
        with pytest.raises(InvalidInput, match="not this one"):
            runs.run("key", refuse)
    assert asked == ["refused"]
