"""Where a new report starts: a built-in template's default or sample spec, or a blank page.

Templates are read through the render service's template library (the same folders the PDF is
laid out from), so a deployment's own templates in ``REPORTGEN_TEMPLATES_DIR`` are offered too.
A blank report is one KPI tile and one chart on the chosen dataset, valid from the start.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from reportgen.domain.catalog import Dataset
from reportgen.domain.principal import Principal
from reportgen.domain.query import TimePreset, TimeRange
from reportgen.domain.spec import Block, ChartBlock, ChartKind, KpiBlock, KpiTile, ReportSpec
from reportgen.errors import InvalidInput
from reportgen.rendering.specfiles import load_spec_file
from reportgen.services.render import RenderService

BLANK = "blank"
STARTS = ("spec", "sample")
"""A template folder's two specs: the lean starting point and the worked example."""


@dataclass(frozen=True)
class TemplateStart:
    """One way to start a report: a template's spec file, already read and validated."""

    key: str  # "executive_summary/spec"
    template: str
    label: str
    spec: ReportSpec


def template_label(name: str, spec: ReportSpec | None = None) -> str:
    """A template's name as people write it: its default spec's title ("KPI tracker"), else
    its folder's name in words."""
    return spec.title if spec is not None else name.replace("_", " ").capitalize()


def template_starts(render: RenderService) -> list[TemplateStart]:
    """Every template's default spec and sample spec that reads cleanly, in name order.

    A broken spec file in a deployment's own templates folder is left out rather than breaking
    the builder; ``reportgen render`` on that file names its problems.
    """
    starts: list[TemplateStart] = []
    for name in render.library.names():
        folder = render.library.folder(name)
        label = template_label(name)
        for start in STARTS:
            path: Path = folder / f"{start}.yml"
            if not path.is_file():
                continue
            try:
                spec = load_spec_file(path).spec
            except InvalidInput:
                continue
            if start == "spec":
                label = template_label(name, spec)
            suffix = "" if start == "spec" else " (sample)"
            starts.append(TemplateStart(f"{name}/{start}", name, label + suffix, spec))
    return starts


def blank_spec(dataset: Dataset, principal: Principal, title: str = "New report") -> ReportSpec:
    """A small valid report on `dataset`: a KPI tile and a chart of its first usable measure."""
    measures = [m for m in dataset.measures if m.allows(principal)]
    if not measures:
        raise InvalidInput(f"{dataset.title} has no measure you may use; pick another dataset")
    first = measures[0]
    blocks: list[Block] = [KpiBlock(tiles=(KpiTile(measure=first.name),))]
    time = dataset.time_dimension
    x = time.column if time is not None else next((d.name for d in dataset.dimensions), None)
    if x is not None:
        blocks.append(
            ChartBlock(
                title=f"{first.label} by {x.replace('_', ' ')}",
                chart=ChartKind.LINE if time is not None else ChartKind.BAR,
                x=x,
                y=(first.name,),
            )
        )
    return ReportSpec(
        title=title,
        dataset=dataset.name,
        time_range=TimeRange(preset=TimePreset.LAST_90_DAYS) if time is not None else None,
        blocks=tuple(blocks),
    )
