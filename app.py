"""reportgen's web UI: the router.

Builds the services once per process, signs the visitor in, offers the pages their roles open
and runs the chosen one inside the one error boundary. Pages live in ``pages/``, shared pieces
in ``components/``; run with ``streamlit run app.py``.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

import streamlit as st
from streamlit.runtime.pages_manager import PagesManager

from components.session import EVERYONE, PRINCIPAL_KEY, error_boundary, services
from components.sign_in import account_panel, authenticate
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
    st.navigation(pages).run()


with error_boundary():
    main()
