"""API tokens: how scripts and other systems call the REST API as a user.

`ApiTokenService.create` makes a 256-bit secret, shows it once and stores only its SHA-256.
`ApiTokenService.authenticate` turns a presented secret back into a principal: the owner as they
are now (roles, attributes, enabled), limited to the token's scopes, so a token never grants
more than its owner currently holds. Creating and revoking tokens is audited; the secret never
reaches the log or the audit chain.
"""

from __future__ import annotations

import builtins
import hashlib
import hmac
import secrets
from collections.abc import Callable, Iterable
from datetime import UTC, datetime, timedelta
from typing import Protocol

from reportgen.domain.principal import Principal, Role
from reportgen.domain.tokens import ApiToken
from reportgen.errors import InvalidInput, NotAllowed, NotFound
from reportgen.services.ports import AuditSink, UserStore
from reportgen.services.users import parse_roles

TOKEN_PREFIX = "rgt_"  # noqa: S105 - a public marker, not a secret
"""Every secret starts with this, so a leaked token is recognisable by secret scanners."""
MAX_TOKEN_CHARS = 200
MAX_NAME_CHARS = 100
DEFAULT_EXPIRY_DAYS = 90
MAX_EXPIRY_DAYS = 365
LAST_USED_PRECISION = timedelta(minutes=1)


class TokenStore(Protocol):
    """Stored tokens (`reportgen.store.tokens.TokenRepository`); raises nothing of its own."""

    def add(
        self,
        *,
        username: str,
        name: str,
        token_hash: str,
        scopes: Iterable[Role],
        created_at: datetime,
        expires_at: datetime | None,
    ) -> ApiToken: ...

    def by_hash(self, token_hash: str) -> tuple[ApiToken, str] | None: ...

    def get(self, token_id: str) -> ApiToken | None: ...

    def list(self, username: str | None = None) -> builtins.list[ApiToken]: ...

    def revoke(self, token_id: str, at: datetime) -> ApiToken | None: ...

    def touch(self, token_id: str, at: datetime, *, unless_since: datetime) -> None: ...


def token_hash(secret: str) -> str:
    """The SHA-256 (hex) a secret is stored and looked up by."""
    return hashlib.sha256(secret.encode("utf-8")).hexdigest()


def _utcnow() -> datetime:
    return datetime.now(UTC)


class ApiTokenService:
    """Create, list, revoke and check API tokens."""

    def __init__(
        self,
        store: TokenStore,
        users: UserStore,
        audit: AuditSink,
        *,
        clock: Callable[[], datetime] = _utcnow,
    ) -> None:
        self.store = store
        self.users = users
        self.audit = audit
        self._clock = clock

    def create(
        self,
        principal: Principal,
        name: str,
        *,
        scopes: Iterable[str] | None = None,
        expires_in_days: int = DEFAULT_EXPIRY_DAYS,
    ) -> tuple[str, ApiToken]:
        """A new token for the principal: ``(secret, token)``. The secret is shown only now.

        ``scopes`` are role names, by default every role the principal holds; asking for a role
        the principal lacks raises `NotAllowed`, any other problem `InvalidInput` (all at once).
        """
        name = name.strip()
        problems: builtins.list[str] = []
        if not name or len(name) > MAX_NAME_CHARS or not name.isprintable():
            problems.append(
                f"the token name must be 1 to {MAX_NAME_CHARS} printable characters,"
                " e.g. 'nightly export'"
            )
        if not 1 <= expires_in_days <= MAX_EXPIRY_DAYS:
            problems.append(
                f"expires_in_days is {expires_in_days}; give a number of days from 1 to"
                f" {MAX_EXPIRY_DAYS}, e.g. {DEFAULT_EXPIRY_DAYS}"
            )
        wanted: frozenset[Role] = principal.roles
        if scopes is not None:
            wanted, scope_problems = parse_roles(scopes)
            problems += [f"scope: {problem}" for problem in scope_problems]
        if problems:
            raise InvalidInput(problems)
        beyond = sorted(wanted - principal.roles)
        if beyond:
            held = ", ".join(sorted(principal.roles)) or "no role"
            raise NotAllowed(
                f"a token cannot grant {', '.join(beyond)}: you hold {held}; ask for those"
                " scopes only"
            )
        owner = self.users.get(principal.username)
        if owner is None or owner.disabled:
            raise NotAllowed(f"'{principal.username}' is not an active account")
        secret = TOKEN_PREFIX + secrets.token_urlsafe(32)
        now = self._clock()
        token = self.store.add(
            username=principal.username,
            name=name,
            token_hash=token_hash(secret),
            scopes=wanted,
            created_at=now,
            expires_at=now + timedelta(days=expires_in_days),
        )
        self.audit.append(
            principal.username,
            "token.create",
            token.id,
            "succeeded",
            {
                "name": name,
                "scopes": sorted(wanted),
                "expires_at": token.expires_at.isoformat() if token.expires_at else None,
            },
        )
        return secret, token

    def list(self, principal: Principal, *, everyone: bool = False) -> builtins.list[ApiToken]:
        """The principal's own tokens; every user's with ``everyone`` (admins only)."""
        if everyone:
            if not principal.is_admin:
                raise NotAllowed("only admins may list every user's tokens")
            return self.store.list()
        return self.store.list(principal.username)

    def revoke(self, principal: Principal, token_id: str) -> ApiToken:
        """Revoke a token of the principal's (admins: anyone's). Revoking twice is harmless."""
        token = self.store.get(token_id)
        if token is None or (token.username != principal.username and not principal.is_admin):
            raise NotFound(f"there is no token '{token_id}' of yours; `tokens list` shows them")
        revoked = self.store.revoke(token_id, self._clock())
        if revoked is None:  # deleted with its owner in between
            raise NotFound(f"there is no token '{token_id}' of yours; `tokens list` shows them")
        self.audit.append(
            principal.username,
            "token.revoke",
            token_id,
            "succeeded",
            {"owner": token.username, "name": token.name},
        )
        return revoked

    def authenticate(self, secret: str) -> Principal | None:
        """The principal a presented secret acts as, or ``None`` when it is unknown, revoked,
        expired, its owner disabled or deleted, or none of its scopes is still the owner's."""
        if not secret.startswith(TOKEN_PREFIX) or len(secret) > MAX_TOKEN_CHARS:
            return None
        presented = token_hash(secret)
        found = self.store.by_hash(presented)
        if found is None:
            return None
        token, stored = found
        if not hmac.compare_digest(stored, presented):
            return None
        now = self._clock()
        if token.state(now) != "active":
            return None
        owner = self.users.get(token.username)
        if owner is None or owner.disabled:
            return None
        principal = token.grants(owner.principal())
        if principal is None:
            return None
        self.store.touch(token.id, now, unless_since=now - LAST_USED_PRECISION)
        return principal
