"""The router with AppTest: an address no page lives at says so (once) instead of showing Home
silently, while the app's own addresses, at the root or under a base path, say nothing."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest
from streamlit import config
from streamlit.testing.v1 import AppTest

from tests.app.apptest import run, unescaped

SignIn = Callable[[str], AppTest]
NO_PAGE = "There is no page at"


def warnings(at: AppTest) -> list[str]:
    return [unescaped(warning.value) for warning in at.warning]


def arriving_at(signed_in: SignIn, url: str) -> AppTest:
    at = signed_in("ana")
    at.context["url"] = url
    return run(at)


@pytest.fixture
def base_path() -> Iterator[str]:
    """The server serves the app under /reports/."""
    before = config.get_option("server.baseUrlPath")
    config.set_option("server.baseUrlPath", "reports")
    yield "reports"
    config.set_option("server.baseUrlPath", before)


def test_an_unknown_address_says_there_is_no_such_page_and_where_to_go(
    signed_in: SignIn,
) -> None:
    at = arriving_at(signed_in, "http://localhost:8501/nonexistent")

    assert [title.value for title in at.title] == ["Home"]
    (said,) = [text for text in warnings(at) if NO_PAGE in text]
    assert said.startswith("There is no page at “/nonexistent”")
    assert "Here is Home instead" in said
    assert "menu on the left" in said

    run(at)  # said once; the rest of the visit is the user's
    assert not [text for text in warnings(at) if NO_PAGE in text]


def test_the_apps_own_addresses_say_nothing(signed_in: SignIn) -> None:
    at = arriving_at(signed_in, "http://localhost:8501/")
    assert [title.value for title in at.title] == ["Home"]
    assert not [text for text in warnings(at) if NO_PAGE in text]

    at = arriving_at(signed_in, "http://localhost:8501/datasets")
    assert not [text for text in warnings(at) if NO_PAGE in text]


def test_under_a_base_path_only_unknown_pages_are_said(signed_in: SignIn, base_path: str) -> None:
    at = arriving_at(signed_in, f"http://example.com/{base_path}/")
    assert not [text for text in warnings(at) if NO_PAGE in text]

    at = arriving_at(signed_in, f"http://example.com/{base_path}/old-reports")
    (said,) = [text for text in warnings(at) if NO_PAGE in text]
    assert said.startswith("There is no page at “/old-reports”")
