"""Accounts and sign-in: who may use the product, with which roles and attributes.

`UserService.authenticate` is the one password check of every door: it costs one bcrypt whether
or not the account exists, audits every attempt (unknown names too, sanitised), and throttles
guessing per username with `SignInThrottle`.
"""

from __future__ import annotations

import builtins
import math
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from reportgen.domain.catalog import PRINCIPAL_ATTRIBUTES
from reportgen.domain.principal import Principal, Role, User
from reportgen.errors import InvalidInput, NotAllowed, NotFound
from reportgen.services.ports import AuditSink, SignInAttempts, UserStore

SYSTEM = "system"
MAX_ATTEMPTED_NAME = 64
"""Characters of an attempted username kept in the audit log and the throttle."""


def parse_roles(names: Iterable[str]) -> tuple[frozenset[Role], builtins.list[str]]:
    """Roles from what a person typed (case and spaces do not matter), and the problems found.

    The one place role names are read: the store only accepts `Role` members.
    """
    roles: set[Role] = set()
    problems: builtins.list[str] = []
    allowed = ", ".join(r.value for r in Role)
    for name in names:
        try:
            roles.add(Role(name.strip().lower()))
        except ValueError:
            problems.append(f"unknown role '{name}': use one of {allowed}")
    if not roles and not problems:
        problems.append(f"give at least one role: {allowed}")
    return frozenset(roles), problems


def _roles_or_raise(names: Iterable[str]) -> frozenset[Role]:
    roles, problems = parse_roles(names)
    if problems:
        raise InvalidInput(problems)
    return roles


def attribute_problems(names: Iterable[str]) -> builtins.list[str]:
    """One problem per attribute name row policies cannot use."""
    known = ", ".join(sorted(PRINCIPAL_ATTRIBUTES))
    return [
        f"unknown attribute '{name}'; known attributes: {known}"
        for name in names
        if name not in PRINCIPAL_ATTRIBUTES
    ]


def attempted_name(username: str) -> str:
    """A typed username fit for the audit log and the throttle: lower-case, printable, short."""
    spaced = " ".join(username.split()).lower()  # newlines and tabs become single spaces
    cleaned = "".join(c if c.isprintable() else "\N{REPLACEMENT CHARACTER}" for c in spaced)
    if len(cleaned) > MAX_ATTEMPTED_NAME:
        cleaned = cleaned[: MAX_ATTEMPTED_NAME - 1] + "…"
    return cleaned or "(blank)"


@dataclass(frozen=True)
class SignInThrottle:
    """How password guessing is slowed: a few free failures, then locks that double each time.

    Failures count per username, known or not (so the lock reveals nothing), and are forgotten
    after a quiet ``forget_after``. While a name is locked its attempts are refused unchecked.
    """

    free_failures: int = 5
    first_lock: timedelta = timedelta(seconds=30)
    longest_lock: timedelta = timedelta(hours=1)
    forget_after: timedelta = timedelta(hours=24)

    def lock_after(self, failures: int) -> timedelta | None:
        """How long to refuse a name after ``failures`` failures in a row (None: not yet)."""
        if failures < self.free_failures:
            return None
        doublings = min(failures - self.free_failures, 32)  # 2**32 x 30 s outlasts any cap
        return min(self.first_lock * (1 << doublings), self.longest_lock)


def _wait(delay: timedelta) -> str:
    seconds = max(1, math.ceil(delay.total_seconds()))
    if seconds < 60:
        return f"{seconds} second{'s' if seconds != 1 else ''}"
    minutes = math.ceil(seconds / 60)
    return f"{minutes} minute{'s' if minutes != 1 else ''}"


class SignInRefused(NotAllowed):
    """Too many failed sign-ins for this username: attempts are refused for ``retry_after``."""

    def __init__(self, retry_after: timedelta) -> None:
        self.retry_after = retry_after
        super().__init__(
            "Too many failed sign-in attempts for this username. "
            f"Try again in {_wait(retry_after)}."
        )


def _utcnow() -> datetime:
    return datetime.now(UTC)


