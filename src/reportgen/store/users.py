"""`UserRepository`: stored accounts, their roles, attributes and bcrypt password hashes.

Services get `reportgen.domain.principal.User` values back; passwords are checked here, with
`UserRepository.verify_password`, so bcrypt hashes never leave this module (bar
`UserRepository.password_hash`, which the `UserStore` protocol still declares).
"""

from __future__ import annotations

import builtins
from collections.abc import Iterable, Mapping
from functools import cache
from typing import Any

import bcrypt
from pydantic import TypeAdapter, ValidationError
from sqlalchemy import Connection, Engine, insert, select, update
from sqlalchemy.exc import IntegrityError

from reportgen.domain.principal import AttributeName, Role, User, Username
from reportgen.errors import InvalidInput, NotFound
from reportgen.store.engine import write_transaction
from reportgen.store.tables import users, utcnow

DEFAULT_BCRYPT_ROUNDS = 12
MIN_PASSWORD_CHARS = 8
MAX_PASSWORD_BYTES = 72  # bcrypt silently ignores everything after the 72nd byte

_USERNAME = TypeAdapter(Username)
_ATTRIBUTE_NAME = TypeAdapter(AttributeName)


def _username_problems(username: str) -> builtins.list[str]:
    try:
        _USERNAME.validate_python(username)
    except ValidationError:
        return [
            f"username {username!r} is not valid: use 2 to 63 characters, lower-case letters,"
            " digits, '_', '.' or '-', starting with a letter"
        ]
    return []


def _password_problems(password: str) -> builtins.list[str]:
    if len(password) < MIN_PASSWORD_CHARS:
        return [f"the password must be at least {MIN_PASSWORD_CHARS} characters long"]
    if len(password.encode("utf-8")) > MAX_PASSWORD_BYTES:
        return [
            f"the password must be at most {MAX_PASSWORD_BYTES} bytes in UTF-8 (bcrypt ignores"
            " the rest); choose a shorter one"
        ]
    return []


def _roles(roles: Iterable[Role]) -> tuple[frozenset[Role], builtins.list[str]]:
    """The roles as given, or the problems with them.

    Turning what a person typed into roles is `reportgen.services.users.parse_roles`'s job; here
    the values must already be `Role` members, and there must be at least one.
    """
    parsed: set[Role] = set()
    problems: builtins.list[str] = []
    for role in roles:
        if isinstance(role, Role):
            parsed.add(role)
        else:
            known = ", ".join(r.value for r in Role)
            problems.append(f"unknown role {role!r}: use one of {known}")
    if not parsed and not problems:
        problems.append("a user needs at least one role")
    return frozenset(parsed), problems


def _attributes(
    attributes: Mapping[str, str | Iterable[str]],
) -> tuple[dict[str, builtins.list[str]], builtins.list[str]]:
    parsed: dict[str, builtins.list[str]] = {}
    problems: builtins.list[str] = []
    for name, values in attributes.items():
        try:
            _ATTRIBUTE_NAME.validate_python(name)
        except ValidationError:
            problems.append(
                f"attribute name {name!r} is not valid: use lower-case letters, digits and '_',"
                " starting with a letter"
            )
            continue
        listed = [values] if isinstance(values, str) else builtins.list(values)
        if not all(isinstance(value, str) for value in listed):
            problems.append(f"attribute {name!r} must hold text values")
            continue
        parsed[name] = listed
    return parsed, problems


@cache
def _decoy_hash(rounds: int) -> bytes:
    """A hash to check against when the user does not exist, so both cases cost one bcrypt."""
    return bcrypt.hashpw(b"no such user", bcrypt.gensalt(rounds))


