"""The web UI end to end with AppTest: sign-in, the catalog as each demo user may see it, and the
error boundary."""

from __future__ import annotations

import ast
import json
import logging
import re
from collections.abc import Callable
from pathlib import Path

import pandas as pd
import pytest
import streamlit as st
from streamlit.testing.v1 import AppTest

from components.session import PRINCIPAL_KEY
from reportgen.bootstrap import Services
from reportgen.errors import NotAllowed
from reportgen.services.catalog import CatalogService
from reportgen.services.users import UserService, attempted_name
from tests.app.apptest import run

SignIn = Callable[[str], AppTest]
SHA256_HEX = re.compile(r"^[0-9a-f]{64}$")
INCIDENT = re.compile(r"^Something went wrong\. Incident [0-9a-f]{8}\.$")


def texts(at: AppTest) -> list[str]:
    """Every piece of text the run drew, in the main area and the sidebar."""
    kinds = (
        "title",
        "subheader",
        "markdown",
        "caption",
        "code",
        "error",
        "warning",
        "info",
        "success",
    )
    return [str(getattr(element, "value", "")) for kind in kinds for element in at.get(kind)]


def dataset_titles(at: AppTest) -> list[str]:
    return [str(subheader.value) for subheader in at.subheader]


def open_details(at: AppTest, *datasets: str) -> None:
    for name in datasets:
        at.session_state[f"catalog_details_{name}"] = True


def frame_with(at: AppTest, *columns: str) -> pd.DataFrame:
    """The one table drawn with all of `columns` (the sample rows of an opened dataset)."""
    frames = [df.value for df in at.dataframe if set(columns) <= set(df.value.columns)]
    assert len(frames) == 1, f"expected one table with {columns}, found {len(frames)}"
    return frames[0]


@pytest.fixture
def signed_in(signed_in: SignIn) -> SignIn:
    """Signed in and on the catalog, the page these tests are about (Home is the landing page)."""

    def on_catalog(username: str) -> AppTest:
        at = signed_in(username)
        at.run()  # lands on Home and sets up the navigation
        at.switch_page("pages/catalog.py")
        return at

    return on_catalog


def audit_actions(services: Services, actor: str, action: str) -> list[str]:
    return [event.outcome for event in services.audit.recent(actor=actor, action=action)]


# -- signing in -------------------------------------------------------------------------------


def test_not_signed_in_sees_the_sign_in_form_and_no_catalog(app: AppTest) -> None:
    run(app)

    assert [field.label for field in app.text_input] == ["Username", "Password"]
    assert [button.label for button in app.button] == ["Sign in"]
    assert "Data catalog" not in texts(app)
    assert dataset_titles(app) == ["Sign in"]
    assert not app.dataframe


def test_the_sign_in_form_signs_in_and_disappears(app: AppTest, app_services: Services) -> None:
    before = audit_actions(app_services, "ana", "user.sign_in")
    run(app)
    username, password = app.text_input
    username.input("ana")
    password.input("ana-demo-pass")
    app.button[0].click()
    run(app)

    assert app.session_state["authentication_status"] is True
    assert "Username" not in [field.label for field in app.text_input]
    assert "Sign in" not in [button.label for button in app.button]
    assert "Home" in [title.value for title in app.title]
    # Once per session, however many reruns follow.
    run(app)
    assert audit_actions(app_services, "ana", "user.sign_in") == ["succeeded", *before]


def test_a_wrong_password_is_refused_and_audited(app: AppTest, app_services: Services) -> None:
    run(app)
    username, password = app.text_input
    username.input("victor")
    password.input("not-his-password")
    app.button[0].click()
    run(app)

    assert [error.value for error in app.error] == ["Wrong username or password."]
    assert [field.label for field in app.text_input] == ["Username", "Password"]
    assert "Data catalog" not in texts(app)
    assert audit_actions(app_services, "victor", "user.sign_in")[0] == "failed"


def sign_in_with(app: AppTest, username: str, password: str) -> AppTest:
    run(app)
    user_field, password_field = app.text_input
    user_field.input(username)
    password_field.input(password)
    app.button[0].click()
    return run(app)


