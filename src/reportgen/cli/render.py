"""`reportgen render`: render a report as a user into a bundle."""

# Typer commands take their options as parameters.

from __future__ import annotations

import sys
from datetime import datetime
from pathlib import Path
from typing import Annotated

import typer

from reportgen.cli._app import app
from reportgen.cli._boundary import err, sentences, services
from reportgen.domain.spec import check_spec
from reportgen.errors import InvalidInput
from reportgen.rendering.specfiles import load_spec_file
from reportgen.services.render import parse_formats


def _parameters(pairs: list[str]) -> dict[str, tuple[str, ...]]:
    values: dict[str, tuple[str, ...]] = {}
    for pair in pairs:
        name, sep, text = pair.partition("=")
        if not sep or not name.strip():
            raise InvalidInput(f"--param '{pair}': write NAME=VALUE[,VALUE...], e.g. region=EMEA")
        values[name.strip()] = tuple(v.strip() for v in text.split(",") if v.strip())
    return values


def _as_of(text: str | None) -> datetime | None:
    if text is None:
        return None
    try:
        return datetime.fromisoformat(text)
    except ValueError:
        raise InvalidInput(
            f"--as-of '{text}': write a date and time such as 2026-11-30T08:00:00+00:00"
        ) from None


@app.command()
def render(
    spec_path: Annotated[Path, typer.Argument(metavar="SPEC", help="A report spec (YAML).")],
    as_user: Annotated[str, typer.Option("--as", help="Render with this user's permissions.")],
    out_dir: Annotated[Path, typer.Option("--out", help="Folder to copy the files into.")],
    formats: Annotated[str, typer.Option("--format", help="pdf, csv, xlsx, html.")] = "pdf",
    param: Annotated[
        list[str] | None, typer.Option(help="NAME=VALUE[,VALUE] (repeatable).")
    ] = None,
    as_of: Annotated[str | None, typer.Option(help="The run's logical time (ISO 8601).")] = None,
) -> None:
    """Render a report as a user into a bundle: files, manifest.json and checksums."""
    with sentences():
        chosen = parse_formats(formats)
        parameters = _parameters(param or [])
        moment = _as_of(as_of)
        spec_file = load_spec_file(spec_path)
    with services() as svc:
        principal = svc.users.principal(as_user)
        problems = check_spec(spec_file.spec, svc.reports.catalog, principal)
        if problems:
            raise InvalidInput(spec_file.explain(problems))
        result = svc.render.render(
            principal, spec_file.spec, formats=chosen, as_of=moment, parameters=parameters
        )
        out_dir.mkdir(parents=True, exist_ok=True)
        for artifact in (*result.bundle.files, result.bundle.manifest):
            name = artifact.key.rsplit("/", 1)[-1]
            (out_dir / name).write_bytes(svc.render.store.get(artifact.key))
            sys.stdout.write(f"{artifact.sha256}  {out_dir / name}\n")
        location = svc.render.store.url_for(result.bundle.prefix)
        err.print(
            f"Bundle {result.bundle.prefix} stored in {location}", highlight=False, soft_wrap=True
        )