class UserRepository:
    """Accounts in the ``users`` table. Every method is its own transaction."""

    def __init__(self, engine: Engine, *, bcrypt_rounds: int = DEFAULT_BCRYPT_ROUNDS) -> None:
        self._engine = engine
        self._rounds = bcrypt_rounds

    def _hash(self, password: str) -> str:
        return bcrypt.hashpw(password.encode("utf-8"), bcrypt.gensalt(self._rounds)).decode()

    def new_user_problems(
        self,
        username: str,
        *,
        display_name: str,
        email: str,
        password: str,
        attributes: Mapping[str, str | Iterable[str]] | None = None,
    ) -> builtins.list[str]:
        """What `add` would refuse in these fields (roles aside), without adding anything."""
        _, attribute_problems = _attributes(attributes or {})
        return [
            *_username_problems(username.strip()),
            *([] if display_name.strip() else ["the display name must not be empty"]),
            *(
                ["names and emails cannot contain NUL characters"]
                if "\x00" in display_name + email
                else []
            ),
            *_password_problems(password),
            *attribute_problems,
        ]

    def add(  # noqa: PLR0917 - callers may pass the account's fields in order
        self,
        username: str,
        display_name: str,
        email: str,
        password: str,
        roles: Iterable[Role],
        attributes: Mapping[str, str | Iterable[str]] | None = None,
    ) -> User:
        """Create an account. Raises `InvalidInput` listing every problem, or for a taken name."""
        username = username.strip()
        parsed_roles, role_problems = _roles(roles)
        parsed_attributes, _ = _attributes(attributes or {})
        problems = [
            *self.new_user_problems(
                username,
                display_name=display_name,
                email=email,
                password=password,
                attributes=attributes,
            ),
            *role_problems,
        ]
        if problems:
            raise InvalidInput(problems)
        now = utcnow()
        row = {
            "username": username,
            "display_name": display_name.strip(),
            "email": email.strip(),
            "password_hash": self._hash(password),
            "roles": sorted(role.value for role in parsed_roles),
            "attributes": parsed_attributes,
            "disabled": False,
            "created_at": now,
            "updated_at": now,
        }
        try:
            with self._engine.begin() as connection:
                connection.execute(insert(users).values(**row))
        except IntegrityError:
            raise InvalidInput(
                f"a user named {username!r} already exists; choose another username"
            ) from None
        return _user(row)

    def get(self, username: str) -> User | None:
        """The account named ``username``, or ``None``."""
        with self._engine.connect() as connection:
            row = connection.execute(
                select(users).where(users.c.username == username.strip())
            ).first()
        return None if row is None else _user(row._mapping)

    def require(self, username: str) -> User:
        """The account named ``username``; raises `NotFound` when there is none."""
        user = self.get(username)
        if user is None:
            raise NotFound(f"there is no user named {username!r}")
        return user

    def list(self) -> builtins.list[User]:
        """Every account, by username."""
        with self._engine.connect() as connection:
            rows = connection.execute(select(users).order_by(users.c.username)).all()
        return [_user(row._mapping) for row in rows]

    def set_roles(self, username: str, roles: Iterable[Role]) -> User:
        """Replace the user's roles (at least one)."""
        parsed, problems = _roles(roles)
        if problems:
            raise InvalidInput(problems)
        return self._update(username, roles=sorted(role.value for role in parsed))

    def set_attributes(self, username: str, attributes: Mapping[str, str | Iterable[str]]) -> User:
        """Replace all of the user's attributes (what row policies match on)."""
        parsed, problems = _attributes(attributes)
        if problems:
            raise InvalidInput(problems)
        return self._update(username, attributes=parsed)

    def set_attribute(self, username: str, name: str, values: str | Iterable[str]) -> User:
        """Set one attribute, keeping the others."""
        parsed, problems = _attributes({name: values})
        if problems:
            raise InvalidInput(problems)
        with write_transaction(self._engine) as connection:
            current = connection.execute(
                select(users.c.attributes).where(users.c.username == username).with_for_update()
            ).scalar_one_or_none()
            if current is None:
                raise NotFound(f"there is no user named {username!r}")
            return self._update(username, connection=connection, attributes={**current, **parsed})

    def set_disabled(self, username: str, disabled: bool) -> User:
        """Disable (or re-enable) an account; a disabled user cannot sign in."""
        return self._update(username, disabled=disabled)

    def set_password(self, username: str, password: str) -> None:
        """Replace the user's password. Raises `InvalidInput` for a too short or too long one."""
        problems = _password_problems(password)
        if problems:
            raise InvalidInput(problems)
        self._update(username, password_hash=self._hash(password))

    def password_hash(self, username: str) -> str | None:
        """The stored bcrypt hash, for the sign-in widget; ``None`` for an unknown user."""
        with self._engine.connect() as connection:
            return connection.execute(
                select(users.c.password_hash).where(users.c.username == username)
            ).scalar_one_or_none()

    def verify_password(self, username: str, password: str) -> User | None:
        """The user if ``password`` is theirs and the account is enabled, else ``None``.

        Runs one bcrypt check whether or not the user exists, so timing does not reveal which
        usernames are taken.
        """
        with self._engine.connect() as connection:
            row = connection.execute(
                select(users).where(users.c.username == username.strip())
            ).first()
        candidate = password.encode("utf-8")
        too_long = len(candidate) > MAX_PASSWORD_BYTES
        stored = _decoy_hash(self._rounds) if row is None else row.password_hash.encode()
        # Always one bcrypt check; a too-long password can never have been set, so never matches.
        matches = bcrypt.checkpw(candidate[:MAX_PASSWORD_BYTES], stored)
        if row is None or too_long or not matches or row.disabled:
            return None
        return _user(row._mapping)

    def _update(
        self, username: str, *, connection: Connection | None = None, **values: Any
    ) -> User:
        statement = (
            update(users)
            .where(users.c.username == username)
            .values(**values, updated_at=utcnow())
            .returning(*users.c)
        )
        if connection is None:
            with self._engine.begin() as own:
                row = own.execute(statement).first()
        else:
            row = connection.execute(statement).first()
        if row is None:
            raise NotFound(f"there is no user named {username!r}")
        return _user(row._mapping)


def _user(row: Mapping[Any, Any]) -> User:
    return User(
        username=row["username"],
        display_name=row["display_name"],
        email=row["email"],
        roles=frozenset(Role(role) for role in row["roles"]),
        attributes=row["attributes"],
        disabled=row["disabled"],
    )
