"""Read the catalog folder: one dataset per YAML file, every problem reported with file and line.

Each file is read with `reportgen.yamldoc`, so pydantic's error locations and the
cross-reference checks in `reportgen.catalog.checks` are mapped back to lines.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from pydantic import ValidationError

from reportgen.catalog.checks import check_dataset
from reportgen.domain.catalog import Catalog, Dataset
from reportgen.errors import CatalogInvalid, Problem
from reportgen.yamldoc import describe_error, read_located


def _describe(error: Any) -> str:
    return describe_error(error, ".".join(str(p) for p in error["loc"]))


def load_dataset(path: Path, problems: list[Problem]) -> Dataset | None:
    """Parse and check one file, appending its problems; None when it is not usable."""
    doc = read_located(path, problems)
    if doc is None:
        return None
    if not isinstance(doc.value, dict):
        problems.append(Problem("expected a mapping of fields at the top level", str(path), 1))
        return None
    try:
        dataset = Dataset.model_validate(doc.value)
    except ValidationError as exc:
        problems.extend(
            Problem(_describe(e), str(path), doc.line(tuple(e["loc"]))) for e in exc.errors()
        )
        return None
    if dataset.name != path.stem:
        problems.append(
            Problem(
                f"dataset '{dataset.name}' must live in a file named {dataset.name}.yml",
                str(path),
                doc.line(("name",)),
            )
        )
    problems.extend(
        Problem(message, str(path), doc.line(location))
        for location, message in check_dataset(dataset)
    )
    return dataset


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
        dataset = load_dataset(path, problems)
        if dataset is None:
            continue
        if dataset.name in datasets:
            problems.append(
                Problem(
                    f"dataset name '{dataset.name}' is already defined in {where[dataset.name]}",
                    str(path),
                    1,
                )
            )
            continue
        datasets[dataset.name] = dataset
        where[dataset.name] = path
    if problems:
        raise CatalogInvalid(problems)
    return Catalog(datasets)
