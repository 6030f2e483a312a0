"""The Admin page with AppTest: only admins open it (others are refused and audited); adding a
user shows every problem and adds nothing until all is right; a token's secret is shown once
and signs in; revoking asks first and works; the audit chain's verdict; system health when no
scheduler answers, and when one does."""

from __future__ import annotations

import json
import re
import socket
import threading
import uuid
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, HTTPServer

import pandas as pd
import pytest
from streamlit.testing.v1 import AppTest

import components.admin_health
from components.admin_health import scheduler_url
from reportgen.bootstrap import Services
from reportgen.domain.audit import ChainReport
from reportgen.services.audit import AuditService
from reportgen.settings import Settings
from tests.app.apptest import run, unescaped

SignIn = Callable[[str], AppTest]
ADMIN_PAGE = "pages/admin.py"


def errors(at: AppTest) -> list[str]:
    return [unescaped(error.value) for error in at.error]


def open_admin(signed_in: SignIn, username: str, tab: str = "Users") -> AppTest:
    at = run(signed_in(username))
    at.switch_page(ADMIN_PAGE)
    at.session_state["admin_tabs"] = tab
    return run(at)


def button(at: AppTest, label: str) -> object:
    (found,) = [b for b in at.button if b.label == label]
    return found


def frame_with(at: AppTest, *columns: str) -> pd.DataFrame:
    (frame,) = [df.value for df in at.dataframe if set(columns) <= set(df.value.columns)]
    assert isinstance(frame, pd.DataFrame)
    return frame


# -- who may open it --------------------------------------------------------------------------


@pytest.mark.parametrize("username", ["ana", "victor"])
def test_only_admins_open_it_and_others_are_audited(
    signed_in: SignIn, app_services: Services, username: str
) -> None:
    at = open_admin(signed_in, username)

    assert any("not allowed to open the admin page" in error for error in errors(at))
    assert "Admin" not in [title.value for title in at.title]
    assert not at.dataframe
    [event, *_] = app_services.audit.recent(actor=username, action="page.open")
    assert (event.target, event.outcome) == ("the admin page", "denied")


def test_an_admin_sees_every_account(signed_in: SignIn) -> None:
    at = open_admin(signed_in, "admin")

    users = frame_with(at, "Username", "Roles", "Region").set_index("Username")
    assert users.loc["ana", "Roles"] == "author"
    assert users.loc["ana", "Region"] == "EMEA"
    assert users.loc["victor", "State"] == "active"
    assert users.loc["admin", "Roles"] == "admin"


# -- users ------------------------------------------------------------------------------------


def fill_new_user(at: AppTest, **fields: object) -> None:
    for name, value in fields.items():
        if name == "roles":
            at.multiselect(key="admin_new_roles").set_value(value)
        else:
            at.text_input(key=f"admin_new_{name}").input(str(value))


def test_a_bad_new_user_shows_every_problem_beside_its_field_and_adds_nothing(
    signed_in: SignIn, app_services: Services
) -> None:
    at = open_admin(signed_in, "admin")
    before = {user.username for user in app_services.users.list()}
    fill_new_user(
        at, username="Bad Name!", email="not-an-address", password="short", attr_region="EMEA"
    )
    button(at, "Add user").click()
    run(at)

    # In the order of the fields they sit under: username, email, password, then roles.
    shown = errors(at)
    assert len(shown) == 4, shown
    assert shown[0].startswith("Username 'Bad Name!' is not valid")
    assert shown[1] == "Give an email address such as ana@example.com, or leave it empty."
    assert shown[2] == "The password must be at least 8 characters long."
    assert shown[3].startswith("Give at least one role")
    assert {user.username for user in app_services.users.list()} == before
    assert at.text_input(key="admin_new_password").value == ""  # never kept
    assert at.text_input(key="admin_new_email").value == "not-an-address"  # the rest is kept


def test_a_taken_username_is_refused(signed_in: SignIn) -> None:
    at = open_admin(signed_in, "admin")
    fill_new_user(at, username="ana", password="long-enough-pass", roles=["viewer"])
    button(at, "Add user").click()
    run(at)

    assert errors(at) == ["The username 'ana' is taken; choose another."]


