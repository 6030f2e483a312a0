"""Fixtures for the chart tests: one real Chromium renderer for the whole session."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from reportgen.rendering.images import ChartRenderer


@pytest.fixture(scope="session")
def renderer() -> Iterator[ChartRenderer]:
    """A chart renderer on the system Chromium, started by its first render, shared by tests."""
    shared = ChartRenderer()
    yield shared
    shared.close()
