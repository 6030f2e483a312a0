"""TokenRepository: API tokens stored by hash, listed, revoked and touched, on both backends."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from reportgen.domain.principal import Role
from reportgen.domain.tokens import ApiToken
from reportgen.store import MetadataStore
from reportgen.store.tables import api_tokens
from reportgen.store.tokens import TokenRepository

T0 = datetime(2026, 11, 1, 9, 0, tzinfo=UTC)


@pytest.fixture
def tokens(store: MetadataStore) -> TokenRepository:
    for name in ("alice", "bob"):
        store.users.add(name, name.title(), f"{name}@example.com", "long enough", {Role.AUTHOR})
    return TokenRepository(store.engine)


def add(tokens: TokenRepository, username: str = "alice", digest: str = "a" * 64) -> ApiToken:
    return tokens.add(
        username=username,
        name="nightly export",
        token_hash=digest,
        scopes={Role.VIEWER, Role.AUTHOR},
        created_at=T0,
        expires_at=T0 + timedelta(days=30),
    )


def test_a_token_is_found_by_its_hash_only(tokens: TokenRepository) -> None:
    token = add(tokens)

    found = tokens.by_hash("a" * 64)

    assert found == (token, "a" * 64)
    assert token.scopes == {Role.VIEWER, Role.AUTHOR}
    assert token.expires_at == T0 + timedelta(days=30)
    assert tokens.by_hash("b" * 64) is None
    assert tokens.get(token.id) == token


def test_the_table_holds_no_secret_and_sorted_scopes(
    tokens: TokenRepository, store: MetadataStore
) -> None:
    add(tokens)

    with store.engine.connect() as connection:
        row = connection.execute(select(api_tokens)).one()

    assert row.token_hash == "a" * 64
    assert row.scopes == ["author", "viewer"]


def test_two_tokens_cannot_share_a_hash(tokens: TokenRepository) -> None:
    add(tokens)

    with pytest.raises(IntegrityError):
        add(tokens, "bob")


def test_list_is_per_user_or_everyone(tokens: TokenRepository) -> None:
    mine = add(tokens, "alice", "a" * 64)
    theirs = add(tokens, "bob", "b" * 64)

    assert tokens.list("alice") == [mine]
    assert {t.id for t in tokens.list()} == {mine.id, theirs.id}


def test_revoking_keeps_the_first_revocation_time(tokens: TokenRepository) -> None:
    token = add(tokens)

    first = tokens.revoke(token.id, T0 + timedelta(hours=1))
    again = tokens.revoke(token.id, T0 + timedelta(hours=2))

    assert first is not None and first.revoked_at == T0 + timedelta(hours=1)
    assert again is not None and again.revoked_at == T0 + timedelta(hours=1)
    assert tokens.revoke("no-such-token", T0) is None


def test_touch_writes_at_most_once_per_window(tokens: TokenRepository) -> None:
    token = add(tokens)
    used = T0 + timedelta(minutes=5)

    tokens.touch(token.id, used, unless_since=used - timedelta(minutes=1))
    tokens.touch(token.id, used + timedelta(seconds=30), unless_since=used - timedelta(seconds=30))
    assert tokens.get(token.id).last_used_at == used  # type: ignore[union-attr]

    later = used + timedelta(minutes=2)
    tokens.touch(token.id, later, unless_since=later - timedelta(minutes=1))
    assert tokens.get(token.id).last_used_at == later  # type: ignore[union-attr]


def test_deleting_the_owner_deletes_the_tokens(
    tokens: TokenRepository, store: MetadataStore
) -> None:
    token = add(tokens)

    with store.engine.begin() as connection:
        connection.exec_driver_sql("DELETE FROM users WHERE username = 'alice'")

    assert tokens.get(token.id) is None
