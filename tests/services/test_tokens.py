"""ApiTokenService: secrets shown once and stored hashed; revoked, expired and demoted tokens."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from reportgen.bootstrap import Services
from reportgen.domain.principal import Role
from reportgen.errors import InvalidInput, NotAllowed, NotFound
from reportgen.services.tokens import TOKEN_PREFIX, ApiTokenService
from reportgen.store.tables import api_tokens
from reportgen.store.tokens import TokenRepository
from tests.conftest import ADMIN, ANA, VICTOR


class Clock:
    """A settable clock: tests move time instead of waiting for it."""

    def __init__(self) -> None:
        self.now = datetime(2026, 11, 2, 8, 0, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def tokens(services: Services, clock: Clock) -> ApiTokenService:
    return ApiTokenService(
        TokenRepository(services.store.engine),
        services.store.users,
        services.store.audit,
        clock=clock,
    )


def test_the_secret_is_shown_once_and_only_its_hash_is_stored(
    tokens: ApiTokenService, services: Services
) -> None:
    secret, token = tokens.create(ANA, "nightly export", expires_in_days=30)

    with services.store.engine.connect() as connection:
        stored = connection.execute(select(api_tokens.c.token_hash)).scalar_one()
    assert secret.startswith(TOKEN_PREFIX)
    assert len(secret) >= 40
    assert stored == hashlib.sha256(secret.encode()).hexdigest()
    assert secret not in str(services.store.audit.list())
    assert token.scopes == {Role.AUTHOR}
    assert token.expires_at == datetime(2026, 12, 2, 8, 0, tzinfo=UTC)


def test_a_valid_secret_acts_as_its_owner_and_records_the_use(
    tokens: ApiTokenService, clock: Clock
) -> None:
    secret, _ = tokens.create(ANA, "ci")
    clock.now += timedelta(minutes=3)

    principal = tokens.authenticate(secret)

    assert principal is not None
    assert principal.username == "ana"
    assert principal.roles == {Role.AUTHOR}
    assert principal.attributes == {"region": ("EMEA",)}
    assert tokens.list(ANA)[0].last_used_at == clock.now


@pytest.mark.parametrize(
    "presented",
    ["", "rgt_", "not-a-token", TOKEN_PREFIX + "x" * 43, TOKEN_PREFIX + "y" * 500],
)
def test_unknown_secrets_are_refused(tokens: ApiTokenService, presented: str) -> None:
    tokens.create(ANA, "ci")

    assert tokens.authenticate(presented) is None


def test_a_revoked_token_is_refused(tokens: ApiTokenService) -> None:
    secret, token = tokens.create(ANA, "ci")

    revoked = tokens.revoke(ANA, token.id)

    assert revoked.revoked_at is not None
    assert revoked.state(revoked.revoked_at) == "revoked"
    assert tokens.authenticate(secret) is None


def test_an_expired_token_is_refused(tokens: ApiTokenService, clock: Clock) -> None:
    secret, _ = tokens.create(ANA, "ci", expires_in_days=1)
    clock.now += timedelta(days=1) - timedelta(seconds=1)
    assert tokens.authenticate(secret) is not None

    clock.now += timedelta(seconds=1)

    assert tokens.authenticate(secret) is None


def test_a_token_cannot_ask_for_a_role_its_owner_lacks(tokens: ApiTokenService) -> None:
    with pytest.raises(NotAllowed, match="cannot grant admin: you hold author"):
        tokens.create(ANA, "escalate", scopes=["admin"])


def test_a_narrower_scope_limits_the_principal(tokens: ApiTokenService, services: Services) -> None:
    services.users.set_roles("ana", ["author", "viewer"])
    both = ANA.model_copy(update={"roles": frozenset({Role.AUTHOR, Role.VIEWER})})

    secret, token = tokens.create(both, "read only", scopes=["Viewer "])

    assert token.scopes == {Role.VIEWER}
    principal = tokens.authenticate(secret)
    assert principal is not None and principal.roles == {Role.VIEWER}


def test_a_demoted_owner_demotes_the_token(tokens: ApiTokenService, services: Services) -> None:
    services.users.set_roles("ana", ["author", "viewer"])
    both = ANA.model_copy(update={"roles": frozenset({Role.AUTHOR, Role.VIEWER})})
    secret, _ = tokens.create(both, "ci")

    services.users.set_roles("ana", ["viewer"])

    principal = tokens.authenticate(secret)
    assert principal is not None and principal.roles == {Role.VIEWER}
    services.users.set_roles("ana", ["admin"])
    assert tokens.authenticate(secret) is None


def test_a_disabled_owner_disables_the_token(tokens: ApiTokenService, services: Services) -> None:
    secret, _ = tokens.create(ANA, "ci")

    services.store.users.set_disabled("ana", True)

    assert tokens.authenticate(secret) is None


def test_bad_input_is_reported_all_at_once(tokens: ApiTokenService) -> None:
    with pytest.raises(InvalidInput) as caught:
        tokens.create(ANA, "  ", scopes=["writer"], expires_in_days=0)

    problems = caught.value.problems
    assert len(problems) == 3
    assert any("token name" in p for p in problems)
    assert any("expires_in_days is 0" in p for p in problems)
    assert any("unknown role 'writer'" in p for p in problems)


def test_only_the_owner_or_an_admin_may_revoke(tokens: ApiTokenService) -> None:
    _, token = tokens.create(ANA, "ci")

    with pytest.raises(NotFound):
        tokens.revoke(VICTOR, token.id)
    tokens.revoke(ADMIN, token.id)

    assert tokens.list(ANA)[0].revoked_at is not None


def test_only_admins_list_everyone(tokens: ApiTokenService) -> None:
    tokens.create(ANA, "ci")
    tokens.create(ADMIN, "ops")

    assert [t.name for t in tokens.list(ANA)] == ["ci"]
    assert {t.name for t in tokens.list(ADMIN, everyone=True)} == {"ci", "ops"}
    with pytest.raises(NotAllowed):
        tokens.list(ANA, everyone=True)


def test_creating_and_revoking_are_audited(tokens: ApiTokenService, services: Services) -> None:
    _, token = tokens.create(ANA, "ci")
    tokens.revoke(ANA, token.id)

    actions = [(e.action, e.target) for e in services.store.audit.list(actor="ana")]
    assert ("token.create", token.id) in actions
    assert ("token.revoke", token.id) in actions