def test_the_form_checks_passwords_with_the_user_service(
    app: AppTest, monkeypatch: pytest.MonkeyPatch
) -> None:
    calls: list[tuple[str, str]] = []
    real = UserService.authenticate

    def spy(self: UserService, username: str, password: str) -> object:
        calls.append((username, password))
        return real(self, username, password)

    monkeypatch.setattr(UserService, "authenticate", spy)
    sign_in_with(app, "ana", "ana-demo-pass")

    assert calls == [("ana", "ana-demo-pass")]
    assert app.session_state["authentication_status"] is True


def test_the_password_is_not_kept_after_an_attempt(app: AppTest) -> None:
    sign_in_with(app, "victor", "not-his-password")

    assert [field.value for field in app.text_input] == ["victor", ""]


def test_an_empty_form_asks_for_both_fields(app: AppTest) -> None:
    run(app)
    app.button[0].click()
    run(app)

    assert [error.value for error in app.error] == ["Enter your username and password."]


def test_repeated_failures_lock_the_username_with_a_clear_message(
    app: AppTest, app_services: Services
) -> None:
    app_services.users.add("walt", "walt-demo-pass", ["viewer"], attributes={"region": ["APAC"]})
    for _ in range(5):
        sign_in_with(app, "walt", "a wrong guess")
        assert [error.value for error in app.error] == ["Wrong username or password."]

    sign_in_with(app, "walt", "walt-demo-pass")  # the right password, but too late

    [error] = app.error
    assert error.value.startswith("Too many failed sign-in attempts for this username.")
    assert re.search(r"Try again in \d+ seconds?\.$", error.value)
    assert app.session_state["authentication_status"] is not True
    assert "Data catalog" not in texts(app)
    assert audit_actions(app_services, "walt", "user.sign_in")[:2] == ["denied", "failed"]


def test_an_unknown_username_is_audited_as_typed(app: AppTest, app_services: Services) -> None:
    typed = "Nobody\tHere " + "z" * 80
    sign_in_with(app, typed, "whatever-it-is")

    assert [error.value for error in app.error] == ["Wrong username or password."]
    name = attempted_name(typed)
    assert name.startswith("nobody here zzz") and len(name) == 64
    [event] = app_services.audit.recent(actor=name, action="user.sign_in")
    assert (event.target, event.outcome) == (name, "failed")
    assert event.details["reason"] == "unknown user"
    assert app_services.audit.recent(actor="?") == []


def test_sidebar_names_the_user_and_signs_out(signed_in: SignIn, app_services: Services) -> None:
    at = run(signed_in("ana"))
    sidebar = [str(element.value) for element in at.sidebar.markdown] + [
        str(element.value) for element in at.sidebar.caption
    ]
    assert any("Ana Author" in line for line in sidebar)
    assert any("Roles: author" in line and "EMEA" in line for line in sidebar)

    at.sidebar.button(key="sign_out").click()
    run(at)

    assert at.session_state["authentication_status"] is None
    assert [field.label for field in at.text_input] == ["Username", "Password"]
    assert "You have signed out." in [success.value for success in at.success]
    assert "Data catalog" not in texts(at)
    assert audit_actions(app_services, "ana", "user.sign_out")[0] == "succeeded"


def test_a_disabled_account_is_signed_out(signed_in: SignIn, app_services: Services) -> None:
    app_services.users.add("carol", "carol-demo-pass", ["viewer"], attributes={"region": ["APAC"]})
    at = run(signed_in("carol"))
    assert "Sales orders" in dataset_titles(at)

    app_services.store.users.set_disabled("carol", True)
    run(at)

    assert "Data catalog" not in texts(at)
    assert any("no longer active" in warning.value for warning in at.warning)
    assert [field.label for field in at.text_input] == ["Username", "Password"]


# -- the catalog ------------------------------------------------------------------------------


def test_ana_sees_every_dataset_her_role_opens(signed_in: SignIn) -> None:
    at = run(signed_in("ana"))

    assert dataset_titles(at) == ["Customers", "Sales orders", "Support tickets", "Monthly targets"]
    shown = texts(at)
    assert "4 datasets." in shown
    assert any("Certified" in text and "Confidential" in text for text in shown)
    assert any("Owner: Finance Analytics" in text and "finance-data@" in text for text in shown)
    assert any(text.startswith(":orange[⚠ Late: latest 2026-10-31") for text in shown)
    # As of the frozen clock (2026-11-10 12:00 UTC), whatever the day the test runs.
    assert any(
        "latest 2026-10-01 (40 days ago); within its SLA of 92 days" in text and "✓" in text
        for text in shown
    )
    assert any("rows limited to region in (EMEA)" in text for text in shown)
    assert any("masked columns: email, name, phone" in text for text in shown)


