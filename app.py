"""reportgen's web UI: the router.

Builds the services once per process, signs the visitor in, offers the pages their roles open
and runs the chosen one inside the one error boundary. Pages live in ``pages/``, shared pieces
in ``components/``; run with ``streamlit run app.py``.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from urllib.parse import urlsplit

import streamlit as st
from streamlit.runtime.pages_manager import PagesManager
from streamlit.runtime.scriptrunner import get_script_run_ctx

from components.session import EVERYONE, PRINCIPAL_KEY, error_boundary, services
from components.sign_in import account_panel, authenticate
from components.text import plain
from reportgen.domain.principal import Principal, Role
from reportgen.errors import ReportgenError, UserError

log = logging.getLogger("reportgen.ui")


@dataclass(frozen=True)
class AppPage:
    """A page of the app and the roles that see it in the navigation."""

    path: str
    title: str
    icon: str
    roles: frozenset[Role]
    url_path: str


# In navigation order; the first page a user may open is their home page.
# A url_path must differ from its file's name: Streamlit still knows the legacy pages/ folder
# mode (a fresh server's first run, and every AppTest run, start in it), and a URL matching a
# file name there would run that page on its own, without this router.
PAGES: tuple[AppPage, ...] = (
    AppPage("pages/home.py", "Home", ":material/home:", EVERYONE, "overview"),
    AppPage("pages/catalog.py", "Catalog", ":material/menu_book:", EVERYONE, "datasets"),
    AppPage(
        "pages/builder.py",
        "Report builder",
        ":material/design_services:",
        frozenset({Role.AUTHOR, Role.ADMIN}),
        "report-builder",
    ),
    AppPage(
        "pages/schedules.py",
        "Schedules",
        ":material/event_repeat:",
        frozenset({Role.AUTHOR, Role.ADMIN}),
        "report-schedules",
    ),
    AppPage("pages/runs.py", "Runs", ":material/history:", EVERYONE, "run-history"),
    AppPage(
        "pages/admin.py",
        "Admin",
        ":material/admin_panel_settings:",
        frozenset({Role.ADMIN}),
        "administration",
    ),
)


def pages_for(principal: Principal) -> list[st.Page]:
    """The pages `principal` may open, then the others hidden from the navigation: opened by
    URL, their own role gate says "not allowed" and audits the attempt."""
    allowed = [page for page in PAGES if principal.has_any_role(page.roles)]
    if not allowed:
        return []
    hidden = [page for page in PAGES if page not in allowed]
    return [
        st.Page(
            page.path,
            title=page.title,
            icon=page.icon,
            url_path=page.url_path,
            default=i == 0,
            visibility="visible" if page in allowed else "hidden",
        )
        for i, page in enumerate([*allowed, *hidden])
    ]


def signed_out() -> None:
    """The only page while nobody is signed in; the router has drawn the sign-in form."""


# The page (url path and query parameters) a session's browser first asked for, or None.
# (A comment, not a docstring: Streamlit's magic would write a bare string on the page.)
ARRIVAL_KEY = "_reportgen_arrival"
# The address a session's browser first asked for when no page lives there, until it is said.
UNKNOWN_KEY = "_reportgen_unknown_address"


def asked_path() -> str:
    """The page address this run was asked for (``report-schedules``), without the server's
    base path; "" for the app's root."""
    ctx = get_script_run_ctx()
    asked = (ctx.pages_manager.intended_page_name if ctx is not None else None) or ""
    if asked or not st.context.url:
        return asked.strip("/")
    path = urlsplit(st.context.url).path.strip("/")
    base = str(st.get_option("server.baseUrlPath") or "").strip("/")
    if base and (path == base or path.startswith(f"{base}/")):
        path = path[len(base) :].strip("/")
    return path


def remember_arrival() -> None:
    """Keep the address a session's first run was asked for, to open it once the router
    knows the visitor's pages.

    On a fresh load, Streamlit's browser side still knows only the legacy ``pages/`` folder
    (see `leave_legacy_pages_mode`), matches none of the router's addresses and asks for the
    main page; and a visitor not yet signed in (the sign-in form, or the cookie read a run
    later) gets a navigation with the sign-in page alone. Either way, every link into the app
    (a bookmark, a run in an email) would land on Home. The first run still sees the address
    the browser was opened at.
    """
    if ARRIVAL_KEY in st.session_state:
        return
    asked = asked_path()
    page_name = asked.rpartition("/")[2]
    known = any(page.url_path == page_name for page in PAGES)
    st.session_state[ARRIVAL_KEY] = (page_name, st.query_params.to_dict()) if known else None
    if asked and not known:
        st.session_state[UNKNOWN_KEY] = asked


def say_unknown_address(current: st.Page) -> None:
    """Once signed in, tell a visitor who came by an address no page lives at (a mistyped or
    outdated link) that it does not exist, instead of showing another page silently."""
    asked = st.session_state.pop(UNKNOWN_KEY, None)
    if asked is None:
        return
    st.warning(
        f"There is no page at “/{plain(asked)}”: the link may be mistyped or out of date. "
        f"Here is {plain(current.title)} instead; the menu on the left lists every page "
        "you can open.",
        icon=":material/link_off:",
    )


def go_to_arrival(pages: list[st.Page], current: st.Page) -> None:
    """Once signed in, open the page the session arrived at, once (a page the user may not
    open says so and audits the attempt, as when opened by its address)."""
    arrival = st.session_state.get(ARRIVAL_KEY)
    if not arrival:
        return
    st.session_state[ARRIVAL_KEY] = None
    path, query = arrival
    target = next((page for page in pages if page.url_path == path), None)
    if target is not None and target.url_path != current.url_path:
        st.switch_page(target, query_params=query)


def leave_legacy_pages_mode() -> None:
    """Keep this run out of Streamlit's legacy ``pages/`` folder mode.

    Until some session calls st.navigation, a fresh server runs this script nested in an
    automatic pages/ menu, and widgets drawn in that first run get other ids than in later runs:
    the first sign-in after a restart was silently lost. Declaring the navigation switches the
    whole process to st.navigation for good, and the rerun starts cleanly. Renaming pages/
    (Streamlit suggests app_pages/) would make this unnecessary.
    """
    if PagesManager.uses_pages_directory:
        st.navigation([st.Page(signed_out, title="reportgen", default=True)], position="hidden")
        st.rerun()


def main() -> None:
    leave_legacy_pages_mode()
    st.set_page_config(page_title="reportgen", page_icon=":material/summarize:", layout="wide")
    try:
        svc = services()
    except UserError:
        raise
    except ReportgenError as exc:  # settings, catalog or database not ready: say what to fix
        log.exception("reportgen cannot start")
        st.error("reportgen cannot start. An administrator needs to fix this first:")
        st.code(str(exc), language=None, wrap_lines=True)
        st.stop()

    remember_arrival()
    principal = authenticate(svc)
    if principal is None:
        st.session_state.pop(PRINCIPAL_KEY, None)
        # Always declare the navigation, so Streamlit never lists pages/ on its own.
        st.navigation([st.Page(signed_out, title="Sign in", default=True)], position="hidden")
        return
    st.session_state[PRINCIPAL_KEY] = principal
    account_panel(principal)
    pages = pages_for(principal)
    if not pages:
        st.navigation([st.Page(signed_out, title="No pages", default=True)], position="hidden")
        st.warning("Your account has no role that opens a page. Ask an admin for a role.")
        return
    current = st.navigation(pages)
    go_to_arrival(pages, current)
    say_unknown_address(current)
    current.run()


with error_boundary():
    main()
