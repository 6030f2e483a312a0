"""A report's HTML cut into parts that lay out independently, and their PDFs joined again.

WeasyPrint lays out on one core. A report splits where it already breaks the page: the
cover and the lineage appendix (the *back* part) lay out beside everything between them (the
*front* part), in another process. Neither part draws the running header and footer; a third,
near-empty document (the *stamp*) draws them, with "Page X of Y" and the watermark, once the
page count is known, and is laid over every page of the joined file.

Each moved fragment leaves behind a *stub*: its own first tag, empty, holding an empty element
for every id the fragment defines. A stub takes the pages its fragment takes (one), so the
front's page numbers, table of contents and links stay what they would be in one piece; the
joined file takes the moved fragments' pages and named destinations from the back part.

The base layout marks the fragments with `<!--rg:cover-->` … `<!--/rg:cover-->`, likewise
`lineage` and `watermark`, outside the blocks templates override. A document without those
marks, or with CSS the stamp cannot reproduce (named pages other than the cover, `:blank`
pages), is not split: it is laid out in one piece.
"""

from __future__ import annotations

import html
import io
import re
import warnings
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

import pikepdf

from reportgen.rendering.pdf_charts import place
from reportgen.rendering.pdf_fonts import retag_fonts

_BODY_TAG = re.compile(r"<body\b[^>]*>", re.IGNORECASE)
_FIRST_TAG = re.compile(r"\s*<([a-zA-Z][\w-]*)\b([^>]*)>")
_ID = re.compile(r'\sid="([^"]*)"')
_HREF = re.compile(r'\shref="#([^"]*)"')
_PAGE_NAME_USE = re.compile(r"(?<![-\w@])page\s*:\s*([-\w]+)", re.IGNORECASE)
_PAGE_RULE = re.compile(r"@page\s*([^{]*)\{", re.IGNORECASE)
_STYLE = re.compile(r"<style\b[^>]*>(.*?)</style>", re.IGNORECASE | re.DOTALL)
_STYLE_ATTRIBUTE = re.compile(r'\sstyle="([^"]*)"', re.IGNORECASE)

MARGIN_BOXES = (
    "top-left-corner",
    "top-left",
    "top-center",
    "top-right",
    "top-right-corner",
    "left-top",
    "left-middle",
    "left-bottom",
    "right-top",
    "right-middle",
    "right-bottom",
    "bottom-left-corner",
    "bottom-left",
    "bottom-center",
    "bottom-right",
    "bottom-right-corner",
)
# The parts keep the page boxes (size, margins, backgrounds) but draw no margin boxes.
_NO_FURNITURE = (
    "<style>@page {"
    + " ".join(f"@{box} {{ content: none !important; }}" for box in MARGIN_BOXES)
    + "}</style>"
)
# The stamp draws margin boxes and fixed elements only: nothing that would cover the content.
_STAMP_ONLY = (
    "<style>@page { background: none !important; border: none !important; }"
    "html, body { background: none !important; }"
    ".rg-stamp-page + .rg-stamp-page { break-before: page; }"
    ".rg-stamp-cover { height: 0 !important; margin: 0 !important; padding: 0 !important; "
    "border: none !important; }</style>"
)
_COVER_PAGE = "cover"
# Empty elements whose pages prove that each stub, and the back's cover, has its pages alone.
COVER_LAST = "rg-part-cover-last"  # inside the back's cover, at its end: on the cover's page
COVER_END = "rg-part-cover-end"  # after the front's cover stub: on the page after it
LINEAGE_START = "rg-part-lineage-start"  # before the front's lineage stub: on the page before
SENTINELS = frozenset({COVER_LAST, COVER_END, LINEAGE_START})


class CannotSplit(Exception):
    """The laid-out parts do not fit back together; lay the document out in one piece."""


@dataclass(frozen=True)
class _Fragment:
    html: str
    root_tag: str  # the fragment's first tag, e.g. '<section class="rg-lineage" id="lineage">'
    root_name: str
    root_id: str | None
    ids: tuple[str, ...]

    def stub(self) -> str:
        inner = "".join(_anchor(i) for i in self.ids if i != self.root_id)
        return f"{self.root_tag}{inner}</{self.root_name}>"

    def ending_with(self, marker: str) -> str:
        """The fragment with `marker` inside its root, after everything else."""
        body = self.html.rstrip()
        close = f"</{self.root_name}>"
        if not body.endswith(close):
            return self.html
        return body[: -len(close)] + marker + close


