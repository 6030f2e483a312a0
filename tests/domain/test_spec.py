"""Report specs: every problem reported with its path; the built-in specs are valid."""

from __future__ import annotations

from pathlib import Path

import pytest

from reportgen.domain.catalog import Catalog
from reportgen.domain.query import Filter
from reportgen.domain.spec import ReportSpec, check_spec
from reportgen.errors import InvalidInput
from reportgen.rendering.specfiles import dump_spec_yaml, load_spec_file, parse_spec_text
from tests.conftest import ADMIN, ANA, REPO, VICTOR

TEMPLATE_SPECS = sorted((REPO / "report_templates").glob("*/*.yml"))


@pytest.mark.parametrize("path", TEMPLATE_SPECS, ids=lambda p: f"{p.parent.name}/{p.name}")
def test_built_in_specs_are_valid_for_authors(catalog: Catalog, path: Path) -> None:
    spec = load_spec_file(path).spec
    assert check_spec(spec, catalog, ANA) == []
    assert check_spec(spec, catalog, ADMIN) == []
    assert spec.template == path.parent.name


def test_every_template_has_a_default_and_a_sample() -> None:
    folders = {p.parent.name for p in TEMPLATE_SPECS}
    assert folders == {
        "executive_summary",
        "kpi_tracker",
        "operational_status",
        "regional_performance",
        "roi_analysis",
    }
    assert {(p.parent.name, p.name) for p in TEMPLATE_SPECS} == {
        (f, n) for f in folders for n in ("spec.yml", "sample.yml")
    }


def test_yaml_round_trip_keeps_the_spec(catalog: Catalog) -> None:
    spec = load_spec_file(REPO / "report_templates/executive_summary/sample.yml").spec
    again = parse_spec_text(dump_spec_yaml(spec), "again.yml").spec
    assert again == spec
    assert again.fingerprint == spec.fingerprint


def test_fingerprint_tracks_meaning() -> None:
    spec = load_spec_file(REPO / "report_templates/kpi_tracker/spec.yml").spec
    assert spec.model_copy(update={"title": "Other"}).fingerprint != spec.fingerprint


SPEC_WITH_PROBLEMS = """\
title: Broken
dataset: sales
filters:
  - {field: colour, value: red}
blocks:
  - {kind: chart, title: A, chart: line, x: region, y: [revenue]}
  - {kind: chart, title: B, chart: pie, x: order_date, y: [revenue, units]}
  - {kind: chart, title: C, chart: bar, x: revenue, y: [profit], color: units}
  - {kind: chart, title: D, chart: heatmap, x: order_date, y: [units]}
  - kind: table
    title: T
    dimensions: [country]
    measures: [revenue]
    sort: [{field: units}]
    rules: [{measure: units, op: ">", value: 1, style: good}]
  - kind: kpis
    tiles:
      - {measure: revenue, compare: [target]}
      - {measure: margin_pct, target: {dataset: nope, measure: x}}
  - {kind: narrative, measure: revenue, by: revenue}
"""


def test_check_spec_lists_every_problem_with_path_and_line(catalog: Catalog) -> None:
    loaded = parse_spec_text(SPEC_WITH_PROBLEMS, "broken.yml")
    found = loaded.explain(check_spec(loaded.spec, catalog, VICTOR))
    assert found == [
        "broken.yml:4: filters[0].field: 'colour' is not a field of sales",
        "broken.yml:6: blocks[0].x: a line chart needs time on x; use 'order_date' or choose a "
        "bar chart",
        "broken.yml:7: blocks[1].x: a pie chart slices a dimension, not time",
        "broken.yml:7: blocks[1].y: a pie chart shows exactly one measure",
        "broken.yml:8: blocks[2].y[0]: 'profit' is not a measure of sales; choose from: revenue, "
        "units, orders, cost, gross_margin, margin_pct, avg_order_value, customers, avg_discount",
        "broken.yml:8: blocks[2].x: 'revenue' is a measure; use a dimension here",
        "broken.yml:8: blocks[2].color: 'units' is a measure; use a dimension here",
        "broken.yml:9: blocks[3].color: a heatmap needs a row dimension in 'color'",
        "broken.yml:14: blocks[4].sort[0]: cannot sort by 'units': not in the table",
        "broken.yml:15: blocks[4].rules[0]: 'units' is not a measure of this table",
        "broken.yml:18: blocks[5].tiles[0].target: compare to target needs a target",
        "broken.yml:19: blocks[5].tiles[1].measure: you are not allowed to use the measure "
        "'margin_pct'",
        "broken.yml:19: blocks[5].tiles[1].target.dataset: unknown dataset 'nope'; choose from: "
        "customers, sales, support_tickets, targets",
        "broken.yml:20: blocks[6].by: 'revenue' is a measure; use a dimension here",
    ]


def test_a_dataset_the_principal_may_not_use(catalog: Catalog) -> None:
    spec = ReportSpec(
        title="x",
        dataset="customers",
        blocks=[{"kind": "text", "markdown": "hi"}],  # type: ignore[list-item]
    )
    problems = check_spec(spec, catalog, VICTOR)
    assert [str(p) for p in problems] == [
        "dataset: you are not allowed to use the dataset 'customers'"
    ]


def test_schema_problems_come_with_lines() -> None:
    text = (
        "title: x\ndataset: sales\nlayout:\n  page_size: A3\nblocks:\n  - kind: nope\n"
        "  - {kind: chart, title: a, chart: lin, x: region, y: [revenue]}\n"
    )
    with pytest.raises(InvalidInput) as caught:
        parse_spec_text(text, "s.yml")
    problems = caught.value.problems
    assert problems[0] == "s.yml:4: 'layout.page_size': Input should be 'A4' or 'Letter'"
    assert problems[1].startswith("s.yml:6: 'blocks[0]': Input tag 'nope'")
    assert problems[2].startswith("s.yml:7: 'blocks[1].chart': Input should be 'line'")


def test_yaml_errors_and_non_mappings() -> None:
    with pytest.raises(InvalidInput, match=r"s.yml:2: not valid YAML"):
        parse_spec_text("title: [x\nblocks: 1\n", "s.yml")
    with pytest.raises(InvalidInput, match="a report spec is a mapping"):
        parse_spec_text("- a\n- b\n", "s.yml")


def test_parameters_become_filters() -> None:
    spec = load_spec_file(REPO / "report_templates/regional_performance/sample.yml").spec
    applied = spec.with_parameters({"region": ("APAC",)})
    assert applied.parameters == ()
    assert applied.filters[-1] == Filter(field="region", op="in", value=("APAC",))
    assert spec.with_parameters({}).filters == spec.filters  # no default, no filter
