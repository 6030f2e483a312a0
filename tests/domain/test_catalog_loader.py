"""The catalog loader: the repo's catalog is valid, and every kind of problem is located."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from reportgen.catalog.loader import load_catalog
from reportgen.domain.catalog import Catalog, Classification, MaskKind
from reportgen.errors import CatalogInvalid
from tests.conftest import CATALOG_DIR

GOOD = """\
name: {name}
title: Things
description: Some things.
owner: Team
steward: team@example.com
classification: internal
source:
  table: things
allowed_roles: [viewer]
columns:
  - {{name: id, type: integer}}
  - {{name: region, type: string}}
  - {{name: amount, type: decimal}}
dimensions:
  - {{name: region}}
measures:
  - {{name: total, expr: sum(amount)}}
"""


def write(folder: Path, name: str, text: str) -> Path:
    path = folder / f"{name}.yml"
    path.write_text(textwrap.dedent(text), encoding="utf-8")
    return path


def problems_of(folder: Path) -> list[str]:
    with pytest.raises(CatalogInvalid) as caught:
        load_catalog(folder)
    return [str(p) for p in caught.value.problems]


def test_repository_catalog_is_valid(catalog: Catalog) -> None:
    assert set(catalog.names) >= {"sales", "customers", "support_tickets", "targets"}
    customers = catalog.get("customers")
    assert customers is not None
    assert customers.classification is Classification.CONFIDENTIAL
    assert {c.name: c.mask for c in customers.pii_columns} == {
        "name": MaskKind.REDACT,
        "email": MaskKind.HASH,
        "phone": MaskKind.PARTIAL,
    }


def test_version_is_stable_and_tracks_meaning(tmp_path: Path) -> None:
    write(tmp_path, "things", GOOD.format(name="things"))
    first = load_catalog(tmp_path).get("things")
    again = load_catalog(tmp_path).get("things")
    assert first is not None and again is not None
    assert first.version == again.version
    write(tmp_path, "things", GOOD.format(name="things").replace("Some things.", "Other."))
    changed = load_catalog(tmp_path).get("things")
    assert changed is not None and changed.version != first.version


def test_every_problem_is_reported_at_once_with_file_and_line(tmp_path: Path) -> None:
    write(
        tmp_path,
        "broken",
        """\
        name: broken
        title: Broken
        description: Everything wrong.
        owner: Team
        classification: secret
        source:
          table: things
        allowed_roles: [viewer, superuser]
        columns:
          - {name: id, type: integer}
          - {name: email, type: string, pii: true}
        measures:
          - {name: total, expr: sum(amount)}
          - {name: bad, expr: "sum(id"}
        """,
    )
    write(tmp_path, "syntax", "name: syntax\ntitle: [unclosed\n")
    found = problems_of(tmp_path)
    text = "\n".join(found)
    broken = str(tmp_path / "broken.yml")
    assert f"{broken}:1: missing required field 'steward'" in text
    assert f"{broken}:5: 'classification'" in text
    assert f"{broken}:8: 'allowed_roles" in text
    assert f"{broken}:11: 'columns.1'" in text and "needs a mask" in text
    assert f"{tmp_path / 'syntax.yml'}:" in text and "not valid YAML" in text


def test_cross_references_are_checked(tmp_path: Path) -> None:
    text = GOOD.format(name="things") + textwrap.dedent(
        """\
        time_dimension: {column: region}
        freshness: {column: loaded_at, sla_hours: 24}
        row_policies:
          - {name: scope, column: territory, attribute: team}
        """
    )
    text = text.replace("sum(amount)", "sum(price)")
    text = text.replace("  - {name: region}\n", "  - {name: region}\n  - {name: region}\n")
    write(tmp_path, "things", text)
    found = "\n".join(problems_of(tmp_path))
    path = tmp_path / "things.yml"
    assert f"{path}:16: dimension 'region' is defined 2 times" in found
    assert f"{path}:18:" in found and "unknown column 'price'" in found
    assert "time dimension 'region' must be a date or timestamp" in found
    assert "freshness names unknown column 'loaded_at'" in found
    assert "names unknown column 'territory'" in found
    assert "unknown attribute 'team'; known attributes: country, department, region" in found


def test_measures_must_aggregate_and_dimensions_must_not(tmp_path: Path) -> None:
    text = GOOD.format(name="things").replace("sum(amount)", "amount")
    text = text.replace(
        "  - {name: region}\n", "  - {name: region}\n  - {name: big, expr: max(amount)}\n"
    )
    write(tmp_path, "things", text)
    found = "\n".join(problems_of(tmp_path))
    assert "measure expression 'amount' must aggregate" in found
    assert "dimension expression 'max(amount)' must not aggregate" in found


def test_duplicate_dataset_names_and_file_name_mismatch(tmp_path: Path) -> None:
    write(tmp_path, "a", GOOD.format(name="things"))
    write(tmp_path, "things", GOOD.format(name="things"))
    found = "\n".join(problems_of(tmp_path))
    assert f"{tmp_path / 'a.yml'}:1: dataset 'things' must live in a file named things.yml" in found
    assert "dataset name 'things' is already defined" in found


def test_duplicate_yaml_keys_and_unknown_fields(tmp_path: Path) -> None:
    text = GOOD.format(name="things").replace(
        "owner: Team\n", "owner: Team\nowner: Other\nextra: 1\n"
    )
    write(tmp_path, "things", text)
    found = "\n".join(problems_of(tmp_path))
    assert f"{tmp_path / 'things.yml'}:5: duplicate key 'owner'" in found


def test_unknown_field_is_named(tmp_path: Path) -> None:
    write(tmp_path, "things", GOOD.format(name="things") + "colour: blue\n")
    assert problems_of(tmp_path) == [f"{tmp_path / 'things.yml'}:18: unknown field 'colour'"]


def test_empty_or_missing_folder(tmp_path: Path) -> None:
    assert "holds no *.yml files" in problems_of(tmp_path)[0]
    assert "does not exist" in problems_of(tmp_path / "nope")[0]


def test_hostile_identifiers_are_rejected(tmp_path: Path) -> None:
    text = GOOD.format(name="things").replace("table: things", 'table: "things; drop table x"')
    write(tmp_path, "things", text)
    found = problems_of(tmp_path)
    assert any("'source.table'" in p for p in found)


def test_repository_catalog_dir_exists() -> None:
    assert sorted(p.stem for p in CATALOG_DIR.glob("*.yml")) == [
        "customers",
        "sales",
        "support_tickets",
        "targets",
    ]


SCHEMA_AND_REFERENCE_ERRORS = """\
name: things
title: Things
description: Five schema errors and eight cross-reference errors, all reported at once.
owner: Team
classification: secret
source:
  table: things
