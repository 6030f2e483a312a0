"""UserRepository: accounts, validation, and bcrypt password checks, on both backends."""

from __future__ import annotations

import bcrypt
import pytest
from sqlalchemy import select

from reportgen.domain.principal import Role, User
from reportgen.errors import InvalidInput, NotFound
from reportgen.store import MetadataStore
from reportgen.store.tables import users

PASSWORD = "correct horse"


def add_alice(store: MetadataStore, **overrides: object) -> User:
    values: dict[str, object] = {
        "username": "alice",
        "display_name": "Alice Martin",
        "email": "alice@example.com",
        "password": PASSWORD,
        "roles": {Role.AUTHOR},
        "attributes": {"region": "EMEA", "department": ["Sales", "Ops"]},
    }
    values.update(overrides)
    return store.users.add(**values)  # type: ignore[arg-type]


def test_add_returns_the_stored_user(store: MetadataStore) -> None:
    user = add_alice(store)

    assert user == User(
        username="alice",
        display_name="Alice Martin",
        email="alice@example.com",
        roles=frozenset({Role.AUTHOR}),
        attributes={"region": ("EMEA",), "department": ("Sales", "Ops")},
    )
    assert store.users.get("alice") == user
    assert store.users.require("alice") == user


def test_add_accepts_positional_fields(store: MetadataStore) -> None:
    user = store.users.add("bob", "Bob", "bob@example.com", PASSWORD, [Role.VIEWER, Role.ADMIN], {})

    assert user.roles == frozenset({Role.VIEWER, Role.ADMIN})
    assert store.users.get("bob") == user


def test_role_names_are_not_parsed_here(store: MetadataStore) -> None:
    """Reading role names is the service's job (`parse_roles`); the store takes `Role`s only."""
    with pytest.raises(InvalidInput, match="unknown role ' Viewer'"):
        store.users.add("bob", "Bob", "", PASSWORD, [" Viewer"], {})  # type: ignore[list-item]

    assert store.users.list() == []


def test_list_returns_every_user_by_username(store: MetadataStore) -> None:
    for name in ("carol", "alice", "bob"):
        store.users.add(name, name.title(), "", PASSWORD, {Role.VIEWER})

    assert [user.username for user in store.users.list()] == ["alice", "bob", "carol"]


def test_unknown_users(store: MetadataStore) -> None:
    assert store.users.get("nobody") is None
    assert store.users.password_hash("nobody") is None
    with pytest.raises(NotFound, match="nobody"):
        store.users.require("nobody")
    with pytest.raises(NotFound, match="nobody"):
        store.users.set_roles("nobody", {Role.VIEWER})
    with pytest.raises(NotFound, match="nobody"):
        store.users.set_attribute("nobody", "region", "EMEA")
    with pytest.raises(NotFound, match="nobody"):
        store.users.set_password("nobody", PASSWORD)


def test_a_username_is_taken_once(store: MetadataStore) -> None:
    add_alice(store)

    with pytest.raises(InvalidInput, match="'alice' already exists"):
        add_alice(store, display_name="Another Alice")

    assert store.users.require("alice").display_name == "Alice Martin"


@pytest.mark.parametrize("username", ["Alice", "a", "1alice", "al ice", "alice!", "x" * 64, ""])
def test_bad_usernames_are_refused(store: MetadataStore, username: str) -> None:
    with pytest.raises(InvalidInput, match=r"username .* is not valid"):
        add_alice(store, username=username)

    assert store.users.list() == []


def test_short_passwords_are_refused(store: MetadataStore) -> None:
    with pytest.raises(InvalidInput, match="at least 8 characters"):
        add_alice(store, password="7chars!")


@pytest.mark.parametrize("password", ["x" * 73, "é" * 37])
def test_passwords_bcrypt_would_truncate_are_refused(store: MetadataStore, password: str) -> None:
    with pytest.raises(InvalidInput, match="at most 72 bytes"):
        add_alice(store, password=password)


def test_a_72_byte_password_is_accepted(store: MetadataStore) -> None:
    add_alice(store, password="é" * 36)

    assert store.users.verify_password("alice", "é" * 36) is not None