def test_victor_sees_neither_customers_nor_targets(signed_in: SignIn) -> None:
    at = run(signed_in("victor"))

    assert dataset_titles(at) == ["Sales orders", "Support tickets"]
    assert not any("Customers" in title or "targets" in title for title in dataset_titles(at))


@pytest.mark.parametrize(
    ("username", "regions"),
    [("ana", {"EMEA"}), ("victor", {"Americas"}), ("admin", {"EMEA", "Americas", "APAC"})],
)
def test_sales_sample_holds_only_the_users_regions(
    signed_in: SignIn, username: str, regions: set[str]
) -> None:
    at = signed_in(username)
    open_details(at, "sales")
    run(at)

    sample = frame_with(at, "order_id", "region", "revenue")
    assert len(sample) == 20
    assert set(sample["region"]) == regions


def test_customer_pii_is_masked_for_ana_and_clear_for_admin(signed_in: SignIn) -> None:
    ana = signed_in("ana")
    open_details(ana, "customers")
    run(ana)
    masked = frame_with(ana, "customer_id", "name", "email")
    assert len(masked) > 0
    assert all(SHA256_HEX.match(email) for email in masked["email"])
    assert set(masked["name"]) == {"[redacted]"}
    columns = frame_with(ana, "Column", "PII", "You see it").set_index("Column")
    assert columns.loc["email", "PII"]
    assert columns.loc["email", "You see it"] == "masked (hash)"
    assert columns.loc["country", "You see it"] == "in clear"

    admin = signed_in("admin")
    open_details(admin, "customers")
    run(admin)
    clear = frame_with(admin, "customer_id", "name", "email")
    assert all("@" in email for email in clear["email"])
    assert "[redacted]" not in set(clear["name"])


def test_measures_and_dimensions_are_described(signed_in: SignIn) -> None:
    at = signed_in("victor")
    open_details(at, "sales")
    run(at)

    measures = frame_with(at, "Measure", "Description").set_index("Name")
    assert measures.loc["revenue", "Description"] == "Net revenue after discounts."
    assert measures.loc["margin_pct", "Format"] == "Percent"
    dimensions = frame_with(at, "Dimension", "Description").set_index("Name")
    assert dimensions.loc["channel", "Description"] == "Online, Retail, Partner or Direct Sales."


def widths(at: AppTest, *columns: str) -> dict[str, str]:
    """Each column's width setting in the one table drawn with all of `columns`."""
    (table,) = [df for df in at.dataframe if set(columns) <= set(df.value.columns)]
    config = json.loads(table.proto.columns)
    return {name: config.get(name, {}).get("width", "") for name in table.value.columns}


def test_catalog_tables_leave_room_for_descriptions(signed_in: SignIn) -> None:
    at = signed_in("victor")
    open_details(at, "sales")
    run(at)

    assert widths(at, "Measure", "Description")["Description"] == "large"
    assert widths(at, "Measure", "Definition")["Definition"] == "large"
    assert widths(at, "Dimension", "Description")["Description"] == "large"
    assert widths(at, "Column", "You see it")["Description"] == "large"


def test_search_filters_the_list(signed_in: SignIn) -> None:
    at = run(signed_in("ana"))

    at.text_input(key="catalog_search").input("tickets")
    run(at)
    assert dataset_titles(at) == ["Support tickets"]
    assert "1 of 4 datasets match “tickets”." in texts(at)

    at.text_input(key="catalog_search").input("finance")
    run(at)
    assert dataset_titles(at) == ["Sales orders", "Monthly targets"]

    at.text_input(key="catalog_search").input("no such thing")
    run(at)
    assert dataset_titles(at) == []
    assert any("No dataset matches" in info.value for info in at.info)


# -- errors -----------------------------------------------------------------------------------


