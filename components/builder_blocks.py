"""The builder's blocks: one editor per block, with buttons to move and remove it, and a way
to add new blocks.

Each editor draws the fields of its kind of block (chart kind and encodings, table columns,
KPI measures, narrative measure, Markdown), seeded from the block it started from, and builds
the block back from them. Settings the editors do not show (a tile's target, a table's
formatting rules) are carried over from that block. A block that cannot be built says why in
its own slot and is left out of the spec until it is fixed.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import streamlit as st
from pydantic import ValidationError

from components.builder_problems import ProblemBoard, validation_messages
from components.builder_state import (
    add_block,
    block_ids,
    block_seed,
    move_block,
    remove_block,
    seeded,
)
from reportgen.domain.catalog import Dataset
from reportgen.domain.principal import Principal
from reportgen.domain.spec import (
    Block,
    ChartBlock,
    ChartKind,
    CoverBlock,
    KpiBlock,
    KpiTile,
    NarrativeBlock,
    PageBreakBlock,
    SectionBlock,
    TableBlock,
    TextBlock,
)

KINDS: dict[str, str] = {
    "kpis": "KPI tiles",
    "chart": "Chart",
    "table": "Table",
    "narrative": "Narrative",
    "text": "Text",
    "section": "Section heading",
    "cover": "Cover page",
    "page_break": "Page break",
}
CHART_KINDS: dict[ChartKind, str] = {
    ChartKind.BAR: "Bar",
    ChartKind.STACKED_BAR: "Stacked bar",
    ChartKind.LINE: "Line",
    ChartKind.AREA: "Area",
    ChartKind.SCATTER: "Scatter",
    ChartKind.PIE: "Pie",
    ChartKind.DONUT: "Donut",
    ChartKind.HEATMAP: "Heatmap",
}
_NOTHING = ""  # the "none" choice of an optional selectbox
_MODELS: dict[str, type[Block]] = {
    "kpis": KpiBlock,
    "chart": ChartBlock,
    "table": TableBlock,
    "narrative": NarrativeBlock,
    "text": TextBlock,
    "section": SectionBlock,
    "cover": CoverBlock,
    "page_break": PageBreakBlock,
}


class _Fields:
    """Names and choices an editor needs: the dataset's fields the principal may use."""

    def __init__(self, dataset: Dataset, principal: Principal, block_id: str) -> None:
        self.dataset = dataset
        self.block_id = block_id
        self.measures = [m.name for m in dataset.measures if m.allows(principal)]
        self.dimensions = [d.name for d in dataset.dimensions]
        self.time = dataset.time_dimension.column if dataset.time_dimension else None
        self.grains = list(dataset.time_dimension.grains) if dataset.time_dimension else []

    def key(self, name: str, value: Any) -> str:
        return seeded(f"block_{self.block_id}_{name}", value)

    def label(self, name: str) -> str:
        if (measure := self.dataset.measure(name)) is not None:
            return measure.label
        if (dimension := self.dataset.dimension(name)) is not None:
            return dimension.label
        if name == self.time:
            return f"{name.replace('_', ' ').capitalize()} (time)"
        return name.replace("_", " ").capitalize()

    @property
    def grain_names(self) -> list[str]:
        return [grain.value for grain in self.grains]

    def optional(
        self, label: str, options: list[str], current: str | None, name: str, nothing: str
    ) -> str | None:
        """A selectbox whose first choice is `nothing` (returned as None).

        The choice is a real option, not an empty selection, so the browser shows its words
        instead of a placeholder.
        """
        chosen = st.selectbox(
            label,
            [_NOTHING, *options],
            format_func=lambda value: nothing if value == _NOTHING else self.label(value),
            key=self.key(name, str(current) if current else _NOTHING),
        )
        return None if chosen == _NOTHING else str(chosen)

    @staticmethod
    def including(options: list[str], *current: str | None) -> list[str]:
        """`options` plus any current value missing from them, so the checker can name it."""
        return options + [c for c in current if c is not None and c not in options]


