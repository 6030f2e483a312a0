"""Admin: API tokens. A new token's secret is shown once, right after it is made (only its
SHA-256 is stored); the list says who owns each, its scopes, when it expires and was last used;
revoking asks for confirmation first."""

from __future__ import annotations

import logging
from collections.abc import Iterable
from datetime import UTC, datetime

import pandas as pd
import streamlit as st

from components.admin_users import sentence
from components.home_times import moment
from components.session import new_incident_id, services
from components.table_columns import moment_column, name_column
from components.text import plain
from reportgen.domain.principal import Principal
from reportgen.domain.tokens import ApiToken
from reportgen.errors import InvalidInput, NotAllowed, NotFound

log = logging.getLogger("reportgen.ui")

DEFAULT_DAYS = 90
MAX_DAYS = 365
_MADE = "_admin_new_token"  # (token name, its secret): shown by the next run, then gone
_PROBLEMS = "_admin_token_problems"
_REVOKING = "_admin_token_revoking"  # the token id waiting for the Revoke confirmation
_NOTICE = "_admin_token_notice"


def tokens_frame(tokens: Iterable[ApiToken], now: datetime) -> pd.DataFrame:
    return pd.DataFrame(
        [
            {
                "Name": token.name,
                "Owner": token.username,
                "Scopes": ", ".join(sorted(role.value for role in token.scopes)),
                "State": token.state(now),
                "Created": moment(token.created_at),
                "Expires": moment(token.expires_at) if token.expires_at else "never",
                "Last used": moment(token.last_used_at) if token.last_used_at else "never",
                "Id": token.id,
            }
            for token in tokens
        ],
        columns=["Name", "Owner", "Scopes", "State", "Created", "Expires", "Last used", "Id"],
    )


def _field(problem: str) -> str:
    text = problem.lower()
    if "name" in text:
        return "name"
    if "expires" in text or "days" in text:
        return "days"
    return "scopes"


def _create(admin: Principal) -> None:
    """Form callback: make the token, or keep the problems for their fields."""
    name = str(st.session_state.get("admin_token_name") or "")
    scopes = list(st.session_state.get("admin_token_scopes") or [])
    days = int(st.session_state.get("admin_token_days") or DEFAULT_DAYS)
    problems: dict[str, list[str]] = {}
    try:
        secret, token = services().tokens.create(admin, name, scopes=scopes, expires_in_days=days)
    except InvalidInput as exc:
        for problem in exc.problems:
            problems.setdefault(_field(problem), []).append(sentence(problem))
    except NotAllowed as exc:
        problems["scopes"] = [sentence(str(exc))]
    except Exception:  # callbacks run outside the page's error boundary
        incident = new_incident_id()
        log.exception("incident %s: creating a token failed", incident)
        problems["general"] = [f"Something went wrong. Incident {incident}."]
    if problems:
        st.session_state[_PROBLEMS] = problems
        return
    st.session_state[_MADE] = (token.name, secret)
    st.session_state.pop("admin_token_name", None)


def _show_secret_once() -> None:
    made = st.session_state.pop(_MADE, None)
    if made is None:
        return
    name, secret = made
    with st.container(border=True, key="admin_token_secret"):
        st.success(f"Token “{plain(name)}” created. Copy it now:", icon=":material/key:")
        st.code(secret, language=None, wrap_lines=True)
        st.warning(
            "This is the only time the token is shown: it is not stored, only a fingerprint "
            "of it. Use the copy button at the right of the box, and keep it in a password "
            "manager or your CI's secret store. Lost it? Revoke it and create a new one.",
            icon=":material/warning:",
        )


