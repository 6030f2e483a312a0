"""The static image renderer on the real system Chromium: formats, cache, threads, failures."""

from __future__ import annotations

import io
import logging
import os
import signal
import struct
import threading
import time
from collections.abc import Callable
from pathlib import Path
from xml.etree import ElementTree

import pikepdf
import plotly.graph_objects as go
import pytest
from pypdf import PdfReader

from reportgen.rendering.document import ChartFormat
from reportgen.rendering.images import (
    CHROMIUM_FIX,
    DENSE_MARKS,
    BrowserDidNotStart,
    BrowserNotFound,
    ChartRenderer,
    ChartRenderError,
    RenderTimeout,
    chart_renderer,
    preferred_format,
    print_format,
)

pytestmark = pytest.mark.browser

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def figure(title: str, points: int = 12, mode: str = "lines") -> go.Figure:
    return go.Figure(
        go.Scatter(x=list(range(points)), y=[i * i for i in range(points)], mode=mode),
        layout={"title": {"text": title}, "xaxis": {"title": {"text": f"{title} axis"}}},
    )


def svg_text(svg: bytes) -> str:
    root = ElementTree.fromstring(svg)  # noqa: S314 our own Chromium's output, no DTD
    return " ".join(root.itertext())


def wait_until(condition: Callable[[], bool], deadline_s: float = 10.0) -> None:
    end = time.monotonic() + deadline_s
    while not condition():
        if time.monotonic() > end:
            raise AssertionError("condition not met before the deadline")
        time.sleep(0.02)


def alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()[0]
    except OSError:
        return False
    return state != "Z"


def chromium_pid(renderer: ChartRenderer) -> int:
    """The main Chromium process: the first child of choreographer's wrapper."""
    renderer.render(figure("warm-up"), fmt="svg", width=200, height=150)
    pids = renderer.browser_pids()
    assert len(pids) >= 2, "wrapper and Chromium"
    assert "chromium" in Path(f"/proc/{pids[1]}/cmdline").read_bytes().decode(errors="replace")
    return pids[1]


def test_svg_is_xml_with_the_axis_title(renderer: ChartRenderer) -> None:
    svg = renderer.render(figure("Revenue"), fmt="svg", width=640, height=360)
    assert svg.startswith(b"<svg")
    text = svg_text(svg)
    assert "Revenue axis" in text
    assert b'viewBox="0 0 640 360"' in svg
    assert b" style=" not in svg  # normalised for WeasyPrint (reportgen.rendering.chart_svg)


def test_png_has_the_signature_and_the_scaled_size(renderer: ChartRenderer) -> None:
    png = renderer.render(figure("Units"), fmt="png", width=300, height=200, scale=2.0)
    assert png.startswith(PNG_SIGNATURE)
    width, height = struct.unpack(">II", png[16:24])  # IHDR follows the signature
    assert (width, height) == (600, 400)


def test_pdf_is_one_page_of_the_charts_size_with_its_text(renderer: ChartRenderer) -> None:
    data = renderer.render(figure("Revenue"), fmt="pdf", width=640, height=360)
    with pikepdf.open(io.BytesIO(data)) as drawn:
        assert len(drawn.pages) == 1
        x0, y0, x1, y1 = (float(v) for v in drawn.pages[0].mediabox)
    assert (x1 - x0, y1 - y0) == (pytest.approx(480, abs=0.5), pytest.approx(270, abs=0.5))
    assert "Revenue axis" in PdfReader(io.BytesIO(data)).pages[0].extract_text()


def test_a_pdfs_page_is_the_same_across_renders(renderer: ChartRenderer) -> None:
    # Chromium dates the file; the page, which is all that is placed into a report, is stable.
    def page(data: bytes) -> list[bytes]:
        """The page's content and every stream its resources reach (fonts, their maps…)."""
        with pikepdf.open(io.BytesIO(data)) as drawn:
            only = drawn.pages[0]
            only.contents_coalesce()
            streams, seen = [only.obj.Contents.read_bytes()], set()
            pending: list[pikepdf.Object] = [only.resources]
            while pending:
                obj = pending.pop()
                if not isinstance(obj, pikepdf.Object):
                    continue  # a number or a name: nothing to follow
                if obj.is_indirect:
                    if obj.objgen in seen:
                        continue
                    seen.add(obj.objgen)
                if isinstance(obj, pikepdf.Stream):
                    streams.append(obj.read_bytes())
                if isinstance(obj, (pikepdf.Dictionary, pikepdf.Stream)):
                    pending.extend(obj[key] for key in sorted(obj.keys()))
                elif isinstance(obj, pikepdf.Array):
                    pending.extend(obj)
            return streams

    fig = figure("Stable")
    first = renderer.render(fig, fmt="pdf", width=400, height=300, cache=False)
    renderer.render(figure("something else"), fmt="pdf", width=400, height=300, cache=False)
    second = renderer.render(fig, fmt="pdf", width=400, height=300, cache=False)
    assert len(page(first)) >= 3  # the content, a font file, its Unicode map
    assert page(first) == page(second)


