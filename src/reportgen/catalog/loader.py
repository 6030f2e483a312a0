"""Read the catalog folder: one dataset per YAML file, every problem reported with file and line.

YAML is composed node by node so each value keeps its line; pydantic's error locations and the
cross-reference checks in `reportgen.catalog.checks` are mapped back to those lines.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from reportgen.catalog.checks import check_dataset
from reportgen.domain.catalog import Catalog, Dataset
from reportgen.errors import CatalogInvalid, Problem

Location = tuple[str | int, ...]


class _Located:
    """A parsed YAML document with the line of every key and item."""

    def __init__(self, node: yaml.Node) -> None:
        self.lines: dict[Location, int] = {}
        self._scalars = yaml.SafeLoader("")  # resolves ints, bools, dates as safe_load would
        self.value = self._build(node, ())

    def _build(self, node: yaml.Node, at: Location) -> Any:
        self.lines[at] = node.start_mark.line + 1
        if isinstance(node, yaml.MappingNode):
            result: dict[Any, Any] = {}
            for key_node, value_node in node.value:
                key = key_node.value
                if key in result:
                    raise yaml.MarkedYAMLError(
                        problem=f"duplicate key '{key}'", problem_mark=key_node.start_mark
                    )
                result[key] = self._build(value_node, (*at, key))
            return result
        if isinstance(node, yaml.SequenceNode):
            return [self._build(item, (*at, i)) for i, item in enumerate(node.value)]
        return self._scalars.construct_object(node)

    def line(self, at: Location) -> int:
        """The line of `at`, or of its nearest ancestor present in the file."""
        while at not in self.lines and at:
            at = at[:-1]
        return self.lines.get(at, 1)


def _parse(path: Path, problems: list[Problem]) -> _Located | None:
    name = str(path)
    try:
        node = yaml.compose(path.read_text(encoding="utf-8"), Loader=yaml.SafeLoader)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark else 1
        problems.append(Problem(f"not valid YAML: {exc.problem or exc}", name, line))
        return None
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as exc:
        problems.append(Problem(f"cannot read the file: {exc}", name, 1))
        return None
    if node is None:
        problems.append(Problem("the file is empty; define one dataset", name, 1))
        return None
    try:
        return _Located(node)
    except yaml.MarkedYAMLError as exc:
        line = exc.problem_mark.line + 1 if exc.problem_mark else 1
        problems.append(Problem(str(exc.problem), name, line))
        return None


def _describe(error: Any) -> str:
    where = ".".join(str(p) for p in error["loc"])
    message = str(error["msg"]).removeprefix("Value error, ")
    if error["type"] == "missing":
        return f"missing required field '{where}'"
    if error["type"] == "extra_forbidden":
        return f"unknown field '{where}'"
    if error["type"] == "string_pattern_mismatch":
        return f"'{where}': use lower-case letters, digits and underscores, starting with a letter"
    return f"'{where}': {message}" if where else message


def load_dataset(path: Path, problems: list[Problem]) -> Dataset | None:
    """Parse and check one file, appending its problems; None when it is not usable."""
    doc = _parse(path, problems)
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
