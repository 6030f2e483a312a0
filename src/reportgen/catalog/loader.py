"""Read the catalog folder: one dataset per YAML file, every problem reported with file and line.

Each file is read with `reportgen.yamldoc`, so pydantic's error locations and the
cross-reference checks in `reportgen.catalog.checks` are mapped back to lines. The schema and
the cross-references are checked independently: the references among the columns, dimensions,
measures and policies that do validate are checked even when others do not, and every problem
of every file comes back at once, sorted by file and line.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError

from reportgen.catalog.checks import DatasetParts, check_parts
from reportgen.domain.catalog import (
    Catalog,
    Column,
    Dataset,
    Dimension,
    Freshness,
    Measure,
    RowPolicy,
    Source,
    TimeDimension,
)
from reportgen.errors import CatalogInvalid, Problem
from reportgen.yamldoc import describe_error, read_located

Part = TypeVar("Part", bound=BaseModel)


def _describe(error: Any) -> str:
    return describe_error(error, ".".join(str(p) for p in error["loc"]))


def _valid(model: type[Part], value: object) -> Part | None:
    try:
        return model.model_validate(value)
    except ValidationError:
        return None


def _items(raw: dict[str, Any], field: str, model: type[Part]) -> list[Part | None]:
    value = raw.get(field)
    return [_valid(model, item) for item in value] if isinstance(value, list) else []


def _names(raw: dict[str, Any], field: str) -> list[str | None]:
    value = raw.get(field)
    if not isinstance(value, list):
        return []
    return [
        item["name"] if isinstance(item, dict) and isinstance(item.get("name"), str) else None
        for item in value
    ]


def _part(raw: dict[str, Any], field: str, model: type[Part]) -> Part | None:
    return None if raw.get(field) is None else _valid(model, raw[field])


def dataset_parts(raw: dict[str, Any]) -> DatasetParts:
    """The parts of a dataset file's mapping that validate on their own."""
    return DatasetParts(
        columns=_items(raw, "columns", Column),
        dimensions=_items(raw, "dimensions", Dimension),
        measures=_items(raw, "measures", Measure),
        row_policies=_items(raw, "row_policies", RowPolicy),
        column_names=_names(raw, "columns"),
        dimension_names=_names(raw, "dimensions"),
        measure_names=_names(raw, "measures"),
        source=_part(raw, "source", Source),
        time_dimension=_part(raw, "time_dimension", TimeDimension),
        freshness=_part(raw, "freshness", Freshness),
    )


def load_dataset(path: Path, problems: list[Problem]) -> tuple[str | None, Dataset | None]:
    """Parse and check one file, appending its problems (sorted by line).

    Returns the dataset's name as written (when it is text) and the dataset, when it is usable.
    """
    doc = read_located(path, problems)
    if doc is None:
        return None, None
    if not isinstance(doc.value, dict):
        problems.append(Problem("expected a mapping of fields at the top level", str(path), 1))
        return None, None
    raw: dict[str, Any] = doc.value
    found: list[Problem] = []
    dataset: Dataset | None = None
    try:
        dataset = Dataset.model_validate(raw)
    except ValidationError as exc:
        found += [Problem(_describe(e), str(path), doc.line(tuple(e["loc"]))) for e in exc.errors()]
    name = raw.get("name") if isinstance(raw.get("name"), str) else None
    if name is not None and name != path.stem:
        found.append(
            Problem(
                f"dataset '{name}' must live in a file named {name}.yml",
                str(path),
                doc.line(("name",)),
            )
        )
    found += [
        Problem(message, str(path), doc.line(location))
        for location, message in check_parts(dataset_parts(raw))
    ]
    problems.extend(sorted(found, key=lambda problem: problem.line or 0))
    return name, dataset if len(found) == 0 else None


def load_catalog(folder: Path) -> Catalog:
    """Every dataset in `folder`; raise CatalogInvalid listing all problems of all files."""
    problems: list[Problem] = []
    if not folder.is_dir():
        raise CatalogInvalid([Problem(f"catalog folder {folder} does not exist")])
    files = sorted([*folder.glob("*.yml"), *folder.glob("*.yaml")])
    if not files:
        raise CatalogInvalid([Problem(f"catalog folder {folder} holds no *.yml files")])
    datasets: dict[str, Dataset] = {}
    where: dict[str, Path] = {}
    for path in files:
        name, dataset = load_dataset(path, problems)
        if name is None:
            continue
        if name in where:
            problems.append(
                Problem(f"dataset name '{name}' is already defined in {where[name]}", str(path), 1)
            )
            continue
        where[name] = path
        if dataset is not None:
            datasets[name] = dataset
    if problems:
        raise CatalogInvalid(sorted(problems, key=lambda p: (p.file or "", p.line or 0)))
    return Catalog(datasets)