def test_a_good_new_user_is_added_and_audited(signed_in: SignIn, app_services: Services) -> None:
    name = f"walt{uuid.uuid4().hex[:6]}"
    at = open_admin(signed_in, "admin")
    fill_new_user(
        at,
        username=name,
        display_name="Walt Viewer",
        password="walt-demo-pass",
        roles=["viewer"],
        attr_region="APAC, EMEA",
    )
    button(at, "Add user").click()
    run(at)

    assert not errors(at)
    assert f"Added {name}." in [unescaped(s.value) for s in at.success]
    principal = app_services.users.principal(name)
    assert principal.attributes == {"region": ("APAC", "EMEA")}
    assert sorted(principal.roles) == ["viewer"]
    assert name in set(frame_with(at, "Username", "Roles")["Username"])
    [event, *_] = app_services.audit.recent(actor="admin", action="user.add")
    assert event.target == name
    assert at.text_input(key="admin_new_username").value == ""  # ready for the next one


def test_roles_and_region_are_changed(signed_in: SignIn, app_services: Services) -> None:
    name = f"rita{uuid.uuid4().hex[:6]}"
    app_services.users.add(name, "rita-demo-pass", ["viewer"], attributes={"region": ["EMEA"]})
    at = open_admin(signed_in, "admin")
    at.selectbox(key="admin_edit_user").select(name)
    run(at)
    at.multiselect(key=f"admin_edit_roles_{name}").set_value(["author", "viewer"])
    at.text_input(key=f"admin_edit_{name}_attr_region").input("Americas")
    button(at, "Save changes").click()
    run(at)

    assert not errors(at)
    principal = app_services.users.principal(name)
    assert sorted(principal.roles) == ["author", "viewer"]
    assert principal.attributes["region"] == ("Americas",)
    assert app_services.audit.recent(actor="admin", action="user.set_attribute")[0].target == name


def test_an_admin_cannot_remove_their_own_admin_role(
    signed_in: SignIn, app_services: Services
) -> None:
    at = open_admin(signed_in, "admin")
    at.selectbox(key="admin_edit_user").select("admin")
    run(at)
    at.multiselect(key="admin_edit_roles_admin").set_value(["author"])
    button(at, "Save changes").click()
    run(at)

    assert errors(at) == ["You cannot take away your own admin role; ask another admin."]
    assert app_services.users.principal("admin").is_admin


# -- API tokens -------------------------------------------------------------------------------


def test_a_new_token_is_shown_once_and_signs_in(signed_in: SignIn, app_services: Services) -> None:
    name = f"nightly export {uuid.uuid4().hex[:6]}"
    at = open_admin(signed_in, "admin", "API tokens")
    at.text_input(key="admin_token_name").input(name)
    button(at, "Create token").click()
    run(at)

    [secret] = [code.value for code in at.code if str(code.value).startswith("rgt_")]
    assert any("only time the token is shown" in w.value for w in at.warning)
    principal = app_services.tokens.authenticate(secret)
    assert principal is not None and principal.username == "admin"
    listed = frame_with(at, "Name", "Owner", "Last used").set_index("Name")
    assert listed.loc[name, "State"] == "active"

    run(at)  # any later run: the secret is gone for good
    assert not [code for code in at.code if str(code.value).startswith("rgt_")]
    assert "_admin_new_token" not in at.session_state


def test_a_token_without_a_name_is_refused_beside_the_field(
    signed_in: SignIn, app_services: Services
) -> None:
    before = len(app_services.tokens.list(app_services.users.principal("admin")))
    at = open_admin(signed_in, "admin", "API tokens")
    at.multiselect(key="admin_token_scopes").set_value([])
    button(at, "Create token").click()
    run(at)

    shown = errors(at)
    assert len(shown) == 2, shown
    assert shown[0].startswith("The token name must be 1 to 100 printable characters")
    assert shown[1] == "Scope: give at least one role: viewer, author, admin."
    assert not [code for code in at.code if str(code.value).startswith("rgt_")]
    assert len(app_services.tokens.list(app_services.users.principal("admin"))) == before


def test_revoking_asks_first_then_the_token_stops_working(
    signed_in: SignIn, app_services: Services
) -> None:
    ana = app_services.users.principal("ana")
    secret, token = app_services.tokens.create(ana, f"ana's script {uuid.uuid4().hex[:6]}")
    at = open_admin(signed_in, "admin", "API tokens")
    at.selectbox(key="admin_token_revoke_choice").select(token.id)
    run(at)
    button(at, "Revoke…").click()
    run(at)

    assert any("This cannot be undone" in unescaped(w.value) for w in at.warning)
    assert app_services.tokens.authenticate(secret) is not None  # not yet
    button(at, "Yes, revoke it").click()
    run(at)

    assert any(unescaped(s.value).startswith(f"Revoked “{token.name}” of ana") for s in at.success)
    assert app_services.tokens.authenticate(secret) is None
    listed = frame_with(at, "Name", "Owner", "Last used").set_index("Id")
    assert listed.loc[token.id, "State"] == "revoked"
    [event, *_] = app_services.audit.recent(actor="admin", action="token.revoke")
    assert event.target == token.id


