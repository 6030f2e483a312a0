"""Static chart images: one long-lived kaleido browser per process, serialised and cached.

kaleido 1.x drives a headless Chromium through choreographer's async API. Its sync server
mixes images up when several threads call it, so the renderer owns the browser on one
background thread with its own asyncio loop and runs one render at a time, whatever thread
asks. Images are cached in memory by a hash of (figure JSON, format, size, scale).

A render has a deadline. When it fails or overruns, the renderer asks the browser whether it
is still alive: a healthy browser means the figure is at fault and the error is raised; a dead
or hung browser is killed, started afresh and the render retried once.

Output is byte-stable. plotly.js names clip paths and traces with `Math.random()`, so the
page the figures are drawn in seeds it, and resets the seed before every figure; SVGs are
normalised by `reportgen.rendering.chart_svg` (attributes sorted, styles as attributes). PNGs
from Chromium's software rasteriser are stable on one machine (fonts and Chromium version are
part of the result). A PDF's page is stable too; its file's dates are not, and only the page is
placed into a report.

A PDF report's charts are drawn as PDFs and placed after layout (`reportgen.rendering.
pdf_charts`); where WeasyPrint draws them itself (PDF/A), `preferred_format` picks SVG or PNG
per figure from WeasyPrint's measured cost of each: `print_format` says which.

    renderer = chart_renderer()
    svg = renderer.render(fig, fmt=preferred_format(fig), width=680, height=380)
"""

from __future__ import annotations

import asyncio
import atexit
import concurrent.futures
import contextlib
import hashlib
import json
import logging
import os
import signal
import threading
import time
from collections import OrderedDict
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import kaleido
from choreographer.browsers.chromium import Chromium

from reportgen.errors import ConfigurationError, InternalError
from reportgen.rendering import chart_svg
from reportgen.rendering.document import (
    CHART_SCHEME,
    PDF_CHART,
    ChartFormat,
    ChartMime,
    ChartNotDrawn,
    PendingChart,
)

DEFAULT_CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_FIX = "install Chromium: `make system` or `apt-get install chromium`"
# choreographer already passes --headless --no-sandbox --disable-gpu --no-first-run
# --disable-component-update --disable-sync, and has no option for these. A smaller V8 heap
# keeps the page's memory at ≈0.65 GB (PSS, all processes) after hundreds of figures, not
# ≈0.9 GB; plotly.js needs far less.
EXTRA_CHROMIUM_FLAGS = (
    "--disable-background-networking",
    "--js-flags=--max-old-space-size=256",
)

DENSE_MARKS = 100
"""Charts drawing more SVG marks than this go to the PDF as PNG: see `preferred_format`."""

RELOAD_EVERY = 50
"""Renders between page reloads, which bound whatever plotly.js leaves behind in the page."""

_SEEDED_RANDOM = (
    # mulberry32 with a fixed seed, installed before plotly.js loads and reset before every
    # figure. plotly.js names clip paths and traces with Math.random(); a seeded page makes
    # SVG output byte-stable.
    "<script>(function(){var s;window.__reportgenReseed=function(){s=0x5EED;return true;};"
    "window.__reportgenReseed();Math.random=function(){s=(s+0x6D2B79F5)|0;"
    "var t=Math.imul(s^(s>>>15),1|s);t=(t+Math.imul(t^(t>>>7),61|t))^t;"
    "return((t^(t>>>14))>>>0)/4294967296;};})();</script>\n"
)

_log = logging.getLogger(__name__)


class _ByeFilter(logging.Filter):
    """Drops choreographer's traceback for the wrapper's "{bye}" shutdown marker.

    When Chromium exits, choreographer's wrapper writes "{bye}" to the pipe; if it arrives in
    the same read as Chromium's last message, choreographer logs a JSON decoding error with
    a traceback at ERROR level on every clean shutdown (choreographer 1.4, channels/pipe.py).
    """

    def filter(self, record: logging.LogRecord) -> bool:
        cause = record.exc_info[1].__cause__ if record.exc_info and record.exc_info[1] else None
        return not (
            str(record.msg).startswith("JSONError decoding message")
            and str(getattr(cause, "doc", "")).strip() == "{bye}"
        )


