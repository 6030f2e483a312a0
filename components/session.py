"""What every page shares: the process's services, the signed-in principal, the error boundary
and the role gate.

Pages call these helpers and the services; they never build adapters themselves.
"""

from __future__ import annotations

import logging
import secrets
from collections.abc import Iterator
from contextlib import contextmanager

import streamlit as st

from reportgen.bootstrap import Services, build_services
from reportgen.domain.principal import Principal, Role
from reportgen.errors import UserError
from reportgen.logs import configure_logging
from reportgen.settings import load_settings

log = logging.getLogger("reportgen.ui")

PRINCIPAL_KEY = "_reportgen_principal"
"""Session-state key where the router leaves the principal of the current run."""

EVERYONE: frozenset[Role] = frozenset(Role)


def _release(services: Services) -> None:
    services.close()


@st.cache_resource(show_spinner="Starting reportgen…", on_release=_release)
def _services() -> Services:
    # Shared by every session of the process: never mutate what this returns.
    settings = load_settings()
    # A host that already configured logging (a test runner, an embedding server) keeps its own.
    if not logging.getLogger().handlers:
        configure_logging(settings)
    return build_services(settings)


def services() -> Services:
    """The process's services, built on first use (raises ConfigurationError when misconfigured)."""
    return _services()


def current_principal() -> Principal:
    """The signed-in principal of this run; stops the page when nobody is signed in."""
    principal = st.session_state.get(PRINCIPAL_KEY)
    if not isinstance(principal, Principal):
        st.warning("Sign in to use reportgen.")
        st.stop()
    return principal


def require_role(roles: frozenset[Role], what: str) -> Principal:
    """The principal when they hold one of `roles`; otherwise say no, audit it and stop."""
    principal = current_principal()
    if not principal.has_any_role(roles):
        services().audit.record(
            principal.username, "page.open", what, "denied", roles=sorted(principal.roles)
        )
        allowed = ", ".join(sorted(role.value for role in roles))
        st.error(f"You are not allowed to open {what}; it is for the roles: {allowed}.")
        st.stop()
    return principal


def new_incident_id() -> str:
    return secrets.token_hex(4)


@contextmanager
def error_boundary() -> Iterator[None]:
    """Turn errors into a sentence: a UserError's own message, anything else an incident id.

    Streamlit's st.stop/st.rerun are BaseExceptions and pass through untouched.
    """
    try:
        yield
    except UserError as exc:
        st.error(str(exc), icon=":material/info:")
    except Exception:  # noqa: BLE001 - the boundary: no traceback may reach the user
        fail_with_incident("unexpected error in the web UI")


def fail_with_incident(what: str) -> str:
    """Log the active exception under a fresh incident id and show only the id to the user."""
    incident = new_incident_id()
    user = st.session_state.get("username") or "anonymous"
    log.exception("incident %s: %s (user %s)", incident, what, user)
    st.error(f"Something went wrong. Incident {incident}.", icon=":material/error:")
    return incident