def default_block(kind: str, dataset: Dataset, principal: Principal) -> Block:
    """A new block of `kind` that is valid on `dataset` as it stands."""
    measures = [m.name for m in dataset.measures if m.allows(principal)] or ["missing"]
    dimensions = [d.name for d in dataset.dimensions]
    x = (
        dimensions[0]
        if dimensions
        else (dataset.time_dimension.column if dataset.time_dimension else "x")
    )
    match kind:
        case "kpis":
            return KpiBlock(tiles=(KpiTile(measure=measures[0]),))
        case "chart":
            return ChartBlock(title="New chart", chart=ChartKind.BAR, x=x, y=(measures[0],))
        case "table":
            return TableBlock(
                title="New table", dimensions=tuple(dimensions[:1]), measures=(measures[0],)
            )
        case "narrative":
            return NarrativeBlock(measure=measures[0], by=dimensions[0] if dimensions else None)
        case "text":
            return TextBlock(markdown="Write your commentary here.")
        case "section":
            return SectionBlock(title="New section")
        case "cover":
            return CoverBlock()
        case _:
            return PageBreakBlock()


def _chart(seed: ChartBlock, f: _Fields) -> dict[str, Any]:
    title = st.text_input("Chart title", key=f.key("title", seed.title))
    kind = st.selectbox(
        "Chart kind",
        list(CHART_KINDS),
        format_func=CHART_KINDS.__getitem__,
        key=f.key("chart", seed.chart),
    )
    axis = [*([f.time] if f.time else []), *f.dimensions, *f.measures]
    x = st.selectbox(
        "X axis", f.including(axis, seed.x), format_func=f.label, key=f.key("x", seed.x)
    )
    y = st.multiselect(
        "Y axis (measures)",
        f.including(f.measures, *seed.y),
        format_func=f.label,
        max_selections=4,
        key=f.key("y", list(seed.y)),
    )
    color = f.optional(
        "Split by colour", f.including(f.dimensions, seed.color), seed.color, "color", "No split"
    )
    data: dict[str, Any] = {
        **seed.model_dump(exclude={"title", "chart", "x", "y", "color", "grain", "top_n"}),
        "title": title,
        "chart": kind,
        "x": x,
        "y": tuple(y),
        "color": color,
    }
    if x == f.time:
        data["grain"] = f.optional(
            "Time grain", f.grain_names, seed.grain, "grain", "The report's grain"
        )
    else:
        data["top_n"] = st.number_input(
            "Show only the largest (leave empty for all)",
            min_value=1,
            max_value=50,
            step=1,
            value=None,
            key=f.key("top_n", seed.top_n),
        )
    return data


def _table(seed: TableBlock, f: _Fields) -> dict[str, Any]:
    title = st.text_input("Table title", key=f.key("title", seed.title))
    dimensions = st.multiselect(
        "Rows (dimensions)",
        f.including(f.dimensions, *seed.dimensions),
        format_func=f.label,
        key=f.key("dimensions", list(seed.dimensions)),
    )
    measures = st.multiselect(
        "Columns (measures)",
        f.including(f.measures, *seed.measures),
        format_func=f.label,
        key=f.key("measures", list(seed.measures)),
    )
    grain = None
    if f.grains:
        grain = f.optional("Rows by time", f.grain_names, seed.grain, "grain", "No time column")
    max_rows = st.number_input(
        "Rows shown in the PDF",
        min_value=1,
        max_value=5000,
        step=10,
        key=f.key("max_rows", seed.max_rows),
    )
    totals = st.checkbox("Totals row", key=f.key("totals", seed.totals))
    outputs = {*dimensions, *measures}
    if grain is not None and f.time:
        outputs.add(f"{f.time}__{grain}")
    return {
        **seed.model_dump(
            exclude={
                "title",
                "dimensions",
                "measures",
                "grain",
                "max_rows",
                "totals",
                "sort",
                "rules",
            }
        ),
        "title": title,
        "dimensions": tuple(dimensions),
        "measures": tuple(measures),
        "grain": grain,
        "max_rows": max_rows,
        "totals": totals,
        # A sort or a rule on a column taken out of the table goes with it.
        "sort": tuple(key for key in seed.sort if key.field in outputs),
        "rules": tuple(rule for rule in seed.rules if rule.measure in measures),
    }


def _kpis(seed: KpiBlock, f: _Fields) -> dict[str, Any]:
    title = st.text_input("Heading", key=f.key("title", seed.title))
    current = [tile.measure for tile in seed.tiles]
    measures = st.multiselect(
        "Tiles (measures, up to 8)",
        f.including(f.measures, *current),
        format_func=f.label,
        max_selections=8,
        key=f.key("tiles", current),
    )
    tiles = {tile.measure: tile for tile in seed.tiles}
    return {
        "kind": "kpis",
        "title": title,
        "tiles": tuple(tiles.get(m) or KpiTile(measure=m) for m in measures),
    }