logging.getLogger("choreographer.channels.pipe").addFilter(_ByeFilter())


class ChartRenderError(InternalError):
    """A chart could not be turned into an image."""


class RenderTimeout(ChartRenderError):
    """A chart took longer than its deadline to render."""


class BrowserNotFound(ConfigurationError):
    """No Chromium where the renderer was told to look."""


class BrowserDidNotStart(BrowserNotFound):
    """A Chromium is there but does not start: a deployment problem, with the fix named."""


class _BrowserClosed(Exception):
    """The browser went away mid-render: restart it and retry."""


class _SeededPage(kaleido.PageGenerator):  # type: ignore[misc]
    header = kaleido.PageGenerator.header + _SEEDED_RANDOM


class _HouseChromium(Chromium):
    """choreographer's Chromium plus the flags this deployment needs."""

    def get_cli(self) -> list[str]:
        return [*super().get_cli(), *EXTRA_CHROMIUM_FLAGS]


class _Kaleido(kaleido.Kaleido):  # type: ignore[misc]
    """kaleido, reusing its page between figures instead of reloading it after each one.

    kaleido reloads its tab, plotly.js included, after every figure: a warm render takes
    ≈0.27 s that way here, ≈0.05 s without (benchmarks/bench_charts.py). This keeps the page
    and resets its seeded Math.random before each figure; the page is reloaded after a failed
    or cancelled render (plotly.js may still be drawing) and every `RELOAD_EVERY` figures.
    Overrides two private methods of kaleido 1.x: should a later kaleido drop them, it falls
    back to its own reload after every figure, which gives the same bytes (the page seeds
    Math.random on load), only slower.
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.dirty = False  # set by the renderer when a render failed or was cancelled
        self._uses: dict[str, int] = {}

    async def _get_kaleido_tab(self) -> Any:
        tab = await super()._get_kaleido_tab()
        try:
            await self._prepare(tab)
        except BaseException:
            # kaleido only returns the tab once the render has begun: do it here, or lose it.
            self.dirty = True
            self.tabs_ready.put_nowait(tab)
            raise
        return tab

    async def _prepare(self, tab: Any) -> None:
        target = tab.tab.target_id
        uses = self._uses.get(target, 0)
        if self.dirty or uses >= RELOAD_EVERY:
            await tab.reload()
            self.dirty, uses = False, 0
        self._uses[target] = uses + 1
        reply = await tab.tab.send_command(
            "Runtime.evaluate",
            params={"expression": "window.__reportgenReseed()", "returnByValue": True},
        )
        if reply.get("result", {}).get("result", {}).get("value") is not True:
            raise ChartRenderError(f"could not reset the chart page: {reply}")

    async def _return_kaleido_tab(self, tab: Any) -> None:
        await self.tabs_ready.put(tab)


@dataclass
class _Stats:
    renders: int = 0  # images drawn by the browser (cache misses)
    cache_hits: int = 0
    starts: int = 0  # browsers started: more than one means restarts


class _ImageCache:
    """Least-recently-used images, bounded by their total size in bytes."""

    def __init__(self, max_bytes: int) -> None:
        self.max_bytes = max_bytes
        self._items: OrderedDict[str, bytes] = OrderedDict()
        self._size = 0
        self._lock = threading.Lock()

    def get(self, key: str) -> bytes | None:
        with self._lock:
            value = self._items.get(key)
            if value is not None:
                self._items.move_to_end(key)
            return value

    def put(self, key: str, value: bytes) -> None:
        if len(value) > self.max_bytes:
            return
        with self._lock:
            if key in self._items:
                return
            self._items[key] = value
            self._size += len(value)
            while self._size > self.max_bytes:
                _, dropped = self._items.popitem(last=False)
                self._size -= len(dropped)

    def clear(self) -> None:
        with self._lock:
            self._items.clear()
            self._size = 0


def _figure_json(fig: Any) -> str:
    if isinstance(fig, Mapping):
        return json.dumps(fig, sort_keys=True, separators=(",", ":"))
    text = fig.to_json()
    assert isinstance(text, str)
    return text


def _cache_key(figure_json: str, fmt: str, width: int, height: int, scale: float) -> str:
    digest = hashlib.sha256(figure_json.encode())
    digest.update(f"|{fmt}|{width}x{height}@{scale!r}".encode())
    return digest.hexdigest()


def _children(pid: int) -> list[int]:
    """Every descendant of `pid`, parents before children, read from /proc."""
    parents: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        # The command name (field 2) may hold spaces and parentheses: split after the last ")".
        ppid = int(stat.rpartition(")")[2].split()[1])
        parents.setdefault(ppid, []).append(int(entry.name))
    found, queue = [], [pid]
    while queue:
        for child in sorted(parents.get(queue.pop(0), [])):
            found.append(child)
            queue.append(child)
    return found


class ChartRenderer:
    """Turns plotly figures into SVG, PNG or PDF bytes with one headless Chromium, one at a time.

    Thread-safe; the browser starts on the first render. `close()` stops it (the process
    singleton from `chart_renderer()` is closed at exit).
    """

    def __init__(
        self,
        chromium_path: str | Path | None = None,
        *,
        cache_max_bytes: int = 64 * 1024 * 1024,
        start_timeout_s: float = 60.0,
        probe_timeout_s: float = 2.0,
    ) -> None:
        self.chromium_path = Path(
            chromium_path or os.environ.get("BROWSER_PATH") or DEFAULT_CHROMIUM
        )
        self.start_timeout_s = start_timeout_s
        self.probe_timeout_s = probe_timeout_s
        self.stats = _Stats()
        self._cache = _ImageCache(cache_max_bytes)
        self._guard = threading.Lock()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._browser: _Kaleido | None = None
        self._turn: asyncio.Lock | None = None  # one render at a time, inside the loop
        self._closed = False
        self._exit_hook = False
        self._drawing: dict[str, concurrent.futures.Future[bytes]] = {}  # cache key -> in flight

    # --- public API ---------------------------------------------------------------------

    def render(
        self,
        fig: Any,
        *,
        fmt: ChartFormat,
        width: int,
        height: int,
        scale: float = 2.0,
        timeout_s: float = 30.0,
        cache: bool = True,
    ) -> bytes:
        """The figure as `fmt` bytes, `width`×`height` CSS pixels (a PNG has them × `scale`).

        `timeout_s` bounds the drawing itself, not the wait for earlier calls. `cache=False`
        draws afresh (and does not store), for benchmarks.
        Raises `BrowserNotFound`, `RenderTimeout` or `ChartRenderError`.
        """
        chart = self.submit(
            fig, fmt=fmt, width=width, height=height, scale=scale, timeout_s=timeout_s, cache=cache
        )
        try:
            return chart.result()
        except ChartNotDrawn:
            raise ChartRenderError("the chart renderer was closed during the render") from None

    def submit(
        self,
        fig: Any,
        *,
        fmt: ChartFormat,
        width: int,
        height: int,
        scale: float = 2.0,
        timeout_s: float = 30.0,
        cache: bool = True,
    ) -> PendingChart:
        """Start drawing the figure and return at once; as `render`, otherwise.

        The same figure asked for again while it is being drawn gets the same pending image,
        not a second drawing.
        """
        if fmt not in _MIMES:
            raise ValueError(f"fmt must be 'svg', 'png' or 'pdf', not {fmt!r}")
        if fmt != "png":
            scale = 1.0  # a vector chart's size is its CSS size: scale would only change that
        figure_json = _figure_json(fig)  # serialised here: the figure never crosses threads
        key = _cache_key(figure_json, fmt, width, height, scale)

        def pending(future: concurrent.futures.Future[bytes]) -> PendingChart:
            uri = f"{CHART_SCHEME}:{key}"
            return PendingChart(uri, _MIMES[fmt], width, height, scale, future)

        if cache and (hit := self._cache.get(key)) is not None:
            self.stats.cache_hits += 1
            done: concurrent.futures.Future[bytes] = concurrent.futures.Future()
            done.set_result(hit)
            return pending(done)
        with self._guard:
            if cache and (drawing := self._drawing.get(key)) is not None:
                return pending(drawing)
        opts = {"format": fmt, "width": width, "height": height, "scale": scale}
        loop = self._ensure_loop()
        future = asyncio.run_coroutine_threadsafe(
            self._render(key if cache else None, json.loads(figure_json), opts, timeout_s), loop
        )
        if cache:
            with self._guard:
                self._drawing[key] = future
            future.add_done_callback(lambda _: self._forget_drawing(key, future))
        return pending(future)

    def _forget_drawing(self, key: str, future: concurrent.futures.Future[bytes]) -> None:
        with self._guard:
            if self._drawing.get(key) is future:
                del self._drawing[key]

    def browser_pids(self) -> tuple[int, ...]:
        """Process ids of the running browser: choreographer's wrapper, then Chromium's."""
        browser = self._browser
        process = getattr(browser, "subprocess", None) if browser is not None else None
        if process is None or process.poll() is not None:
            return ()
        return (process.pid, *_children(process.pid))

    def clear_cache(self) -> None:
        self._cache.clear()

    def close(self, timeout_s: float = 15.0) -> None:
        """Stop the browser and the renderer's thread. Safe to call twice."""
        with self._guard:
            loop, thread = self._loop, self._thread
            self._closed = True
            self._loop = self._thread = None
        if loop is None or thread is None:
            return
        try:
            asyncio.run_coroutine_threadsafe(self._shutdown(), loop).result(timeout_s)
        except (concurrent.futures.TimeoutError, RuntimeError):
            self._kill_browser()
        loop.call_soon_threadsafe(loop.stop)
        thread.join(timeout_s)
        with self._guard:
            unfinished, self._drawing = list(self._drawing.values()), {}
        for future in unfinished:  # never to be drawn now: whoever waits hears so at once
            future.cancel()

    # --- the loop thread ----------------------------------------------------------------

    def _ensure_loop(self) -> asyncio.AbstractEventLoop:
        with self._guard:
            if self._closed:
                raise ChartRenderError("the chart renderer is closed")
            if self._loop is None:
                loop = asyncio.new_event_loop()
                thread = threading.Thread(
                    target=self._run_loop, args=(loop,), name="chart-renderer", daemon=True
                )
                thread.start()
                self._loop, self._thread = loop, thread
            return self._loop

    @staticmethod
    def _run_loop(loop: asyncio.AbstractEventLoop) -> None:
        asyncio.set_event_loop(loop)
        try:
            loop.run_forever()
        finally:
            loop.close()

    def _lock(self) -> asyncio.Lock:
        if self._turn is None:
            self._turn = asyncio.Lock()  # made in the loop's thread, the only one to use it
        return self._turn

    async def _shutdown(self) -> None:
        """Stop the browser after the render in progress; cancel the renders still queued."""
        async with self._lock():
            await self._stop_browser()
        others = [t for t in asyncio.all_tasks() if t is not asyncio.current_task()]
        for task in others:
            task.cancel()
        await asyncio.gather(*others, return_exceptions=True)

    async def _render(
        self, key: str | None, figure: dict[str, Any], opts: dict[str, Any], timeout_s: float
    ) -> bytes:
        async with self._lock():
            if self._closed:
                raise ChartRenderError("the chart renderer is closed")
            if key is not None and (hit := self._cache.get(key)) is not None:
                self.stats.cache_hits += 1  # drawn by a call that was queued ahead of this one
                return hit
            try:
                image = await self._attempt(figure, opts, timeout_s)
            except (ChartRenderError, BrowserNotFound):
                raise
            except Exception as first:
                if await self._healthy():
                    raise _explain(first, timeout_s) from first
                _log.warning("chart browser unresponsive (%r); restarting it", first)
                self._kill_browser()  # a hung browser cannot close itself
                self._browser = None
                try:
                    image = await self._attempt(figure, opts, timeout_s)
                except (ChartRenderError, BrowserNotFound):
                    raise
                except Exception as second:
                    raise _explain(second, timeout_s, retried=True) from second
            self.stats.renders += 1
            if key is not None:
                self._cache.put(key, image)
            return image

    async def _attempt(
        self, figure: dict[str, Any], opts: dict[str, Any], timeout_s: float
    ) -> bytes:
        browser = await self._running_browser()
        started = time.monotonic()
        try:
            image = await asyncio.wait_for(browser.calc_fig(figure, opts=opts), timeout_s)
        except Exception as exc:
            browser.dirty = True  # plotly.js may still be drawing in the page
            if not isinstance(exc, TimeoutError) and time.monotonic() - started >= timeout_s:
                # choreographer turns the cancellation of a pending write into
                # ChannelClosedError("Executor is closed."): past the deadline, it is a timeout.
                raise TimeoutError from exc
            raise
        except asyncio.CancelledError:
            browser.dirty = True
            task = asyncio.current_task()
            if task is not None and task.cancelling():
                raise  # this render itself was cancelled
            # choreographer's watchdog closes a browser whose process died, and kaleido's
            # close cancels the renders in flight.
            raise _BrowserClosed("the browser closed during the render") from None
        assert isinstance(image, bytes)
        return chart_svg.normalise(image) if opts["format"] == "svg" else image

    async def _running_browser(self) -> _Kaleido:
        browser = self._browser
        if browser is not None and browser.subprocess.poll() is None:
            return browser
        if browser is not None:
            _log.warning(
                "chart browser exited (code %s); starting a new one", browser.subprocess.returncode
            )
            await self._stop_browser()
        return await self._start_browser()

    async def _start_browser(self) -> _Kaleido:
        path = self.chromium_path
        if not (path.is_file() and os.access(path, os.X_OK)):
            raise BrowserNotFound(f"no Chromium at {path}; {CHROMIUM_FIX}")
        started = time.perf_counter()
        browser = _Kaleido(
            path=str(path),
            browser_cls=_HouseChromium,
            page_generator=_SeededPage(mathjax=False),  # MathJax would come from a CDN
            timeout=None,  # each call has its own deadline
            headless=True,
            enable_gpu=False,
            enable_sandbox=False,
        )
        try:
            await asyncio.wait_for(browser.open(), self.start_timeout_s)
        except Exception as exc:
            self._browser = browser
            self._kill_browser()
            self._browser = None
            raise BrowserDidNotStart(
                f"Chromium at {path} did not start ({exc!r}); {CHROMIUM_FIX}"
            ) from exc
        self.stats.starts += 1
        self._browser = browser
        if not self._exit_hook:
            # Registered after the browser made its temporary folders, so this runs first at
            # exit and removes them before their own finalizers would warn about them.
            atexit.register(self.close)
            self._exit_hook = True
        _log.info("chart browser started in %.2f s", time.perf_counter() - started)
        return browser

    async def _healthy(self) -> bool:
        """Whether the browser process lives and answers the DevTools protocol promptly."""
        browser = self._browser
        if browser is None or browser.subprocess.poll() is not None:
            return False
        try:
            reply = await asyncio.wait_for(
                browser.send_command("Browser.getVersion"), self.probe_timeout_s
            )
        except Exception:  # noqa: BLE001 any failure to answer means unhealthy
            return False
        # A render cancelled while it waited for the tab loses the tab.
        tab_left = browser.tabs_ready.qsize() > 0
        return isinstance(reply, dict) and "error" not in reply and tab_left

    async def _stop_browser(self) -> None:
        browser = self._browser
        if browser is None:
            return
        try:
            await asyncio.wait_for(browser.close(), self.probe_timeout_s * 2)
        except Exception:  # noqa: BLE001 a hung browser cannot close itself
            self._kill_browser()
        self._kill_browser()  # no-op when close() worked
        self._browser = None

    def _kill_browser(self) -> None:
        """SIGKILL the browser's process group (choreographer starts it in its own session)
        and remove its profile folder, which a dead browser would otherwise leave to exit."""
        browser = self._browser
        process = getattr(browser, "subprocess", None) if browser is not None else None
        if process is not None and process.poll() is None:
            pids = [process.pid, *_children(process.pid)]
            for pid in reversed(pids):
                with contextlib.suppress(ProcessLookupError):
                    os.kill(pid, signal.SIGKILL)
            try:
                process.wait(5)
            except Exception:  # noqa: BLE001 best effort: the process is already gone or unkillable
                _log.warning("chart browser process %s did not exit after SIGKILL", process.pid)
        # choreographer keeps the profile folder on its private browser object.
        impl = getattr(browser, "_browser_impl", None)
        if impl is not None:
            with contextlib.suppress(Exception):
                impl.clean()