class UserService:
    """Accounts, roles and attributes, and the password check every door signs in with."""

    def __init__(
        self,
        store: UserStore,
        audit: AuditSink,
        sign_ins: SignInAttempts,
        *,
        throttle: SignInThrottle | None = None,
        clock: Callable[[], datetime] = _utcnow,
    ) -> None:
        self.store = store
        self.audit = audit
        self.sign_ins = sign_ins
        self.throttle = throttle or SignInThrottle()
        self._clock = clock

    def authenticate(self, username: str, password: str) -> Principal | None:
        """The principal for a correct password, None otherwise; every attempt is audited.

        Raises `SignInRefused` (a `NotAllowed`) while the name is locked after too many
        failures; the password is not even checked then.
        """
        name = attempted_name(username)
        now = self._clock()
        locked_until = self.sign_ins.locked_until(name)
        if locked_until is not None and locked_until > now:
            self.audit.append(
                name,
                "user.sign_in",
                name,
                "denied",
                {"reason": "too many failed attempts", "locked_until": locked_until.isoformat()},
            )
            raise SignInRefused(locked_until - now)
        user = self.store.verify_password(name, password)
        if user is not None:
            self.sign_ins.clear(name)
            self.audit.append(user.username, "user.sign_in", user.username, "succeeded")
            return user.principal()
        failures = self.sign_ins.record_failure(
            name, at=now, forget_before=now - self.throttle.forget_after
        )
        account = self.store.get(name)
        reason = "unknown user" if account is None else "wrong password"
        if account is not None and account.disabled:
            reason = "account disabled"
        details: dict[str, object] = {"reason": reason, "failures": failures}
        lock = self.throttle.lock_after(failures)
        if lock is not None:
            self.sign_ins.lock(name, now + lock)
            details["locked_until"] = (now + lock).isoformat()
        self.audit.append(name, "user.sign_in", name, "failed", details)
        return None

    def principal(self, username: str) -> Principal:
        """The principal of an existing, enabled account (fail closed otherwise)."""
        user = self.store.get(username)
        if user is None or user.disabled:
            raise NotFound(f"there is no active user '{username}'")
        return user.principal()

    def list(self) -> builtins.list[User]:
        return self.store.list()

    def problems_adding(
        self,
        username: str,
        password: str,
        roles: Iterable[str],
        *,
        display_name: str = "",
        email: str = "",
        attributes: Mapping[str, builtins.list[str]] | None = None,
    ) -> builtins.list[str]:
        """Every reason `add` would refuse these values, all at once; adds nothing."""
        return self._check_new(
            username, password, roles, display_name, email, dict(attributes or {})
        )[1]

    def _check_new(  # noqa: PLR0917 - the fields of `add`, in its order
        self,
        username: str,
        password: str,
        roles: Iterable[str],
        display_name: str,
        email: str,
        attributes: dict[str, builtins.list[str]],
    ) -> tuple[frozenset[Role], builtins.list[str]]:
        parsed, problems = parse_roles(roles)
        problems += attribute_problems(attributes)
        problems += self.store.new_user_problems(
            username,
            display_name=display_name or username,
            email=email,
            password=password,
            attributes={k: v for k, v in attributes.items() if k in PRINCIPAL_ATTRIBUTES},
        )
        return parsed, problems

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
        """Create an account; raises `InvalidInput` listing every problem at once."""
        attributes = attributes or {}
        parsed, problems = self._check_new(
            username, password, roles, display_name, email, attributes
        )
        if problems:
            raise InvalidInput(problems)
        user = self.store.add(
            username,
            display_name=display_name or username,
            email=email,
            password=password,
            roles=parsed,
            attributes=attributes,
        )
        self.audit.append(actor, "user.add", username, "succeeded", {"roles": sorted(parsed)})
        return user

    def set_roles(self, username: str, roles: Iterable[str], *, actor: str = SYSTEM) -> User:
        parsed = _roles_or_raise(roles)
        user = self.store.set_roles(username, parsed)
        self.audit.append(actor, "user.set_roles", username, "succeeded", {"roles": sorted(parsed)})
        return user

    def set_attribute(
        self, username: str, name: str, values: Iterable[str], *, actor: str = SYSTEM
    ) -> User:
        problems = attribute_problems([name])
        if problems:
            raise InvalidInput(problems)
        cleaned = [v.strip() for v in values if v.strip()]
        user = self.store.set_attribute(username, name, cleaned)
        self.audit.append(actor, "user.set_attribute", username, "succeeded", {name: cleaned})
        return user

    def set_password(self, username: str, password: str, *, actor: str = SYSTEM) -> None:
        self.store.set_password(username, password)
        self.audit.append(actor, "user.set_password", username, "succeeded")

    def sign_in_accounts(self) -> dict[str, Any]:
        """The enabled accounts, in the shape streamlit-authenticator's cookie sign-in reads.

        No password hashes: passwords are checked by `authenticate` alone, so the widget could
        not check one even if it tried.
        """
        return {
            "usernames": {
                user.username: {
                    "name": user.display_name,
                    "email": user.email or f"{user.username}@localhost",
                    "roles": sorted(user.roles),
                }
                for user in self.store.list()
                if not user.disabled
            }
        }


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