def test_a_user_error_in_a_page_shows_its_message(
    signed_in: SignIn, monkeypatch: pytest.MonkeyPatch
) -> None:
    def refuse(*_args: object, **_kwargs: object) -> list[object]:
        raise NotAllowed("you may not browse the catalog today; ask the data office")

    monkeypatch.setattr(CatalogService, "datasets", refuse)
    at = run(signed_in("ana"))

    assert [error.value for error in at.error] == [
        "you may not browse the catalog today; ask the data office"
    ]


def test_an_unexpected_error_shows_an_incident_id_and_logs_the_traceback(
    signed_in: SignIn, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    def explode(*_args: object, **_kwargs: object) -> list[object]:
        raise RuntimeError("connection string postgres://secret@db")

    monkeypatch.setattr(CatalogService, "datasets", explode)
    with caplog.at_level(logging.ERROR, logger="reportgen.ui"):
        at = run(signed_in("ana"))

    [error] = at.error
    assert INCIDENT.match(error.value)
    incident = error.value.removesuffix(".").rsplit(" ", 1)[1]
    shown = "\n".join(texts(at))
    for leak in ("Traceback", "RuntimeError", "secret", 'File "'):
        assert leak not in shown
    [record] = [r for r in caplog.records if incident in r.getMessage()]
    assert record.exc_info is not None
    assert isinstance(record.exc_info[1], RuntimeError)


def test_a_broken_dataset_does_not_hide_the_others(
    signed_in: SignIn, monkeypatch: pytest.MonkeyPatch
) -> None:
    healthy = CatalogService.freshness

    def freshness(self: CatalogService, principal: object, name: str) -> object:
        if name == "customers":
            raise RuntimeError("customers table is gone")
        return healthy(self, principal, name)  # type: ignore[arg-type]

    monkeypatch.setattr(CatalogService, "freshness", freshness)
    at = run(signed_in("ana"))

    assert [bool(INCIDENT.match(error.value)) for error in at.error] == [True]
    assert dataset_titles(at) == ["Customers", "Sales orders", "Support tickets", "Monthly targets"]
    assert sum("Your access" in text for text in texts(at)) == 3


def test_a_bad_setting_at_start_is_explained(app: AppTest, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("REPORTGEN_WAREHOUSE_URL", "mysql://warehouse")
    st.cache_resource.clear()  # make the app build its services again, from the bad settings
    try:
        at = run(app)
    finally:
        st.cache_resource.clear()

    assert "reportgen cannot start" in at.error[0].value
    assert "REPORTGEN_WAREHOUSE_URL" in at.code[0].value
    assert not at.text_input
    assert "Traceback" not in "\n".join(texts(at))


ADMIN_ONLY_PAGE = """
import streamlit as st

from components.session import require_role
from reportgen.domain.principal import Role

require_role(frozenset({Role.ADMIN}), "the admin page")
st.write("secret admin things")
"""


def test_the_role_gate_refuses_and_audits(signed_in: SignIn, app_services: Services) -> None:
    # Sign ana in through the app first, so the session holds her principal.
    app = run(signed_in("ana"))
    gate = AppTest.from_string(ADMIN_ONLY_PAGE, default_timeout=30)
    gate.session_state[PRINCIPAL_KEY] = app.session_state[PRINCIPAL_KEY]
    run(gate)

    assert "not allowed to open the admin page" in gate.error[0].value
    assert "secret admin things" not in texts(gate)
    assert audit_actions(app_services, "ana", "page.open")[0] == "denied"


def test_no_script_writes_a_stray_string_on_its_page() -> None:
    """Streamlit's magic writes a bare string expression on the page, at the top level of the
    scripts it runs (the router and the pages) and in their functions and blocks: only
    docstrings may be one."""
    root = Path(__file__).resolve().parents[2]
    stray = []
    for script in [root / "app.py", *sorted((root / "pages").glob("*.py"))]:
        tree = ast.parse(script.read_text())
        owners = [
            tree,
            *(n for n in ast.walk(tree) if isinstance(n, ast.FunctionDef | ast.ClassDef)),
        ]
        docstrings = {id(owner.body[0]) for owner in owners if ast.get_docstring(owner) is not None}
        for node in ast.walk(tree):
            if (
                isinstance(node, ast.Expr)
                and isinstance(node.value, ast.Constant)
                and isinstance(node.value.value, str)
                and id(node) not in docstrings
            ):
                stray.append(f"{script.name}:{node.lineno}")
    assert stray == []