def _anchor(name: str) -> str:
    return f'<span id="{html.escape(name, quote=True)}"></span>'


@dataclass(frozen=True)
class Parts:
    """The HTML of each part, and what joining their PDFs needs to know."""

    front: str
    back: str
    head: str  # everything up to the end of the <body> tag, for the stamp
    watermark: str
    has_cover: bool
    lineage_anchor: str
    back_ids: frozenset[str]

    def stamp(self, total_pages: int, cover_pages: int) -> str:
        """The page furniture of `total_pages` pages, the first `cover_pages` of them covers."""
        cover = '<header class="rg-cover rg-stamp-cover"></header>' * cover_pages
        pages = '<div class="rg-stamp-page"></div>' * (total_pages - cover_pages)
        head = self.head.replace("</head>", _STAMP_ONLY + "</head>", 1)
        return f"{head}{self.watermark}{cover}{pages}</body></html>"


def split(document: str) -> Parts | None:
    """The report's parts, or None when it is better laid out in one piece."""
    body = _BODY_TAG.search(document)
    if body is None or "</head>" not in document[: body.start()] or not _stampable(document):
        return None
    lineage = _fragment(document, "lineage")
    if lineage is None or lineage[0].root_id is None:
        return None
    watermark = _marked(document, "watermark")
    cover = _fragment(document, "cover")
    if cover is None and "rg:cover-->" in document:
        return None  # marked, but not once each way
    if cover is not None and "rg-cover" not in _classes(cover[0].root_tag):
        return None  # a cover of the template's own making: the stamp cannot tell its pages
    if cover is None and ":first" in _page_selectors(document):
        return None  # the back's first page would take the first page's style
    first_moved = (cover or lineage)[1]
    if watermark is not None and watermark[2] > first_moved:
        return None  # the watermark comes first in the base layout; elsewhere, not ours
    fragment, start, end = lineage  # replaced first: the cover's offsets come before it
    text = document[:start] + _anchor(LINEAGE_START) + fragment.stub() + document[end:]
    if cover is not None:
        fragment, start, end = cover
        text = text[:start] + fragment.stub() + _anchor(COVER_END) + text[end:]
    if watermark is not None:
        text = text[: watermark[1]] + text[watermark[2] :]
    moved = [found[0] for found in (cover, lineage) if found is not None]
    back_ids = frozenset(i for fragment in moved for i in fragment.ids)
    linked = {
        html.unescape(target) for fragment in moved for target in _HREF.findall(fragment.html)
    }
    elsewhere = "".join(_anchor(i) for i in sorted(linked - back_ids))
    head = document[: body.end()]
    back_body = [fragment.html for fragment in moved]
    if cover is not None:
        back_body[0] = cover[0].ending_with(_anchor(COVER_LAST))
    back = (
        head.replace("</head>", _NO_FURNITURE + "</head>", 1)
        + "".join(back_body)
        + (f'<div style="height: 0">{elsewhere}</div>' if elsewhere else "")
        + "</body></html>"
    )
    front = text.replace("</head>", _NO_FURNITURE + "</head>", 1)
    return Parts(
        front=front,
        back=back,
        head=head,
        watermark=watermark[0] if watermark is not None else "",
        has_cover=cover is not None,
        lineage_anchor=lineage[0].root_id or "",
        back_ids=back_ids,
    )


def _classes(tag: str) -> set[str]:
    found = re.search(r'\sclass="([^"]*)"', tag)
    return set(found[1].split()) if found else set()


def _css(document: str) -> str:
    return "\n".join(_STYLE.findall(document) + _STYLE_ATTRIBUTE.findall(document))


def _page_selectors(document: str) -> str:
    return " ".join(_PAGE_RULE.findall(_css(document))).lower()


def _stampable(document: str) -> bool:
    """Whether the parts and the stamp can reproduce this document's pages: no page names but
    the cover's, and no page selectors that depend on a page's place in the document other
    than `:first` (the stamp's pages are all blank, and the back's pages are not where they
    end up: `:left`, `:right`, `:nth()` would style them by the wrong number)."""
    names = {n.lower() for n in _PAGE_NAME_USE.findall(_css(document))} - {"auto"}
    selectors = _page_selectors(document)
    named_rules = {s.split(":")[0] for s in selectors.split() if s and not s.startswith(":")}
    placed = any(f":{kind}" in selectors for kind in ("blank", "left", "right", "nth"))
    return names <= {_COVER_PAGE} and named_rules <= {_COVER_PAGE} and not placed


