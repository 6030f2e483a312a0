"""Sign-in and sign-out with streamlit-authenticator, against the accounts in the metadata DB.

The authenticator keeps its state in ``st.session_state`` under its own keys
(``authentication_status``, ``username``): a visitor is signed in when the status is ``True``.
It is only built on runs that need it (the sign-in form, a cookie to write or delete), so a
signed-in page does not reload every password hash on each rerun.
"""

from __future__ import annotations

from typing import Any

import streamlit as st
import streamlit_authenticator as stauth

from components.text import plain
from reportgen.bootstrap import Services, cookie_key
from reportgen.domain.principal import Principal
from reportgen.errors import NotFound

COOKIE_NAME = "reportgen_auth"
FORM_KEY = "sign_in"
FORM_WIDTH = 440
SIGNED_OUT = "You have signed out."
INACTIVE = "Your account is no longer active. Ask an admin if you need access."
FORM_FIELDS = {
    "Form name": "Sign in",
    "Username": "Username",
    "Password": "Password",
    "Login": "Sign in",
}

_SIGN_OUT = "_reportgen_sign_out"  # set by the Sign out button; acted on at the next run's start
_WRITE_COOKIE = "_reportgen_write_cookie"  # set after a password sign-in, see _sign_in_form
_FORM_SIGN_IN = "_reportgen_form_sign_in"
_NOTICE = "_reportgen_sign_in_notice"  # why the form is back; shown until the next sign-in
_AUDITED = "_reportgen_sign_in_audited"  # the username whose sign-in this session recorded


def signed_in_username() -> str | None:
    if st.session_state.get("authentication_status") is True:
        return st.session_state.get("username") or None
    return None


def authenticate(services: Services) -> Principal | None:
    """The signed-in principal, or None after drawing the sign-in form."""
    sign_out = st.session_state.pop(_SIGN_OUT, False)
    write_cookie = st.session_state.pop(_WRITE_COOKIE, False)
    username = signed_in_username()
    principal = None if username is None or sign_out else _active_principal(services, username)
    if principal is not None and not write_cookie:
        _audit_sign_in_once(services, principal.username)
        return principal

    authenticator, credentials = _authenticator(services)
    if principal is not None:
        authenticator.cookie_controller.set_cookie()
        _audit_sign_in_once(services, principal.username)
        return principal
    if username is not None:
        authenticator.logout(location="unrendered")
        st.session_state.pop(_AUDITED, None)
        if sign_out:
            services.audit.record(username, "user.sign_out", username, "succeeded")
            st.session_state[_NOTICE] = SIGNED_OUT
        else:
            st.session_state[_NOTICE] = INACTIVE
    with st.container(horizontal_alignment="center"), st.container(width=FORM_WIDTH):
        st.title("reportgen", anchor=False)
        st.caption("Self-service reports on governed data.")
        notice = st.session_state.get(_NOTICE)
        if notice == SIGNED_OUT:
            st.success(notice)
        elif notice:
            st.warning(notice)
        _sign_in_form(services, authenticator, credentials)
    return None


def request_sign_out() -> None:
    """Button callback: sign out at the start of the next run, where the cookie can be deleted."""
    st.session_state[_SIGN_OUT] = True


def account_panel(principal: Principal) -> None:
    """The sidebar's who-am-I block with the Sign out button."""
    with st.sidebar:
        st.divider()
        st.markdown(f"Signed in as **{plain(principal.display_name or principal.username)}**")
        roles = ", ".join(sorted(role.value for role in principal.roles)) or "none"
        lines = [f"Roles: {plain(roles)}"]
        lines += [
            f"{plain(name.capitalize())}: {plain(', '.join(values))}"
            for name, values in sorted(principal.attributes.items())
        ]
        st.caption("  \n".join(lines))
        st.button("Sign out", key="sign_out", icon=":material/logout:", on_click=request_sign_out)


def _active_principal(services: Services, username: str) -> Principal | None:
    try:
        return services.users.principal(username)
    except NotFound:
        return None


def _audit_sign_in_once(services: Services, username: str) -> None:
    if st.session_state.get(_AUDITED) != username:
        services.audit.record(username, "user.sign_in", username, "succeeded")
        st.session_state[_AUDITED] = username


def _authenticator(services: Services) -> tuple[stauth.Authenticate, dict[str, Any]]:
    """A fresh authenticator (it renders its cookie component, so build at most one per run)."""
    credentials = services.users.sign_in_credentials()
    authenticator = stauth.Authenticate(
        credentials,
        cookie_name=COOKIE_NAME,
        cookie_key=cookie_key(services.settings),
        cookie_expiry_days=services.settings.cookie_expiry_days,
        auto_hash=False,
    )
    return authenticator, credentials


def _on_password_sign_in(_event: dict[str, Any]) -> None:
    st.session_state[_FORM_SIGN_IN] = True


def _sign_in_form(
    services: Services, authenticator: stauth.Authenticate, credentials: dict[str, Any]
) -> None:
    # Report only this run's failed attempt, not one from an earlier run.
    if st.session_state.get("authentication_status") is False:
        st.session_state["authentication_status"] = None
    try:
        authenticator.login(
            location="main", fields=FORM_FIELDS, key=FORM_KEY, callback=_on_password_sign_in
        )
    except stauth.LoginError:
        # The sign-in cookie names an account that is gone or disabled: forget it, ask again.
        st.session_state["logout"] = True  # the authenticator's flag: stop reading the cookie
        authenticator.cookie_controller.delete_cookie()
        st.warning(INACTIVE)
        authenticator.login(location="main", fields=FORM_FIELDS, key=FORM_KEY)
        return

    username = signed_in_username()
    if username is not None:
        st.session_state.pop(_NOTICE, None)
        if st.session_state.pop(_FORM_SIGN_IN, False):
            # The form is already drawn; rerun so it disappears. The cookie component would not
            # survive that rerun, so the cookie is written on the next run instead.
            st.session_state[_WRITE_COOKIE] = True
        st.rerun()
    if st.session_state.get("authentication_status") is False:
        attempted = _failed_username(credentials)
        services.audit.record(attempted, "user.sign_in", attempted, "failed")
        st.error("Wrong username or password.", icon=":material/lock:")


def _failed_username(credentials: dict[str, Any]) -> str:
    """The known account that just failed (the authenticator counts failures in the mapping)."""
    for username, entry in credentials.get("usernames", {}).items():
        if entry.get("failed_login_attempts"):
            return str(username)
    return "?"