@pytest.mark.parametrize("fmt", ["svg", "png"])
def test_output_is_byte_identical_across_renders(renderer: ChartRenderer, fmt: ChartFormat) -> None:
    fig = go.Figure(
        [go.Bar(x=["a", "b", "c"], y=[3, 1, 2], name="one"), go.Bar(x=["a"], y=[1], name="two")],
        layout={"showlegend": True},
    )
    first = renderer.render(fig, fmt=fmt, width=400, height=300, cache=False)
    renderer.render(figure("something else"), fmt=fmt, width=400, height=300, cache=False)
    second = renderer.render(fig, fmt=fmt, width=400, height=300, cache=False)
    assert first == second


def test_the_cache_returns_the_same_bytes_without_rendering(renderer: ChartRenderer) -> None:
    fig = figure("Cached")
    first = renderer.render(fig, fmt="svg", width=500, height=300)
    renders, hits = renderer.stats.renders, renderer.stats.cache_hits
    again = renderer.render(figure("Cached"), fmt="svg", width=500, height=300)
    assert again == first
    assert renderer.stats.renders == renders
    assert renderer.stats.cache_hits == hits + 1
    renderer.render(fig, fmt="svg", width=501, height=300)  # another size is another image
    assert renderer.stats.renders == renders + 1


def test_threads_rendering_at_once_get_their_own_images(renderer: ChartRenderer) -> None:
    titles = ["Alpha chart", "Bravo chart", "Charlie chart"]
    start = threading.Barrier(len(titles))
    results: dict[str, list[bytes]] = {t: [] for t in titles}
    errors: list[Exception] = []

    def work(title: str) -> None:
        try:
            start.wait(timeout=10)
            for _ in range(4):
                results[title].append(
                    renderer.render(figure(title), fmt="svg", width=300, height=200, cache=False)
                )
        except Exception as exc:  # noqa: BLE001 surfaced below, in the test's thread
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(t,)) for t in titles]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert not errors
    for title, images in results.items():
        assert len(images) == 4
        for image in images:
            text = svg_text(image)
            assert f"{title} axis" in text
            assert not any(other in text for other in titles if other != title)


def test_a_killed_chromium_is_restarted(renderer: ChartRenderer) -> None:
    fig = figure("After a crash")
    before = renderer.render(fig, fmt="svg", width=300, height=200, cache=False)
    pid = chromium_pid(renderer)
    starts = renderer.stats.starts
    os.kill(pid, signal.SIGKILL)
    after = renderer.render(fig, fmt="svg", width=300, height=200, cache=False, timeout_s=20)
    assert after == before, "a fresh browser draws the same bytes"
    assert renderer.stats.starts == starts + 1
    assert not alive(pid)
    assert pid not in renderer.browser_pids()


@pytest.mark.slow
def test_a_hung_chromium_is_replaced_and_the_render_retried() -> None:
    hung = ChartRenderer(probe_timeout_s=0.5)
    try:
        pid = chromium_pid(hung)
        os.kill(pid, signal.SIGSTOP)
        try:
            svg = hung.render(figure("After a hang"), fmt="svg", width=300, height=200, timeout_s=2)
        finally:
            if alive(pid):
                os.kill(pid, signal.SIGKILL)
        assert "After a hang axis" in svg_text(svg)
        assert hung.stats.starts == 2
        wait_until(lambda: not alive(pid))
    finally:
        hung.close()


def test_an_impossible_deadline_times_out_clearly_and_the_renderer_recovers(
    renderer: ChartRenderer,
) -> None:
    renderer.render(figure("warm"), fmt="svg", width=200, height=150)  # browser running
    starts = renderer.stats.starts
    with pytest.raises(RenderTimeout, match=r"did not render within 0\.001 s"):
        renderer.render(figure("Too slow"), fmt="png", width=300, height=200, timeout_s=0.001)
    svg = renderer.render(figure("On time"), fmt="svg", width=300, height=200)
    assert "On time axis" in svg_text(svg)
    assert renderer.stats.starts == starts, "a healthy browser is kept"


def test_a_missing_chromium_names_the_fix(tmp_path: Path) -> None:
    missing = ChartRenderer(chromium_path=tmp_path / "no-chromium")
    try:
        with pytest.raises(BrowserNotFound) as raised:
            missing.render(figure("x"), fmt="svg", width=100, height=100)
        assert str(tmp_path / "no-chromium") in str(raised.value)
        assert CHROMIUM_FIX in str(raised.value)
        assert "apt-get install chromium" in CHROMIUM_FIX
    finally:
        missing.close()
    with pytest.raises(ChartRenderError, match="closed"):
        missing.render(figure("x"), fmt="svg", width=100, height=100)