def _marked(document: str, name: str) -> tuple[str, int, int] | None:
    start_mark, end_mark = f"<!--rg:{name}-->", f"<!--/rg:{name}-->"
    if document.count(start_mark) != 1 or document.count(end_mark) != 1:
        return None
    start = document.index(start_mark)
    end = document.index(end_mark) + len(end_mark)
    if end < start:
        return None
    return document[start + len(start_mark) : end - len(end_mark)], start, end


def _fragment(document: str, name: str) -> tuple[_Fragment, int, int] | None:
    marked = _marked(document, name)
    if marked is None:
        return None
    text, start, end = marked
    first = _FIRST_TAG.match(text)
    if first is None:
        return None
    root_id = _ID.search(" " + first[2])
    fragment = _Fragment(
        html=text,
        root_tag=first[0].strip(),
        root_name=first[1],
        root_id=html.unescape(root_id[1]) if root_id else None,
        ids=tuple(dict.fromkeys(html.unescape(i) for i in _ID.findall(text))),
    )
    return fragment, start, end


@dataclass(frozen=True)
class Laid:
    """A part's PDF and where its anchors fell: anchor name -> 0-based page index."""

    pdf: bytes
    anchors: dict[str, int]
    pages: int


def front_kept(parts: Parts, front: Laid) -> range:
    """The front's own pages: after the cover stub, before the lineage stub, each stub alone
    on its page (a stub sharing a page would take content away with it)."""
    lineage_page = front.anchors.get(parts.lineage_anchor)
    if lineage_page is None or lineage_page != front.pages - 1:
        raise CannotSplit("the lineage stub is not the front's last page")
    if front.anchors.get(LINEAGE_START) != lineage_page - 1:
        raise CannotSplit("the lineage stub shares its page")
    if not parts.has_cover:
        return range(lineage_page)
    if front.anchors.get(COVER_END) != 1:
        raise CannotSplit("the cover stub shares its page")
    return range(1, lineage_page)


def back_cover_pages(parts: Parts, back: Laid) -> int:
    """The back's cover pages: the cover must end on the first page and the lineage begin on
    the second, as the stubs do in the front."""
    lineage_page = back.anchors.get(parts.lineage_anchor)
    expected = 1 if parts.has_cover else 0
    if lineage_page != expected:
        raise CannotSplit(f"the cover takes {lineage_page} pages, its stub {expected}")
    if parts.has_cover and back.anchors.get(COVER_LAST) != 0:
        raise CannotSplit("the cover runs past its page")
    return expected


def join(
    parts: Parts,
    front: Laid,
    back: Laid,
    stamp: bytes,
    drawings: Mapping[str, bytes] | None = None,
) -> bytes:
    """One PDF: the back's cover, the front's own pages, the back's lineage pages; the names
    each part owns, both outlines, the stamp over every page, the front's metadata; and each
    chart's drawing in its placeholder (`reportgen.rendering.pdf_charts`), by URI."""
    kept = front_kept(parts, front)
    covers = back_cover_pages(parts, back)
    with (
        pikepdf.open(io.BytesIO(front.pdf)) as out,
        pikepdf.open(io.BytesIO(back.pdf)) as other,
        pikepdf.open(io.BytesIO(stamp)) as furniture,
    ):
        retag_fonts(other, "back")
        retag_fonts(furniture, "stamp")
        back_pages = list(other.pages)
        for index in reversed(range(len(out.pages))):
            if index not in kept:
                del out.pages[index]
        with warnings.catch_warnings():
            # pikepdf warns that copied pages lose their named destinations: _join_names
            # carries them over, each from the part that owns it.
            warnings.simplefilter("ignore", pikepdf.exceptions.PageCopyWarning)
            for page in reversed(back_pages[:covers]):
                out.pages.insert(0, page)
            out.pages.extend(back_pages[covers:])
        order = list(range(covers)) + [
            covers + len(kept) + i for i in range(len(back_pages) - covers)
        ]
        copies: Copies = {
            source.obj.objgen: out.pages[i].obj for source, i in zip(back_pages, order, strict=True)
        }
        _join_names(out, other, parts.back_ids, copies)
        _join_outlines(out, other, copies, {page.obj.objgen for page in back_pages[:covers]})
        if len(furniture.pages) != len(out.pages):
            raise CannotSplit(f"{len(furniture.pages)} stamp pages for {len(out.pages)}")
        sizes = {tuple(float(v) for v in page.mediabox) for page in [*out.pages, *furniture.pages]}
        if len(sizes) != 1:
            raise CannotSplit(f"pages of {len(sizes)} sizes")
        place(out, drawings or {})
        for number, (page, stamp_page) in enumerate(
            zip(out.pages, furniture.pages, strict=True), start=1
        ):
            _overlay(out, number, page, stamp_page)
        return saved(out)