def _narrative(seed: NarrativeBlock, f: _Fields) -> dict[str, Any]:
    title = st.text_input("Heading", key=f.key("title", seed.title))
    measure = st.selectbox(
        "About (measure)",
        f.including(f.measures, seed.measure),
        format_func=f.label,
        key=f.key("measure", seed.measure),
    )
    by = f.optional(
        "Find movers by", f.including(f.dimensions, seed.by), seed.by, "by", "No breakdown"
    )
    return {
        **seed.model_dump(exclude={"title", "measure", "by"}),
        "title": title,
        "measure": measure,
        "by": by,
    }


def _text(seed: TextBlock, f: _Fields) -> dict[str, Any]:
    markdown = st.text_area("Text (Markdown)", key=f.key("markdown", seed.markdown))
    return {"kind": "text", "markdown": markdown}


def _section(seed: SectionBlock, f: _Fields) -> dict[str, Any]:
    title = st.text_input("Section title", key=f.key("title", seed.title))
    intro = st.text_area("Introduction (Markdown, optional)", key=f.key("intro", seed.intro))
    return {"kind": "section", "title": title, "intro": intro}


def _cover(seed: CoverBlock, f: _Fields) -> dict[str, Any]:
    title = st.text_input("Cover title (empty: the report's title)", key=f.key("title", seed.title))
    subtitle = st.text_input("Cover subtitle", key=f.key("subtitle", seed.subtitle))
    return {"kind": "cover", "title": title, "subtitle": subtitle}


def _page_break(seed: PageBreakBlock, f: _Fields) -> dict[str, Any]:
    st.caption("The PDF continues on a new page here.")
    return {"kind": "page_break"}


_EDITORS: dict[str, Callable[[Any, _Fields], dict[str, Any]]] = {
    "chart": _chart,
    "table": _table,
    "kpis": _kpis,
    "narrative": _narrative,
    "text": _text,
    "section": _section,
    "cover": _cover,
    "page_break": _page_break,
}


def _summary(block: Block) -> str:
    title = getattr(block, "title", "") or ""
    return f"{KINDS[block.kind]}: {title}" if title else KINDS[block.kind]


def _toolbar(block_id: str, position: int, count: int) -> None:
    with st.container(horizontal=True):
        st.button(
            "Up",
            key=f"builder_up_{block_id}",
            icon=":material/arrow_upward:",
            disabled=position == 0,
            on_click=move_block,
            args=(block_id, -1),
            help="Move this block up",
        )
        st.button(
            "Down",
            key=f"builder_down_{block_id}",
            icon=":material/arrow_downward:",
            disabled=position == count - 1,
            on_click=move_block,
            args=(block_id, 1),
            help="Move this block down",
        )
        st.button(
            "Remove",
            key=f"builder_remove_{block_id}",
            icon=":material/delete:",
            disabled=count == 1,
            on_click=remove_block,
            args=(block_id,),
            help="Remove this block (a report keeps at least one)",
        )


def _add(kind_widget: str, dataset: Dataset, principal: Principal) -> None:
    """Callback: append a new block of the chosen kind."""
    add_block(default_block(st.session_state[kind_widget], dataset, principal))


def block_editors(
    principal: Principal, dataset: Dataset, board: ProblemBoard
) -> list[tuple[str, Block]]:
    """Draw every block's editor; return (block id, block) for the blocks that could be built."""
    ids = block_ids()
    built: list[tuple[str, Block]] = []
    for position, block_id in enumerate(ids):
        seed = block_seed(block_id)
        fields = _Fields(dataset, principal, block_id)
        with st.expander(f"{position + 1}. {_summary(seed)}", expanded=False):
            _toolbar(block_id, position, len(ids))
            data = _EDITORS[seed.kind](seed, fields)
        # Below the expander, so a closed block still shows what is wrong with it.
        board.slot(f"block:{block_id}")
        try:
            built.append((block_id, _MODELS[seed.kind].model_validate({**data, "kind": seed.kind})))
        except ValidationError as exc:
            for path, message in validation_messages(exc):
                board.add(f"block:{block_id}.{path}" if path else f"block:{block_id}", message)
    with st.container(horizontal=True, vertical_alignment="bottom"):
        kind = seeded("add_kind", "chart")
        st.selectbox("Block to add", list(KINDS), format_func=KINDS.__getitem__, key=kind)
        st.button(
            "Add block",
            key="builder_add_block",
            icon=":material/add:",
            on_click=_add,
            args=(kind, dataset, principal),
        )
    return built
