"""Admin: users and their roles and attributes, API tokens, the audit log with its chain's
verdict, and system health. Admins only: anyone else is refused, and the attempt audited.

Only the open tab is drawn, so verifying the audit chain or asking the scheduler for its health
happens when someone looks.
"""

from __future__ import annotations

import streamlit as st

from components.admin_audit import audit_panel
from components.admin_health import health_panel
from components.admin_tokens import tokens_panel
from components.admin_users import users_panel
from components.session import error_boundary, require_role
from reportgen.domain.principal import Role

TABS = ("Users", "API tokens", "Audit log", "System health")

admin = require_role(frozenset({Role.ADMIN}), "the admin page")
st.title("Admin", anchor=False)
st.caption("Accounts, API tokens, the audit log and the health of the system.")
users, tokens, audit, health = st.tabs(TABS, key="admin_tabs", on_change="rerun")
if users.open:
    with users, error_boundary():
        users_panel(admin)
if tokens.open:
    with tokens, error_boundary():
        tokens_panel(admin)
if audit.open:
    with audit, error_boundary():
        audit_panel()
if health.open:
    with health, error_boundary():
        health_panel(admin)