allowed_roles: [viewer]
columns:
  - {name: id, type: integer}
  - {name: region, type: string}
  - {name: amount, type: money}
  - {name: email, type: string, pii: true}
dimensions:
  - {name: region}
  - {name: territory}
  - {name: Bad}
  - {name: big, expr: max(amount)}
measures:
  - {name: total, expr: sum(price)}
  - {name: count_all, expr: id}
  - {name: rows, expr: "count(*)", format: fancy}
  - {name: region, expr: count(id)}
time_dimension: {column: region}
freshness: {column: loaded_at, sla_hours: 24}
row_policies:
  - {name: scope, column: zone, attribute: team}
"""


def test_schema_errors_do_not_hide_cross_reference_errors(tmp_path: Path) -> None:
    write(tmp_path, "things", SCHEMA_AND_REFERENCE_ERRORS)
    path = tmp_path / "things.yml"

    found = problems_of(tmp_path)

    schema = [
        f"{path}:1: missing required field 'steward'",
        f"{path}:5: 'classification'",
        f"{path}:12: 'columns.2.type'",
        f"{path}:13: 'columns.3'",
        f"{path}:17: 'dimensions.2.name'",
        f"{path}:22: 'measures.2.format'",
    ]
    references = [
        f"{path}:16: dimension 'territory' is not a column",
        f"{path}:18: dimension expression 'max(amount)' must not aggregate",
        f"{path}:20: expression 'sum(price)' names unknown column 'price'",
        f"{path}:21: measure expression 'id' must aggregate",
        f"{path}:20: 'region' is both a dimension and a measure",
        f"{path}:24: time dimension 'region' must be a date or timestamp",
        f"{path}:25: freshness names unknown column 'loaded_at'",
        f"{path}:27: row policy 'scope' names unknown column 'zone'",
        f"{path}:27: row policy 'scope' names unknown attribute 'team'",
    ]
    for expected in schema + references:
        assert any(problem.startswith(expected) for problem in found), expected
    # Columns that failed the schema still count as defined: 'amount' is not "unknown".
    assert not any("unknown column 'amount'" in problem for problem in found)
    assert len(found) == len(schema) + len(references)
    lines = [int(problem.removeprefix(f"{path}:").split(":")[0]) for problem in found]
    assert lines == sorted(lines)


def test_problems_of_every_file_come_sorted_by_file_and_line(tmp_path: Path) -> None:
    write(tmp_path, "b", GOOD.format(name="b").replace("sum(amount)", "sum(nope)") + "x: 1\n")
    write(tmp_path, "a", GOOD.format(name="a").replace("internal", "secret"))

    found = problems_of(tmp_path)

    located = [(problem.split(":")[0], int(problem.split(":")[1])) for problem in found]
    assert located == sorted(located)
    assert [name for name, _ in located] == [str(tmp_path / "a.yml")] + [
        str(tmp_path / "b.yml")
    ] * 2


@pytest.mark.parametrize(
    ("text", "line"),
    [
        ("a: &a [*a]\n", 1),
        ("name: things\ntitle: &t Things\ndescription: *t\n", 2),
        ("name: things\nlol: [x, y]\ncolumns: *nowhere\n", 3),
    ],
)
def test_yaml_anchors_and_aliases_are_refused_where_they_are(
    tmp_path: Path, text: str, line: int
) -> None:
    write(tmp_path, "things", text)

    [problem] = problems_of(tmp_path)

    assert problem.startswith(f"{tmp_path / 'things.yml'}:{line}: ")
    assert "aliases are not allowed" in problem


def test_an_alias_bomb_is_refused_at_once(tmp_path: Path) -> None:
    lines = ["a0: &a0 [lol, lol, lol, lol, lol, lol, lol, lol, lol, lol]"]
    lines += [f"a{n}: &a{n} [{', '.join([f'*a{n - 1}'] * 10)}]" for n in range(1, 12)]
    write(tmp_path, "things", "\n".join(lines) + "\n")

    [problem] = problems_of(tmp_path)

    assert "aliases are not allowed" in problem


def test_a_document_nested_too_deeply_is_a_problem_not_a_crash(tmp_path: Path) -> None:
    write(tmp_path, "things", "name: " + "[" * 20_000 + "]" * 20_000 + "\n")

    [problem] = problems_of(tmp_path)

    assert problem == f"{tmp_path / 'things.yml'}:1: the document is nested too deeply"
