"""Sign-in throttling on both backends: the failure counts in the store, and
`UserService.authenticate` refusing a username for a growing delay after too many failures."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta

import pytest

from reportgen.domain.principal import Role
from reportgen.services.users import (
    MAX_ATTEMPTED_NAME,
    SignInRefused,
    SignInThrottle,
    UserService,
    attempted_name,
)
from reportgen.store import MetadataStore

T0 = datetime(2026, 3, 1, 9, 0, tzinfo=UTC)
PASSWORD = "correct horse"


class Clock:
    """A clock the test moves by hand."""

    def __init__(self) -> None:
        self.now = T0

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> None:
        self.now += timedelta(**delta)


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def users(store: MetadataStore, clock: Clock) -> UserService:
    service = UserService(store.users, store.audit, store.sign_ins, clock=clock)
    store.users.add("alice", "Alice", "", PASSWORD, {Role.AUTHOR})
    return service


def sign_in_events(store: MetadataStore) -> list[tuple[str, str, dict[str, object]]]:
    events = reversed(store.audit.list(action="user.sign_in"))
    return [(e.actor, e.outcome, dict(e.details)) for e in events]


# -- the store --------------------------------------------------------------------------------


def test_failures_count_in_a_row_and_are_forgotten_when_old(store: MetadataStore) -> None:
    failures = store.sign_ins
    forget = T0 - timedelta(hours=1)

    assert failures.locked_until("bob") is None
    assert [failures.record_failure("bob", at=T0, forget_before=forget) for _ in range(3)] == [
        1,
        2,
        3,
    ]
    later = T0 + timedelta(hours=2)
    assert failures.record_failure("bob", at=later, forget_before=later - timedelta(hours=1)) == 1
    assert failures.record_failure("carol", at=T0, forget_before=forget) == 1


def test_a_lock_is_only_ever_extended(store: MetadataStore) -> None:
    failures = store.sign_ins
    failures.record_failure("bob", at=T0, forget_before=T0)

    failures.lock("bob", T0 + timedelta(minutes=5))
    failures.lock("bob", T0 + timedelta(minutes=1))  # a slower request, arriving late

    assert failures.locked_until("bob") == T0 + timedelta(minutes=5)
    failures.clear("bob")
    assert failures.locked_until("bob") is None
    assert failures.record_failure("bob", at=T0, forget_before=T0) == 1


def test_concurrent_failures_are_all_counted(store: MetadataStore) -> None:
    threads_count, per_thread = 4, 10
    start = threading.Barrier(threads_count)
    counts: list[int] = []
    lock = threading.Lock()

    def fail() -> None:
        start.wait(timeout=30)
        for _ in range(per_thread):
            count = store.sign_ins.record_failure("bob", at=T0, forget_before=T0)
            with lock:
                counts.append(count)

    threads = [threading.Thread(target=fail) for _ in range(threads_count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)

    assert sorted(counts) == list(range(1, threads_count * per_thread + 1))


# -- the policy -------------------------------------------------------------------------------


def test_the_lock_grows_after_the_free_failures_and_is_capped() -> None:
    throttle = SignInThrottle()

    assert [throttle.lock_after(n) for n in range(1, 5)] == [None] * 4
    assert throttle.lock_after(5) == timedelta(seconds=30)
    assert throttle.lock_after(6) == timedelta(seconds=60)
    assert throttle.lock_after(7) == timedelta(seconds=120)
    assert throttle.lock_after(1000) == timedelta(hours=1)


# -- UserService.authenticate -----------------------------------------------------------------


def test_a_correct_password_signs_in_and_is_audited(
    users: UserService, store: MetadataStore
) -> None:
    principal = users.authenticate("  Alice ", PASSWORD)

    assert principal is not None and principal.username == "alice"
    assert sign_in_events(store) == [("alice", "succeeded", {})]


def test_after_too_many_failures_even_the_right_password_is_refused_for_a_while(
    users: UserService, store: MetadataStore, clock: Clock
) -> None:
    for _ in range(4):
        assert users.authenticate("alice", "wrong guess") is None
    assert users.authenticate("alice", "wrong guess") is None  # the 5th: now locked for 30 s

    clock.advance(seconds=10)
    with pytest.raises(SignInRefused) as refused:
        users.authenticate("alice", PASSWORD)
    assert str(refused.value) == (
        "Too many failed sign-in attempts for this username. Try again in 20 seconds."
    )
    assert refused.value.retry_after == timedelta(seconds=20)

    clock.advance(seconds=21)  # the lock is over; one more failure locks for twice as long
    assert users.authenticate("alice", "wrong again") is None
    clock.advance(seconds=59)
    with pytest.raises(SignInRefused, match="Try again in 1 second"):
        users.authenticate("alice", PASSWORD)
    clock.advance(seconds=1)
    assert users.authenticate("alice", PASSWORD) is not None

    outcomes = [(outcome, details.get("reason")) for _, outcome, details in sign_in_events(store)]
    assert outcomes == [
        *[("failed", "wrong password")] * 5,
        ("denied", "too many failed attempts"),
        ("failed", "wrong password"),
        ("denied", "too many failed attempts"),
        ("succeeded", None),
    ]
    fifth = sign_in_events(store)[4][2]
    assert fifth["failures"] == 5
    assert fifth["locked_until"] == (T0 + timedelta(seconds=30)).isoformat()


def test_a_success_forgets_the_failures(users: UserService, clock: Clock) -> None:
    for _ in range(4):
        users.authenticate("alice", "wrong guess")
    assert users.authenticate("alice", PASSWORD) is not None

    for _ in range(4):
        assert users.authenticate("alice", "wrong guess") is None
    assert users.authenticate("alice", PASSWORD) is not None  # not locked: the count restarted


def test_unknown_usernames_are_throttled_alike_and_audited_as_typed(
    users: UserService, store: MetadataStore
) -> None:
    typed = "Mallory\x00\nthe " + "x" * 100
    for _ in range(5):
        assert users.authenticate(typed, "guess") is None
    with pytest.raises(SignInRefused):
        users.authenticate(typed, "guess")

    name = attempted_name(typed)
    assert name.startswith("mallory\N{REPLACEMENT CHARACTER} the xxx")
    assert len(name) == MAX_ATTEMPTED_NAME and name.endswith("…")
    events = sign_in_events(store)
    assert {actor for actor, _, _ in events} == {name}
    assert events[0][2]["reason"] == "unknown user"
    assert [outcome for _, outcome, _ in events] == ["failed"] * 5 + ["denied"]
    assert "?" not in {actor for actor, _, _ in events}


def test_a_disabled_account_cannot_sign_in(users: UserService, store: MetadataStore) -> None:
    store.users.set_disabled("alice", True)

    assert users.authenticate("alice", PASSWORD) is None
    assert sign_in_events(store)[-1][2]["reason"] == "account disabled"


@pytest.mark.parametrize(("typed", "expected"), [("", "(blank)"), ("  Ana  ", "ana")])
def test_attempted_names_are_readable(typed: str, expected: str) -> None:
    assert attempted_name(typed) == expected
