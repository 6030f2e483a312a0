"""Admin: the accounts, adding one (every problem beside its field, nothing added until all is
right), and changing a user's roles and attributes.

`UserService` words its problems as sentences without a field; `problem_field` places each by
what it is about.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping

import pandas as pd
import streamlit as st

from components.session import new_incident_id, services
from components.table_columns import name_column
from components.text import plain
from reportgen.domain.catalog import PRINCIPAL_ATTRIBUTES
from reportgen.domain.principal import Principal, Role, User
from reportgen.errors import InvalidInput, NotFound

log = logging.getLogger("reportgen.ui")
ROLE_HELP = {
    Role.VIEWER: "reads reports and the catalog",
    Role.AUTHOR: "builds, saves and schedules reports",
    Role.ADMIN: "everything, and this page",
}
_NOTICE = "_admin_users_notice"
_ADD_PROBLEMS = "_admin_add_user_problems"  # field → problems, left by the form's callback


def problem_field(problem: str) -> str:
    """The form field a `UserService` problem is about."""
    text = problem.lower()
    if text.startswith("username") or "is taken" in text:
        return "username"
    if "display name" in text:
        return "display_name"
    if "email" in text:
        return "email"
    if "password" in text:
        return "password"
    if "role" in text:
        return "roles"
    if "attribute" in text:
        return "attributes"
    return "general"


def sentence(message: str) -> str:
    message = message.strip()
    message = message[:1].upper() + message[1:]
    return message if message.endswith((".", "!", "?")) else message + "."


def split_values(text: str) -> list[str]:
    """``EMEA, APAC`` → ``["EMEA", "APAC"]`` (blanks dropped, order and case kept)."""
    return [value.strip() for value in text.split(",") if value.strip()]


def users_frame(users: Iterable[User]) -> pd.DataFrame:
    return pd.DataFrame(
        [
            {
                "Username": user.username,
                "Name": user.display_name,
                "Email": user.email,
                "Roles": ", ".join(sorted(role.value for role in user.roles)),
                **{
                    name.capitalize(): ", ".join(user.attributes.get(name, ()))
                    for name in PRINCIPAL_ATTRIBUTES
                },
                "State": "disabled" if user.disabled else "active",
            }
            for user in users
        ],
        columns=[
            "Username",
            "Name",
            "Email",
            "Roles",
            *(name.capitalize() for name in PRINCIPAL_ATTRIBUTES),
            "State",
        ],
    )


def form_problems(username: str, email: str, existing: Iterable[str]) -> dict[str, list[str]]:
    """What the form can tell on its own, before asking the service."""
    problems: dict[str, list[str]] = {}
    if username.strip() and username.strip().lower() in set(existing):
        problems["username"] = [f"The username '{username.strip()}' is taken; choose another."]
    if email.strip() and ("@" not in email or email.strip().startswith("@")):
        problems["email"] = ["Give an email address such as ana@example.com, or leave it empty."]
    return problems


def _placed(problems: Iterable[str]) -> dict[str, list[str]]:
    placed: dict[str, list[str]] = {}
    for problem in problems:
        bucket = placed.setdefault(problem_field(problem), [])
        if sentence(problem) not in bucket:
            bucket.append(sentence(problem))
    return placed


def _merge(*groups: Mapping[str, list[str]]) -> dict[str, list[str]]:
    merged: dict[str, list[str]] = {}
    for group in groups:
        for field, messages in group.items():
            bucket = merged.setdefault(field, [])
            bucket.extend(message for message in messages if message not in bucket)
    return merged


def _attribute_inputs(prefix: str, current: Mapping[str, tuple[str, ...]]) -> dict[str, list[str]]:
    values = {}
    for name, description in PRINCIPAL_ATTRIBUTES.items():
        values[name] = split_values(
            st.text_input(
                f"{name.capitalize()} (comma-separated)",
                value=", ".join(current.get(name, ())),
                key=f"{prefix}_attr_{name}",
                help=f"{description} Row policies limit what the user sees by it.",
            )
        )
    return values


def _new_value(name: str) -> str:
    return str(st.session_state.get(f"admin_new_{name}") or "")


def _add_user(admin: Principal, usernames: list[str]) -> None:
    """Form callback, run before the script: check everything, add the user or keep the
    problems for the fields. The password never stays in the session."""
    username = _new_value("username").strip()
    display_name = _new_value("display_name").strip()
    email = _new_value("email").strip()
    password = _new_value("password")
    st.session_state["admin_new_password"] = ""
    roles = list(st.session_state.get("admin_new_roles") or [])
    attributes = {
        name: values
        for name in PRINCIPAL_ATTRIBUTES
        if (values := split_values(_new_value(f"attr_{name}")))
    }
    try:
        found = services().users.problems_adding(
            username, password, roles, display_name=display_name, email=email, attributes=attributes
        )
        if not display_name:  # the name defaults to the username, whose own problem says it all
            found = [problem for problem in found if problem_field(problem) != "display_name"]
        problems = _merge(form_problems(username, email, usernames), _placed(found))
        if not problems:
            user = services().users.add(
                username,
                password,
                roles,
                display_name=display_name,
                email=email,
                attributes=attributes,
                actor=admin.username,
            )
    except InvalidInput as exc:
        problems = _placed(exc.problems)
    except Exception:  # callbacks run outside the page's error boundary
        incident = new_incident_id()
        log.exception("incident %s: adding a user failed", incident)
        problems = {"general": [f"Something went wrong. Incident {incident}."]}
    if problems:
        st.session_state[_ADD_PROBLEMS] = problems
        return
    st.session_state[_NOTICE] = f"Added {plain(user.username)}."
    for name in ("username", "display_name", "email", "roles"):
        st.session_state.pop(f"admin_new_{name}", None)
    for name in PRINCIPAL_ATTRIBUTES:
        st.session_state.pop(f"admin_new_attr_{name}", None)


def add_user_form(admin: Principal, usernames: list[str]) -> None:
    """The Add a user form; the account is created only when nothing is wrong."""
    slots = {}
    with st.form("admin_add_user", border=True):
        st.markdown("**Add a user**")
        left, right = st.columns(2)
        with left:
            st.text_input(
                "Username",
                key="admin_new_username",
                help="2 to 63 characters: lower-case letters, digits, '_', '.' or '-'.",
            )
            slots["username"] = st.empty()
            st.text_input(
                "Display name (optional)",
                key="admin_new_display_name",
                help="How the app names the user; the username when left empty.",
            )
            slots["display_name"] = st.empty()
            st.text_input("Email (optional)", key="admin_new_email")
            slots["email"] = st.empty()
            st.text_input(
                "First password",
                type="password",
                key="admin_new_password",
                autocomplete="new-password",
                help="At least 8 characters. Ask the user to change it after signing in.",
            )
            slots["password"] = st.empty()
        with right:
            st.multiselect(
                "Roles",
                [role.value for role in Role],
                key="admin_new_roles",
                format_func=lambda role: f"{role} — {ROLE_HELP[Role(role)]}",
            )
            slots["roles"] = st.empty()
            _attribute_inputs("admin_new", {})
            slots["attributes"] = st.empty()
        slots["general"] = st.empty()
        st.form_submit_button(
            "Add user",
            icon=":material/person_add:",
            type="primary",
            on_click=_add_user,
            args=(admin, usernames),
        )
    problems: dict[str, list[str]] = st.session_state.pop(_ADD_PROBLEMS, {})
    for field, messages in problems.items():
        with slots.get(field, slots["general"]).container():
            for message in messages:
                st.error(message, icon=":material/error:")


def edit_user_form(admin: Principal, users: list[User]) -> None:
    """Change one user's roles and attributes."""
    if not users:
        return
    by_name = {user.username: user for user in users}
    chosen = st.selectbox(
        "User to change",
        list(by_name),
        key="admin_edit_user",
        format_func=lambda name: f"{name} — {by_name[name].display_name}",
    )
    user = by_name[chosen]
    slots = {}
    with st.form(f"admin_edit_{user.username}", border=True):
        st.markdown(f"**Roles and attributes of {plain(user.username)}**")
        roles = st.multiselect(
            "Roles",
            [role.value for role in Role],
            default=sorted(role.value for role in user.roles),
            key=f"admin_edit_roles_{user.username}",
            format_func=lambda role: f"{role} — {ROLE_HELP[Role(role)]}",
        )
        slots["roles"] = st.empty()
        attributes = _attribute_inputs(f"admin_edit_{user.username}", user.attributes)
        slots["attributes"] = st.empty()
        slots["general"] = st.empty()
        submitted = st.form_submit_button("Save changes", icon=":material/save:")
    if not submitted:
        return
    problems: list[str] = []
    if user.username == admin.username and Role.ADMIN.value not in roles:
        problems.append("you cannot take away your own admin role; ask another admin")
    if not roles:
        problems.append("give at least one role: a user without a role opens no page")
    if not problems:
        try:
            if set(roles) != {role.value for role in user.roles}:
                services().users.set_roles(user.username, roles, actor=admin.username)
            for name, values in attributes.items():
                if tuple(values) != tuple(user.attributes.get(name, ())):
                    services().users.set_attribute(
                        user.username, name, values, actor=admin.username
                    )
        except (InvalidInput, NotFound) as exc:
            problems = list(getattr(exc, "problems", [str(exc)]))
        else:
            st.session_state[_NOTICE] = f"Saved the changes to {plain(user.username)}."
            st.rerun()
    for field, messages in _placed(problems).items():
        with slots.get(field, slots["general"]).container():
            for message in messages:
                st.error(message, icon=":material/error:")


def users_panel(admin: Principal) -> None:
    notice = st.session_state.pop(_NOTICE, None)
    if notice:
        st.success(notice, icon=":material/check_circle:")
    users = services().users.list()
    st.caption(
        f"{len(users):,} accounts. Roles open pages; attributes such as region limit the rows "
        "a user sees. Sign-in passwords are checked against bcrypt hashes only."
    )
    st.dataframe(
        users_frame(users),
        hide_index=True,
        key="admin_users_table",
        column_config={"Name": name_column(), "Email": name_column(), "Roles": name_column()},
    )
    add_user_form(admin, [user.username for user in users])
    edit_user_form(admin, users)