def _explain(exc: BaseException, timeout_s: float, *, retried: bool = False) -> ChartRenderError:
    again = " with a fresh browser" if retried else ""
    if isinstance(exc, TimeoutError):
        return RenderTimeout(
            f"the chart did not render within {timeout_s:g} s{again}; "
            "simplify it (fewer points) or allow a longer timeout"
        )
    return ChartRenderError(f"the chart could not be rendered{again}: {exc}")


_MIMES: dict[str, ChartMime] = {
    "svg": "image/svg+xml",
    "png": "image/png",
    "pdf": PDF_CHART,
}


def print_format(fig: Any, *, pdfa: bool) -> ChartFormat:
    """What a PDF report's chart is drawn as: a PDF, placed into the report's file after
    layout (Chromium's vector drawing, faster than WeasyPrint drawing the SVG); in a PDF/A
    file, which WeasyPrint writes in one piece and declares conformant, what WeasyPrint draws
    best (`preferred_format`): Chromium's PDF output is not checked against PDF/A here."""
    return preferred_format(fig) if pdfa else "pdf"


def preferred_format(fig: Any) -> ChartFormat:
    """SVG (vector text, crisp at any zoom) for sparse charts, a 2× PNG for dense ones.

    WeasyPrint draws an SVG mark by mark; a PNG costs it about the same whatever it shows.
    Measured with benchmarks/bench_charts.py (one chart on an A4 page, best of 9): an SVG
    costs ≈30 ms plus ≈0.4 ms per mark (36-point line 28 ms, 10 bars 33 ms, 100-point scatter
    69 ms, 250 points 126 ms, 2,000 points 0.9-1.1 s); a 2× PNG 40-60 ms whatever it shows.
    Up to `DENSE_MARKS` marks the SVG costs at most ≈25 ms more, for crisp vector text; past
    that, PNG. A heatmap is always PNG: plotly embeds its cells in the SVG as a 1× bitmap, so
    the SVG is neither sharper nor faster (58 ms both).
    """
    data = fig["data"] if isinstance(fig, Mapping) else fig.to_plotly_json()["data"]
    marks = 0
    for trace in data:
        kind = trace.get("type", "scatter")
        if kind in {"heatmap", "histogram2d", "contour", "image"}:
            return "png"
        points = max((_length(trace.get(axis)) for axis in ("x", "y", "values")), default=0)
        if kind in {"scatter", "scattergl"}:
            mode = trace.get("mode") or ("lines+markers" if points < 20 else "lines")
            marks += (points if "markers" in mode else 0) + (1 if "lines" in mode else 0)
            marks += points if "text" in mode else 0
        else:
            marks += points
    return "png" if marks > DENSE_MARKS else "svg"


def _length(values: Any) -> int:
    try:
        return len(values)
    except TypeError:
        return 0


_renderer: ChartRenderer | None = None
_renderer_lock = threading.Lock()


def chart_renderer(chromium_path: str | Path | None = None) -> ChartRenderer:
    """The process's one renderer, created on first use (the first caller's path wins)."""
    global _renderer  # noqa: PLW0603 the process singleton
    with _renderer_lock:
        if _renderer is None:
            _renderer = ChartRenderer(chromium_path)
        return _renderer


def _forget_renderer() -> None:
    """A forked child inherits no thread and no browser: it starts its own renderer."""
    global _renderer, _renderer_lock
    _renderer, _renderer_lock = None, threading.Lock()


os.register_at_fork(after_in_child=_forget_renderer)
