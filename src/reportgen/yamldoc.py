"""YAML documents that remember where each value came from, for errors a person can act on.

The catalog and report specs are YAML written by people; every problem found in one is reported
as ``file:line: message``. `LocatedYaml` composes the document node by node so each key and item
keeps its line, and `describe_error` turns a pydantic error into a sentence.

Anchors and aliases (``&a``, ``*a``) are refused where they appear: a definition is read by
reviewers, who should see every value written out, and an alias can make a document refer to
itself or expand exponentially ("billion laughs").
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from reportgen.errors import Problem

Location = tuple[str | int, ...]
NO_ALIASES = "aliases are not allowed"


class _Refused(yaml.MarkedYAMLError):
    """Valid YAML that definitions may not use."""


class _NoAliasLoader(yaml.SafeLoader):
    """The safe loader, refusing anchors and aliases as soon as the composer meets one."""

    def compose_node(self, parent: yaml.Node | None, index: int) -> yaml.Node | None:
        event: Any = self.peek_event()  # type: ignore[no-untyped-call]
        mark: Any = event.start_mark
        anchor = getattr(event, "anchor", None)
        if isinstance(event, yaml.AliasEvent):
            raise _Refused(
                problem=f"{NO_ALIASES} (*{anchor}): write the value out in full",
                problem_mark=mark,
            )
        if anchor is not None:
            raise _Refused(
                problem=f"anchors (&{anchor}) and {NO_ALIASES}: write each value out in full",
                problem_mark=mark,
            )
        return super().compose_node(parent, index)


class LocatedYaml:
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


def parse_located(text: str, name: str, problems: list[Problem]) -> LocatedYaml | None:
    """Parse `text` (from the file `name`); append a located problem and return None on failure."""
    try:
        node = yaml.compose(text, Loader=_NoAliasLoader)
    except _Refused as exc:
        line = exc.problem_mark.line + 1 if exc.problem_mark else 1
        problems.append(Problem(str(exc.problem), name, line))
        return None
    except RecursionError:
        problems.append(Problem("the document is nested too deeply", name, 1))
        return None
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark else 1
        problems.append(Problem(f"not valid YAML: {exc.problem or exc}", name, line))
        return None
    except yaml.YAMLError as exc:
        problems.append(Problem(f"not valid YAML: {exc}", name, 1))
        return None
    if node is None:
        problems.append(Problem("the file is empty", name, 1))
        return None
    try:
        return LocatedYaml(node)
    except RecursionError:
        problems.append(Problem("the document is nested too deeply", name, 1))
        return None
    except yaml.MarkedYAMLError as exc:
        line = exc.problem_mark.line + 1 if exc.problem_mark else 1
        problems.append(Problem(str(exc.problem), name, line))
        return None


def read_located(path: Path, problems: list[Problem]) -> LocatedYaml | None:
    """Read and parse a YAML file, reporting unreadable files as problems too."""
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        problems.append(Problem(f"cannot read the file: {exc}", str(path), 1))
        return None
    return parse_located(text, str(path), problems)


def dotted(location: Location) -> str:
    """``('blocks', 2, 'y', 0)`` as ``blocks[2].y[0]``."""
    out = ""
    for part in location:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out


def describe_error(error: Any, where: str) -> str:
    """One pydantic error as a sentence about the value at `where`."""
    message = str(error["msg"]).removeprefix("Value error, ")
    if error["type"] == "missing":
        return f"missing required field '{where}'"
    if error["type"] == "extra_forbidden":
        return f"unknown field '{where}'"
    if error["type"] == "string_pattern_mismatch":
        return f"'{where}': use lower-case letters, digits and underscores, starting with a letter"
    return f"'{where}': {message}" if where else message
