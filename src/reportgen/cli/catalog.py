"""`reportgen catalog validate`: check the governed catalog."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from reportgen.catalog.loader import load_catalog
from reportgen.cli._app import catalog_app
from reportgen.cli._boundary import err, fail, out, settings
from reportgen.errors import CatalogInvalid


@catalog_app.command("validate")
def catalog_validate(
    folder: Annotated[Path | None, typer.Argument(help="Catalog folder.")] = None,
) -> None:
    """Check every dataset file; list every problem as file:line: message."""
    target = folder or settings().catalog_dir
    try:
        catalog = load_catalog(target)
    except CatalogInvalid as exc:
        for problem in exc.problems:
            err.print(str(problem), highlight=False, markup=False, soft_wrap=True)
        fail(f"{len(exc.problems)} problem(s) in {target}")
    for dataset in catalog:
        out.print(f"ok  {dataset.name:<20} version {dataset.version}", highlight=False)