def test_cancel_keeps_the_token(signed_in: SignIn, app_services: Services) -> None:
    ana = app_services.users.principal("ana")
    secret, token = app_services.tokens.create(ana, f"kept {uuid.uuid4().hex[:6]}")
    at = open_admin(signed_in, "admin", "API tokens")
    at.selectbox(key="admin_token_revoke_choice").select(token.id)
    run(at)
    button(at, "Revoke…").click()
    run(at)
    button(at, "Cancel").click()
    run(at)

    assert app_services.tokens.authenticate(secret) is not None
    assert [b.label for b in at.button if b.label == "Revoke…"] == ["Revoke…"]


# -- the audit log ----------------------------------------------------------------------------


def test_the_audit_log_says_the_chain_is_intact_and_filters(
    signed_in: SignIn, app_services: Services
) -> None:
    open_admin(signed_in, "ana")  # refused and audited: an event the filters below must find
    at = open_admin(signed_in, "admin", "Audit log")

    [verdict] = [s.value for s in at.success if "Audit chain" in s.value]
    assert re.fullmatch(
        r"Audit chain intact: [\d,]+ events verified, none altered, none missing\.", verdict
    )
    at.text_input(key="admin_audit_actor").input("ana")
    at.multiselect(key="admin_audit_outcomes").set_value(["denied"])
    run(at)

    events = frame_with(at, "Actor", "Action", "Outcome")
    assert len(events) > 0
    assert set(events["Actor"]) == {"ana"}
    assert set(events["Outcome"]) == {"denied"}


def test_a_broken_chain_is_named_with_its_event_and_reason(
    signed_in: SignIn, monkeypatch: pytest.MonkeyPatch
) -> None:
    broken = ChainReport(
        ok=False, checked=41, first_broken_seq=42, reason="event 42 was altered (hash mismatch)"
    )
    monkeypatch.setattr(AuditService, "verify", lambda self: broken)
    at = open_admin(signed_in, "admin", "Audit log")

    [verdict] = [e for e in errors(at) if "Audit chain" in e]
    assert verdict.startswith(
        "Audit chain broken at event 42: event 42 was altered (hash mismatch). "
        "The 41 events before it are intact."
    )


# -- system health ----------------------------------------------------------------------------


def test_the_scheduler_url_is_reached_on_loopback(tmp_path: object) -> None:
    assert scheduler_url(Settings()) == "http://127.0.0.1:8600"
    assert scheduler_url(Settings(api_host="0.0.0.0", api_port=9000)) == "http://127.0.0.1:9000"  # noqa: S104


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def test_health_says_calmly_when_no_scheduler_answers(
    signed_in: SignIn, monkeypatch: pytest.MonkeyPatch
) -> None:
    url = f"http://127.0.0.1:{free_port()}"  # nothing listens there: no scheduler runs
    monkeypatch.setattr(components.admin_health, "scheduler_url", lambda settings: url)
    at = open_admin(signed_in, "admin", "System health")

    [down] = [info.value for info in at.info if "not reachable" in info.value]
    assert down.startswith(f"Scheduler not reachable at {url}.")
    assert not errors(at)
    assert [metric.label for metric in at.metric] == ["Queue depth"]
    assert re.fullmatch(r"[\d,]+", str(at.metric[0].value))


READY = {
    "ready": True,
    "scheduler": "leader",
    "checks": [
        {"name": "database", "ok": True, "detail": "schema at revision 0004", "duration_ms": 1.2},
        {"name": "scheduler", "ok": True, "detail": "leader; last pass 2 s ago", "duration_ms": 0},
    ],
}


@pytest.fixture
def readyz() -> Iterator[str]:
    """A loopback server answering /readyz the way the scheduler process does."""

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            body = json.dumps(READY).encode()
            self.send_response(200 if self.path == "/readyz" else 404)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *_args: object) -> None:
            pass

    server = HTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()
    thread.join()


def test_health_shows_the_leader_and_its_checks(
    signed_in: SignIn, monkeypatch: pytest.MonkeyPatch, readyz: str
) -> None:
    monkeypatch.setattr(components.admin_health, "scheduler_url", lambda settings: readyz)
    at = open_admin(signed_in, "admin", "System health")

    assert any(s.value.startswith("Ready. Leader: this scheduler fires") for s in at.success)
    checks = frame_with(at, "Check", "OK", "Found").set_index("Check")
    assert checks.loc["scheduler", "Found"] == "leader; last pass 2 s ago"
    assert checks.loc["database", "OK"] == "✓"
