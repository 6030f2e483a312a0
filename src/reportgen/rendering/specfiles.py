"""Report specs as YAML files: read with every problem located, written back readably."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any, get_args

import yaml
from pydantic import ValidationError

from reportgen.domain.spec import Block, ReportSpec, SpecProblem
from reportgen.errors import InvalidInput, Problem
from reportgen.yamldoc import LocatedYaml, describe_error, dotted, parse_located

_BLOCK_KINDS = {member.model_fields["kind"].default for member in get_args(get_args(Block)[0])}


def _schema_location(loc: tuple[str | int, ...]) -> tuple[str | int, ...]:
    """Drop pydantic's union tags (block kinds, member type names) from an error location."""
    kept: list[str | int] = []
    previous: str | int | None = None
    for part in loc:
        tag = isinstance(part, str) and (
            (isinstance(previous, int) and part in _BLOCK_KINDS)
            or "[" in part
            or part in {"str", "int", "float", "decimal", "bool", "date", "datetime"}
        )
        previous = part
        if not tag:
            kept.append(part)
    return tuple(kept)


@dataclass(frozen=True)
class SpecFile:
    """A spec read from a file, keeping the lines so later problems can be located too."""

    spec: ReportSpec
    name: str
    located: LocatedYaml | None = None

    def explain(self, problems: list[SpecProblem]) -> list[str]:
        """Problems as ``file:line: path: message``."""
        return [
            str(
                Problem(
                    str(p),
                    self.name,
                    self.located.line(p.location) if self.located else None,
                )
            )
            for p in problems
        ]


def _validation_problems(exc: ValidationError) -> list[tuple[tuple[str | int, ...], str]]:
    errors = [(_schema_location(tuple(e["loc"])), e) for e in exc.errors()]
    # A container reported "too short" only because its bad items were dropped is noise.
    deeper = {loc[:i] for loc, _ in errors for i in range(len(loc))}
    seen: set[tuple[str | int, ...]] = set()
    found = []
    for loc, error in errors:
        if (error["type"] == "too_short" and loc in deeper) or loc in seen:
            continue
        seen.add(loc)
        found.append((loc, describe_error(error, dotted(loc))))
    return found


def parse_spec_text(text: str, name: str) -> SpecFile:
    """Parse YAML (or JSON) spec text; InvalidInput lists every problem with file and line."""
    problems: list[Problem] = []
    located = parse_located(text, name, problems)
    if located is None:
        raise InvalidInput([str(p) for p in problems])
    if not isinstance(located.value, dict):
        raise InvalidInput(f"{name}:1: a report spec is a mapping of fields")
    try:
        spec = ReportSpec.model_validate(located.value)
    except ValidationError as exc:
        raise InvalidInput(
            [str(Problem(msg, name, located.line(loc))) for loc, msg in _validation_problems(exc)]
        ) from None
    return SpecFile(spec=spec, name=name, located=located)


def load_spec_file(path: Path) -> SpecFile:
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise InvalidInput(f"cannot read the spec {path}: {exc}") from None
    return parse_spec_text(text, str(path))


def spec_from_data(data: dict[str, Any], name: str = "spec") -> ReportSpec:
    """Validate already-parsed data (e.g. a saved spec from the store)."""
    try:
        return ReportSpec.model_validate(data)
    except ValidationError as exc:
        raise InvalidInput([f"{name}: {msg}" for _, msg in _validation_problems(exc)]) from None


def dump_spec_yaml(spec: ReportSpec) -> str:
    """The spec as YAML without defaults, for people to read and edit."""
    data = spec.model_dump(mode="json", exclude_defaults=True)
    # Every block's kind is its default, yet the discriminator must be written.
    data["blocks"] = [
        {"kind": block.kind, **dumped}
        for block, dumped in zip(spec.blocks, data.get("blocks", []), strict=True)
    ]
    data = {"spec_version": spec.spec_version, **data}
    dumped: str = yaml.safe_dump(data, sort_keys=False, allow_unicode=True, width=100)
    return dumped
