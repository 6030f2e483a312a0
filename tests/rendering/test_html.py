"""The standalone HTML export: offline, interactive, escaped."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from html.parser import HTMLParser
from pathlib import Path

import pytest

from reportgen.rendering.html import plotly_bundle, render_standalone_html
from reportgen.rendering.templates import TemplateLibrary
from tests.rendering.documents import document

CHROMIUM = shutil.which("chromium")


class Collector(HTMLParser):
    """Every URL-bearing attribute and every JSON script of a page."""

    def __init__(self) -> None:
        super().__init__()
        self.urls: list[str] = []
        self.json_scripts: dict[str, str] = {}
        self._json_id: str | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = dict(attrs)
        for name in ("src", "href", "action", "poster", "data", "srcset"):
            if values.get(name):
                self.urls.append(str(values[name]))
        if tag == "script" and values.get("type") == "application/json":
            self._json_id = values.get("id")

    def handle_data(self, data: str) -> None:
        if self._json_id is not None:
            self.json_scripts[self._json_id] = data

    def handle_endtag(self, tag: str) -> None:
        if tag == "script":
            self._json_id = None


@pytest.fixture(scope="module")
def page() -> str:
    return render_standalone_html(document(), TemplateLibrary())


def test_plotly_js_is_inlined_once(page: str) -> None:
    bundle = plotly_bundle()
    assert page.count(bundle) == 1
    assert len(page) > len(bundle)


def test_nothing_points_outside_the_file(page: str) -> None:
    collector = Collector()
    collector.feed(page)
    for url in collector.urls:
        assert url.startswith(("#", "data:")), url
    outside_plotly = page.replace(plotly_bundle(), "")
    assert not re.search(r"https?://|//[a-z0-9.-]+\.[a-z]{2,}/", outside_plotly)
    assert "@import" not in outside_plotly
    assert "url(" not in outside_plotly


def test_each_chart_is_drawn_from_its_plotly_json(page: str) -> None:
    collector = Collector()
    collector.feed(page)
    charts = [block.figure for block in document().blocks if block.figure is not None]
    assert len(charts) == 2
    for figure in charts:
        assert f'data-figure="figure-{figure.id}"' in page
        assert json.loads(collector.json_scripts[f"figure-{figure.id}"]) == json.loads(
            figure.plotly_json
        )
    assert "Plotly.newPlot" in page
    assert 'class="rg-chart-image"' not in page


def test_data_values_are_escaped() -> None:
    page = render_standalone_html(document(hostile=True), TemplateLibrary())
    outside_plotly = page.replace(plotly_bundle(), "")
    assert '<script>alert("x")' not in outside_plotly
    assert "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;" in outside_plotly


def test_the_banner_shows_on_screen(page: str) -> None:
    assert 'class="rg-screen-banner rg-screen-only"' in page
    assert "Confidential · Sales" in page


def page_requests(net_log: Path) -> list[str]:
    """The URLs a page asked the network for, from Chromium's net log (the browser's own
    background requests have no page origin and are left out)."""
    log = json.loads(net_log.read_text())
    start_job = log["constants"]["logEventTypes"]["URL_REQUEST_START_JOB"]
    return [
        event["params"]["url"]
        for event in log["events"]
        if event["type"] == start_job
        and event.get("params", {}).get("initiator", "not an origin") != "not an origin"
    ]


@pytest.mark.browser
@pytest.mark.slow
@pytest.mark.skipif(CHROMIUM is None, reason="needs the system Chromium")
def test_charts_draw_in_a_browser_that_fetches_nothing(page: str, tmp_path: Path) -> None:
    path = tmp_path / "report.html"
    path.write_text(page)
    leaky = tmp_path / "leaky.html"
    leaky.write_text('<img src="https://example.com/pixel.png">')

    def open_in_chromium(url: str, net_log: Path) -> str:
        result = subprocess.run(
            [
                str(CHROMIUM),
                "--headless",
                "--no-sandbox",
                "--disable-gpu",
                "--disable-background-networking",
                f"--log-net-log={net_log}",
                "--virtual-time-budget=10000",
                "--dump-dom",
                url,
            ],
            capture_output=True,
            text=True,
            timeout=120,
            check=True,
        )
        return result.stdout

    dom = open_in_chromium(path.as_uri(), tmp_path / "net.json")
    assert dom.count('class="main-svg"') >= 2  # plotly drew both charts
    assert page_requests(tmp_path / "net.json") == []
    # the net log does see a page that fetches something
    open_in_chromium(leaky.as_uri(), tmp_path / "leaky.json")
    assert page_requests(tmp_path / "leaky.json") == ["https://example.com/pixel.png"]