def create_token_form(admin: Principal) -> None:
    _show_secret_once()
    slots = {}
    with st.form("admin_token_form", border=True):
        st.markdown("**Create a token**")
        st.caption(
            "A token lets a script call the REST API as you (send it as "
            "`Authorization: Bearer …`), with at most the roles you choose here."
        )
        st.text_input(
            "Token name",
            key="admin_token_name",
            max_chars=100,
            placeholder="nightly export",
            help="Say what uses it, so you know what breaks when you revoke it.",
        )
        slots["name"] = st.empty()
        st.multiselect(
            "Scopes",
            sorted(role.value for role in admin.roles),
            default=sorted(role.value for role in admin.roles),
            key="admin_token_scopes",
            help="Roles the token may act with; never more than you hold.",
        )
        slots["scopes"] = st.empty()
        st.number_input(
            "Expires after (days)",
            min_value=1,
            max_value=MAX_DAYS,
            value=DEFAULT_DAYS,
            step=1,
            key="admin_token_days",
        )
        slots["days"] = st.empty()
        slots["general"] = st.empty()
        st.form_submit_button(
            "Create token",
            icon=":material/key:",
            type="primary",
            on_click=_create,
            args=(admin,),
        )
    problems: dict[str, list[str]] = st.session_state.pop(_PROBLEMS, {})
    for field, messages in problems.items():
        with slots.get(field, slots["general"]).container():
            for message in messages:
                st.error(message, icon=":material/error:")


def _ask_revoke(token_id: str) -> None:
    st.session_state[_REVOKING] = token_id


def _cancel_revoke() -> None:
    st.session_state.pop(_REVOKING, None)


def _revoke(admin: Principal, token_id: str) -> None:
    st.session_state.pop(_REVOKING, None)
    try:
        token = services().tokens.revoke(admin, token_id)
    except NotFound as exc:
        st.session_state[_NOTICE] = ("error", sentence(str(exc)))
        return
    except Exception:  # callbacks run outside the page's error boundary
        incident = new_incident_id()
        log.exception("incident %s: revoking token %s failed", incident, token_id)
        st.session_state[_NOTICE] = ("error", f"Something went wrong. Incident {incident}.")
        return
    st.session_state[_NOTICE] = (
        "success",
        f"Revoked “{plain(token.name)}” of {plain(token.username)}: it no longer signs in.",
    )


def revoke_token(admin: Principal, tokens: list[ApiToken], now: datetime) -> None:
    active = {token.id: token for token in tokens if token.state(now) == "active"}
    if not active:
        st.caption("No active token to revoke.")
        return
    chosen = st.selectbox(
        "Token to revoke",
        list(active),
        key="admin_token_revoke_choice",
        format_func=lambda token_id: (
            f"{active[token_id].name} — {active[token_id].username}, "
            f"expires {moment(active[token_id].expires_at)}"
        ),
    )
    pending = st.session_state.get(_REVOKING)
    if pending != chosen or pending not in active:
        st.button(
            "Revoke…",
            key="admin_token_revoke",
            icon=":material/block:",
            on_click=_ask_revoke,
            args=(chosen,),
        )
        return
    token = active[chosen]
    with st.container(border=True, key="admin_token_confirm"):
        st.warning(
            f"Revoke “{plain(token.name)}” of {plain(token.username)}? Every script using it "
            "is refused from its next call. This cannot be undone.",
            icon=":material/warning:",
        )
        with st.container(horizontal=True):
            st.button(
                "Yes, revoke it",
                key="admin_token_revoke_confirm",
                type="primary",
                on_click=_revoke,
                args=(admin, chosen),
            )
            st.button("Cancel", key="admin_token_revoke_cancel", on_click=_cancel_revoke)


def tokens_panel(admin: Principal) -> None:
    notice = st.session_state.pop(_NOTICE, None)
    if notice is not None:
        kind, text = notice
        (st.success if kind == "success" else st.error)(text)
    create_token_form(admin)
    now = datetime.now(UTC)
    tokens = services().tokens.list(admin, everyone=True)
    st.markdown("**Every user's tokens**")
    if not tokens:
        st.info("No API tokens yet. Create one above for a script that calls the API.")
        return
    st.dataframe(
        tokens_frame(tokens, now),
        hide_index=True,
        key="admin_tokens_table",
        column_config={
            "Name": name_column(),
            "Scopes": name_column(),
            "Created": moment_column(),
            "Expires": moment_column(),
            "Last used": moment_column(),
        },
    )
    revoke_token(admin, tokens, now)
