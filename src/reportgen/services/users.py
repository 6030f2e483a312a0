"""Accounts and sign-in: who may use the product, with which roles and attributes."""

from __future__ import annotations

import builtins
from collections.abc import Iterable
from typing import Any

from reportgen.domain.catalog import PRINCIPAL_ATTRIBUTES
from reportgen.domain.principal import Principal, Role, User
from reportgen.errors import InvalidInput, NotFound
from reportgen.services.ports import AuditSink, UserStore

SYSTEM = "system"


def parse_roles(names: Iterable[str]) -> frozenset[Role]:
    roles, unknown = set(), []
    for name in names:
        try:
            roles.add(Role(name.strip().lower()))
        except ValueError:
            unknown.append(name)
    if unknown:
        allowed = ", ".join(r.value for r in Role)
        raise InvalidInput(f"unknown role {', '.join(map(repr, unknown))}; use: {allowed}")
    if not roles:
        raise InvalidInput("give at least one role")
    return frozenset(roles)


def check_attribute(name: str) -> None:
    if name not in PRINCIPAL_ATTRIBUTES:
        known = ", ".join(sorted(PRINCIPAL_ATTRIBUTES))
        raise InvalidInput(f"unknown attribute '{name}'; known attributes: {known}")


class UserService:
    def __init__(self, store: UserStore, audit: AuditSink) -> None:
        self.store = store
        self.audit = audit

    def authenticate(self, username: str, password: str) -> Principal | None:
        """The principal for a correct password; every attempt is audited."""
        user = self.store.verify_password(username, password)
        self.audit.append(
            username or "?", "user.sign_in", username or "?", "succeeded" if user else "failed"
        )
        return user.principal() if user else None

    def principal(self, username: str) -> Principal:
        """The principal of an existing, enabled account (fail closed otherwise)."""
        user = self.store.get(username)
        if user is None or user.disabled:
            raise NotFound(f"there is no active user '{username}'")
        return user.principal()

    def list(self) -> builtins.list[User]:
        return self.store.list()

    def add(
        self,
        username: str,
        password: str,
        roles: Iterable[str],
        *,
        display_name: str = "",
        email: str = "",
        attributes: dict[str, builtins.list[str]] | None = None,
        actor: str = SYSTEM,
    ) -> User:
        parsed = parse_roles(roles)
        for name in attributes or {}:
            check_attribute(name)
        user = self.store.add(
            username,
            display_name=display_name or username,
            email=email,
            password=password,
            roles=parsed,
            attributes=attributes or {},
        )
        self.audit.append(actor, "user.add", username, "succeeded", {"roles": sorted(parsed)})
        return user

    def set_roles(self, username: str, roles: Iterable[str], *, actor: str = SYSTEM) -> User:
        parsed = parse_roles(roles)
        user = self.store.set_roles(username, parsed)
        self.audit.append(actor, "user.set_roles", username, "succeeded", {"roles": sorted(parsed)})
        return user

    def set_attribute(
        self, username: str, name: str, values: Iterable[str], *, actor: str = SYSTEM
    ) -> User:
        check_attribute(name)
        cleaned = [v.strip() for v in values if v.strip()]
        user = self.store.set_attribute(username, name, cleaned)
        self.audit.append(actor, "user.set_attribute", username, "succeeded", {name: cleaned})
        return user

    def set_password(self, username: str, password: str, *, actor: str = SYSTEM) -> None:
        self.store.set_password(username, password)
        self.audit.append(actor, "user.set_password", username, "succeeded")

    def sign_in_credentials(self) -> dict[str, Any]:
        """The credentials mapping the sign-in widget checks passwords against (bcrypt hashes)."""
        users: dict[str, Any] = {}
        for user in self.store.list():
            password_hash = self.store.password_hash(user.username)
            if user.disabled or password_hash is None:
                continue
            users[user.username] = {
                "name": user.display_name,
                "email": user.email or f"{user.username}@localhost",
                "password": password_hash,
                "roles": sorted(user.roles),
            }
        return {"usernames": users}


DEMO_USERS: tuple[dict[str, Any], ...] = (
    {
        "username": "admin",
        "display_name": "Avery Admin",
        "roles": ["admin"],
        "attributes": {"region": ["EMEA", "Americas", "APAC"]},
        "password": "admin-demo-pass",
    },
    {
        "username": "ana",
        "display_name": "Ana Author",
        "roles": ["author"],
        "attributes": {"region": ["EMEA"]},
        "password": "ana-demo-pass",
    },
    {
        "username": "victor",
        "display_name": "Victor Viewer",
        "roles": ["viewer"],
        "attributes": {"region": ["Americas"]},
        "password": "victor-demo-pass",
    },
)
"""Demo accounts for local use only; their passwords are printed in the README."""


def seed_demo_users(users: UserService) -> list[str]:
    """Create the demo accounts that are missing; returns the usernames created."""
    created = []
    for spec in DEMO_USERS:
        if users.store.get(spec["username"]) is None:
            users.add(
                spec["username"],
                spec["password"],
                spec["roles"],
                display_name=spec["display_name"],
                email=f"{spec['username']}@example.com",
                attributes=spec["attributes"],
            )
            created.append(spec["username"])
    return created