def saved(pdf: pikepdf.Pdf) -> bytes:
    """`pdf`'s bytes, the same for the same content (the file identifier from the content)."""
    buffer = io.BytesIO()
    pdf.save(
        buffer,
        deterministic_id=True,
        compress_streams=True,
        object_stream_mode=pikepdf.ObjectStreamMode.generate,
    )
    return buffer.getvalue()


def _overlay(pdf: pikepdf.Pdf, number: int, page: pikepdf.Page, stamp: pikepdf.Page) -> None:
    """Draw `stamp` over `page`, both the same size.

    pikepdf's own `add_overlay` names the form XObject at random; a name from the page number
    keeps the bytes the same from one render to the next, and stays unique where pages share
    one resource dictionary (WeasyPrint's do).
    """
    name = pikepdf.Name(f"/RgStamp{number}")
    form = pdf.copy_foreign(stamp.as_form_xobject())
    page.add_resource(form, pikepdf.Name.XObject, name)
    page.contents_add(pikepdf.Stream(pdf, b"q\n"), prepend=True)
    page.contents_add(pikepdf.Stream(pdf, b"\nQ\nq " + bytes(name) + b" Do Q\n"))


Copies = dict[tuple[int, int], pikepdf.Object]
"""The back's page objects (by object id) -> their copies in the joined file."""


def _destination(dest: object, copies: Copies) -> pikepdf.Array:
    """An explicit destination [page /XYZ x y zoom] of the back, pointing at the copy."""
    if not isinstance(dest, pikepdf.Array) or len(dest) == 0:
        raise CannotSplit(f"unexpected destination {dest!r}")
    page = dest[0]
    return pikepdf.Array([copies[page.objgen], *list(dest)[1:]])


def _join_names(
    out: pikepdf.Pdf,
    other: pikepdf.Pdf,
    owned: Iterable[str],
    copies: Copies,
) -> None:
    owned = set(owned)
    theirs = _names(other)
    if not owned:
        return
    root = out.Root
    if "/Names" not in root:
        root.Names = pikepdf.Dictionary()
    if "/Dests" not in root.Names:
        root.Names.Dests = out.make_indirect(pikepdf.Dictionary(Names=pikepdf.Array()))
    tree = pikepdf.NameTree(root.Names.Dests)
    for name in SENTINELS & set(tree.keys()):
        del tree[name]
    for name in sorted(owned):
        dest = theirs.get(name)
        if dest is None:
            raise CannotSplit(f"the back part has no destination {name!r}")
        tree[name] = _destination(dest, copies)


def _names(pdf: pikepdf.Pdf) -> dict[str, pikepdf.Object]:
    names = pdf.Root.get("/Names")
    if names is None or "/Dests" not in names:
        return {}
    return {str(key): value for key, value in pikepdf.NameTree(names.Dests).items()}


def _join_outlines(
    out: pikepdf.Pdf, other: pikepdf.Pdf, copies: Copies, cover_pages: set[tuple[int, int]]
) -> None:
    """The back's bookmarks on the cover go first, the others after the front's."""
    items = list(other.open_outline().root)
    if not items:
        return
    on_cover = [item for item in items if _page_of(item) in cover_pages]
    after = [item for item in items if _page_of(item) not in cover_pages]
    with out.open_outline() as ours:
        ours.root[:0] = [_copied(item, copies) for item in on_cover]
        ours.root.extend(_copied(item, copies) for item in after)


def _page_of(item: pikepdf.OutlineItem) -> tuple[int, int] | None:
    dest = item.destination
    if isinstance(dest, pikepdf.Array) and len(dest) > 0:
        objgen: tuple[int, int] = dest[0].objgen
        return objgen
    return None


def _copied(item: pikepdf.OutlineItem, copies: Copies) -> pikepdf.OutlineItem:
    copy = pikepdf.OutlineItem(item.title, destination=_destination(item.destination, copies))
    copy.is_closed = item.is_closed
    copy.children.extend(_copied(child, copies) for child in item.children)
    return copy