@pytest.mark.parametrize(
    ("roles", "message"),
    [(set(), "at least one role"), ({"superuser"}, "unknown role 'superuser'")],
)
def test_roles_are_checked(store: MetadataStore, roles: set[str], message: str) -> None:
    with pytest.raises(InvalidInput, match=message):
        add_alice(store, roles=roles)


def test_bad_attribute_names_are_refused(store: MetadataStore) -> None:
    with pytest.raises(InvalidInput, match="attribute name 'Region'"):
        add_alice(store, attributes={"Region": "EMEA"})


def test_nul_characters_are_refused(store: MetadataStore) -> None:
    with pytest.raises(InvalidInput, match="NUL"):
        add_alice(store, display_name="Alice\x00")


def test_every_problem_is_reported_at_once(store: MetadataStore) -> None:
    with pytest.raises(InvalidInput) as raised:
        add_alice(store, username="Bad Name", password="short", roles=set())

    assert len(raised.value.problems) == 3


def test_new_user_problems_lists_them_without_adding(store: MetadataStore) -> None:
    problems = store.users.new_user_problems(
        "Bad Name", display_name=" ", email="", password="short", attributes={"Region": "x"}
    )

    assert len(problems) == 4
    assert any("attribute name 'Region'" in problem for problem in problems)
    assert (
        store.users.new_user_problems(
            "alice", display_name="Alice", email="", password=PASSWORD, attributes={}
        )
        == []
    )
    assert store.users.list() == []


def test_only_a_bcrypt_hash_is_stored(store: MetadataStore) -> None:
    add_alice(store)

    stored = store.users.password_hash("alice")

    assert stored is not None
    assert stored.startswith("$2b$")
    assert PASSWORD not in stored
    assert bcrypt.checkpw(PASSWORD.encode(), stored.encode())


def test_verify_password(store: MetadataStore) -> None:
    alice = add_alice(store)

    assert store.users.verify_password("alice", PASSWORD) == alice
    assert store.users.verify_password("alice", PASSWORD + "!") is None
    assert store.users.verify_password("alice", "x" * 100) is None
    assert store.users.verify_password("mallory", PASSWORD) is None


def test_disabled_users_cannot_sign_in(store: MetadataStore) -> None:
    add_alice(store)

    disabled = store.users.set_disabled("alice", True)

    assert disabled.disabled
    assert store.users.verify_password("alice", PASSWORD) is None
    store.users.set_disabled("alice", False)
    assert store.users.verify_password("alice", PASSWORD) is not None


def test_set_password_replaces_the_old_one(store: MetadataStore) -> None:
    add_alice(store)

    store.users.set_password("alice", "a brand new secret")

    assert store.users.verify_password("alice", PASSWORD) is None
    assert store.users.verify_password("alice", "a brand new secret") is not None
    with pytest.raises(InvalidInput, match="at least 8 characters"):
        store.users.set_password("alice", "short")


def test_set_roles_replaces_them(store: MetadataStore) -> None:
    add_alice(store)

    updated = store.users.set_roles("alice", {Role.VIEWER, Role.ADMIN})

    assert updated.roles == frozenset({Role.VIEWER, Role.ADMIN})
    assert store.users.require("alice").roles == updated.roles
    with pytest.raises(InvalidInput, match="at least one role"):
        store.users.set_roles("alice", set())


def test_set_attributes_replaces_the_whole_dict(store: MetadataStore) -> None:
    add_alice(store)

    updated = store.users.set_attributes("alice", {"country": ["FR", "BE"]})

    assert updated.attributes == {"country": ("FR", "BE")}
    assert store.users.require("alice").attributes == {"country": ("FR", "BE")}


def test_set_attribute_changes_one_and_keeps_the_others(store: MetadataStore) -> None:
    add_alice(store)

    updated = store.users.set_attribute("alice", "region", ["APAC", "AMER"])

    assert updated.attributes == {"region": ("APAC", "AMER"), "department": ("Sales", "Ops")}
    assert store.users.require("alice") == updated


def test_updates_move_updated_at(store: MetadataStore) -> None:
    add_alice(store)
    store.users.set_roles("alice", {Role.ADMIN})

    with store.engine.connect() as connection:
        row = connection.execute(select(users.c.created_at, users.c.updated_at)).one()
    assert row.updated_at > row.created_at
