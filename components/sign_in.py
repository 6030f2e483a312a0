"""Sign-in and sign-out: our own form, checked by `UserService.authenticate`, and
streamlit-authenticator's signed cookie to stay signed in across visits.

Passwords are only ever checked by `UserService.authenticate` (one bcrypt whether or not the
account exists, every attempt audited, guessing throttled per username). The authenticator is
given the enabled accounts without any password hash, and is used for what it does well: the
signed re-authentication cookie (``login(location="unrendered")`` reads it, ``set_cookie`` and
``logout`` write and delete it). A visitor is signed in when the authenticator's session keys
say so (``authentication_status`` is ``True``, ``username`` names the account).
"""

from __future__ import annotations

import logging
from typing import Any

import streamlit as st
import streamlit_authenticator as stauth

from components.session import new_incident_id
from components.text import plain
from reportgen.bootstrap import Services, cookie_key
from reportgen.domain.principal import Principal
from reportgen.errors import NotAllowed, NotFound

log = logging.getLogger("reportgen.ui")

COOKIE_NAME = "reportgen_auth"
FORM_KEY = "sign_in"
FORM_WIDTH = 440
SIGNED_OUT = "You have signed out."
INACTIVE = "Your account is no longer active. Ask an admin if you need access."
WRONG = "Wrong username or password."
MISSING = "Enter your username and password."

_SIGN_OUT = "_reportgen_sign_out"  # set by the Sign out button; acted on at the next run's start
_WRITE_COOKIE = "_reportgen_write_cookie"  # set by a password sign-in, done in the same run
_NOTICE = "_reportgen_sign_in_notice"  # why the form is back; shown until the next sign-in
_FAILURE = "_reportgen_sign_in_failure"  # why the last attempt failed; shown once
_AUDITED = "_reportgen_sign_in_audited"  # the username whose sign-in this session recorded
_USERNAME = "_reportgen_sign_in_username"
_PASSWORD = "_reportgen_sign_in_password"  # noqa: S105 - a session key, not a password


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

    authenticator = _authenticator(services)
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
    else:
        principal = _cookie_sign_in(services, authenticator)
        if principal is not None:
            return principal
    with st.container(horizontal_alignment="center"), st.container(width=FORM_WIDTH):
        st.title("reportgen", anchor=False)
        st.caption("Self-service reports on governed data.")
        notice = st.session_state.get(_NOTICE)
        if notice == SIGNED_OUT:
            st.success(notice)
        elif notice:
            st.warning(notice)
        _sign_in_form(services)
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


def _audit_sign_in_once(services: Services, username: str, **details: object) -> None:
    if st.session_state.get(_AUDITED) != username:
        services.audit.record(username, "user.sign_in", username, "succeeded", **details)
        st.session_state[_AUDITED] = username


def _authenticator(services: Services) -> stauth.Authenticate:
    """A fresh authenticator (it renders its cookie component, so build at most one per run).

    It gets the enabled accounts without password hashes: it only ever signs in from a cookie.
    """
    return stauth.Authenticate(
        services.users.sign_in_accounts(),
        cookie_name=COOKIE_NAME,
        cookie_key=cookie_key(services.settings),
        cookie_expiry_days=services.settings.cookie_expiry_days,
        auto_hash=False,
    )


def _cookie_sign_in(services: Services, authenticator: stauth.Authenticate) -> Principal | None:
    """The principal a valid sign-in cookie names, if any (forgetting a cookie for an account
    that is gone or disabled)."""
    try:
        authenticator.login(location="unrendered", key=FORM_KEY)
    except stauth.LoginError:
        # The cookie names an account that is gone or disabled: forget it, ask again.
        st.session_state["logout"] = True  # the authenticator's flag: stop reading the cookie
        authenticator.cookie_controller.delete_cookie()
        st.session_state[_NOTICE] = INACTIVE
        return None
    username = signed_in_username()
    if username is None:
        return None
    principal = _active_principal(services, username)
    if principal is not None:
        st.session_state.pop(_NOTICE, None)
        _audit_sign_in_once(services, principal.username, via="cookie")
    return principal


def _submit(services: Services) -> None:
    """Form callback, run before the script: check the password, sign in or say why not.

    Running first means a successful sign-in never draws the form, and the cookie is written in
    this very run.
    """
    username = str(st.session_state.get(_USERNAME) or "")
    password = str(st.session_state.get(_PASSWORD) or "")
    st.session_state[_PASSWORD] = ""  # never keep a password in the session
    if not username.strip() or not password:
        st.session_state[_FAILURE] = MISSING
        return
    try:
        principal = services.users.authenticate(username, password)
    except NotAllowed as exc:  # throttled: too many failures for this username
        st.session_state[_FAILURE] = str(exc)
        return
    except Exception:  # callbacks run outside the page's error boundary
        incident = new_incident_id()
        log.exception("incident %s: sign-in failed", incident)
        st.session_state[_FAILURE] = f"Something went wrong. Incident {incident}."
        return
    if principal is None:
        st.session_state[_FAILURE] = WRONG
        return
    _record_sign_in(principal)


def _record_sign_in(principal: Principal) -> None:
    """Record a sign-in the way streamlit-authenticator does, so its cookie and logout work."""
    session: Any = st.session_state
    session["authentication_status"] = True
    session["username"] = principal.username
    session["name"] = principal.display_name or principal.username
    session["email"] = principal.email
    session["roles"] = sorted(role.value for role in principal.roles)
    session["logout"] = None
    session[_AUDITED] = principal.username  # UserService.authenticate audited it
    session[_WRITE_COOKIE] = True
    session.pop(_NOTICE, None)


def _sign_in_form(services: Services) -> None:
    with st.form(FORM_KEY):
        st.subheader("Sign in", anchor=False)
        st.text_input("Username", key=_USERNAME, autocomplete="username")
        st.text_input("Password", type="password", key=_PASSWORD, autocomplete="current-password")
        st.form_submit_button("Sign in", on_click=_submit, args=(services,))
    failure = st.session_state.pop(_FAILURE, None)
    if failure:
        st.error(failure, icon=":material/lock:")
