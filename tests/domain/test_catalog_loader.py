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