def test_closing_fails_pending_renders_instead_of_hanging() -> None:
    own = ChartRenderer()
    outcomes: list[str] = []
    drawn = threading.Event()

    def keep_rendering() -> None:
        try:
            while True:
                own.render(figure("Busy"), fmt="png", width=300, height=200, cache=False)
                drawn.set()
        except ChartRenderError as exc:
            outcomes.append(str(exc))

    worker = threading.Thread(target=keep_rendering)
    worker.start()
    assert drawn.wait(timeout=30)
    pids = own.browser_pids()
    own.close()
    worker.join(timeout=30)
    assert not worker.is_alive()
    assert outcomes and "closed" in outcomes[0]
    assert pids
    wait_until(lambda: not any(alive(pid) for pid in pids))


def test_a_figure_plotly_rejects_is_an_error_not_a_restart(renderer: ChartRenderer) -> None:
    renderer.render(figure("warm"), fmt="svg", width=200, height=150)
    starts = renderer.stats.starts
    with pytest.raises(ChartRenderError):
        renderer.render({"data": "not a list"}, fmt="svg", width=200, height=150)
    assert renderer.stats.starts == starts


def test_normal_renders_log_no_warnings(
    renderer: ChartRenderer, caplog: pytest.LogCaptureFixture
) -> None:
    renderer.render(figure("warm"), fmt="svg", width=200, height=150)
    with caplog.at_level(logging.WARNING):
        renderer.render(figure("Quiet"), fmt="png", width=200, height=150, cache=False)
        renderer.render(figure("Quiet"), fmt="svg", width=200, height=150, cache=False)
    assert [r for r in caplog.records if r.levelno >= logging.WARNING] == []


def test_the_process_has_one_renderer() -> None:
    assert chart_renderer() is chart_renderer()


def test_chromium_path_from_argument_then_browser_path_then_default(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("BROWSER_PATH", raising=False)
    assert ChartRenderer().chromium_path == Path("/usr/bin/chromium")
    monkeypatch.setenv("BROWSER_PATH", "/opt/chromium/chrome")
    assert ChartRenderer().chromium_path == Path("/opt/chromium/chrome")
    assert ChartRenderer("/usr/local/bin/chromium").chromium_path == Path("/usr/local/bin/chromium")


def test_chromium_gets_the_flags_this_machine_needs(renderer: ChartRenderer) -> None:
    pid = chromium_pid(renderer)
    flags = Path(f"/proc/{pid}/cmdline").read_bytes().decode().split("\0")
    for flag in (
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--no-first-run",
    ):
        assert flag in flags


def test_a_pdf_reports_charts_are_pdfs_except_in_pdfa_files() -> None:
    dense = figure("scatter", points=2000, mode="markers")
    assert print_format(dense, pdfa=False) == "pdf"
    assert print_format(figure("line", points=36), pdfa=False) == "pdf"
    assert print_format(dense, pdfa=True) == "png"
    assert print_format(figure("line", points=36), pdfa=True) == "svg"


def test_an_unknown_format_is_refused_naming_the_choices(renderer: ChartRenderer) -> None:
    with pytest.raises(ValueError, match="'svg', 'png' or 'pdf'"):
        renderer.submit(figure("x"), fmt="gif", width=10, height=10)  # type: ignore[arg-type]


def test_preferred_format_is_svg_for_sparse_and_png_for_dense_charts() -> None:
    assert preferred_format(figure("line", points=36)) == "svg"
    assert preferred_format(go.Figure(go.Bar(x=list(range(10)), y=list(range(10))))) == "svg"
    assert preferred_format(figure("scatter", points=2000, mode="markers")) == "png"
    assert preferred_format(figure("edge", points=DENSE_MARKS, mode="markers")) == "svg"
    assert preferred_format(figure("edge", points=DENSE_MARKS + 1, mode="markers")) == "png"
    assert preferred_format(go.Figure(go.Heatmap(z=[[1, 2], [3, 4]]))) == "png"


def test_a_chromium_that_does_not_start_names_the_fix(tmp_path: Path) -> None:
    broken = tmp_path / "chromium"
    broken.write_text("#!/bin/sh\nexit 1\n", encoding="utf-8")
    broken.chmod(0o755)
    own = ChartRenderer(broken, start_timeout_s=20)
    try:
        with pytest.raises(BrowserDidNotStart, match=r"did not start.*make system"):
            own.render(figure("never"), fmt="svg", width=200, height=150)
    finally:
        own.close()
