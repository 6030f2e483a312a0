"""API tokens: named, expiring, revocable bearer credentials that act for one user.

A token's ``scopes`` are roles. What a request made with it may do is the intersection of those
roles with the roles its owner holds *now*, so demoting a user demotes every token they made.
"""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict

from reportgen.domain.principal import Principal, Role


class ApiToken(BaseModel):
    """A stored token, without its secret (only a SHA-256 of it is ever kept)."""

    model_config = ConfigDict(frozen=True)

    id: str
    username: str
    name: str
    scopes: frozenset[Role]
    created_at: datetime
    expires_at: datetime | None = None
    last_used_at: datetime | None = None
    revoked_at: datetime | None = None

    def state(self, now: datetime) -> str:
        """``active``, ``expired`` or ``revoked``, as a list of tokens shows it."""
        if self.revoked_at is not None:
            return "revoked"
        if self.expires_at is not None and self.expires_at <= now:
            return "expired"
        return "active"

    def grants(self, owner: Principal) -> Principal | None:
        """The principal a request with this token acts as: the owner, limited to the token's
        scopes; ``None`` when none of the scopes is still the owner's."""
        roles = self.scopes & owner.roles
        if not roles:
            return None
        return owner.model_copy(update={"roles": frozenset(roles)})
