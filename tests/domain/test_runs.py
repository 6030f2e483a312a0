"""The run state machine and its backoff: legal moves only, jittered waits within their caps."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from reportgen.domain.runs import (
    TRANSITIONS,
    IllegalTransition,
    RunStatus,
    Stage,
    backoff_delay,
    check_transition,
    is_stale,
    retries_left,
    stage_timeout_reason,
)
from reportgen.domain.schedules import RetryPolicy

LIFE = [
    (None, RunStatus.PENDING),
    (RunStatus.PENDING, RunStatus.RUNNING),
    (RunStatus.RUNNING, RunStatus.RUNNING),
    (RunStatus.RUNNING, RunStatus.FAILED),
    (RunStatus.FAILED, RunStatus.RETRYING),
    (RunStatus.RETRYING, RunStatus.RUNNING),
    (RunStatus.RUNNING, RunStatus.FAILED),
    (RunStatus.FAILED, RunStatus.DEAD),
    (RunStatus.DEAD, RunStatus.RETRYING),
]


@pytest.mark.parametrize(("current", "new"), LIFE)
def test_the_documented_life_of_a_run_is_legal(current: RunStatus | None, new: RunStatus) -> None:
    check_transition(current, new)


@pytest.mark.parametrize(
    ("current", "new"),
    [
        (RunStatus.SUCCEEDED, RunStatus.RUNNING),
        (RunStatus.SKIPPED, RunStatus.PENDING),
        (RunStatus.PENDING, RunStatus.SUCCEEDED),
        (RunStatus.FAILED, RunStatus.SUCCEEDED),
        (None, RunStatus.RUNNING),
        (RunStatus.DEAD, RunStatus.RUNNING),
    ],
)
def test_illegal_moves_are_refused_with_the_way_out(
    current: RunStatus | None, new: RunStatus
) -> None:
    with pytest.raises(IllegalTransition, match=f"cannot go from .* to {new}"):
        check_transition(current, new)


def test_finished_runs_go_nowhere() -> None:
    assert TRANSITIONS[RunStatus.SUCCEEDED] == frozenset()
    with pytest.raises(IllegalTransition, match="nothing \\(it is finished\\)"):
        check_transition(RunStatus.SUCCEEDED, RunStatus.RETRYING)


def test_backoff_grows_exponentially_up_to_the_cap() -> None:
    policy = RetryPolicy(max_attempts=10, base_delay_s=10, max_delay_s=100)
    caps = [backoff_delay(policy, attempt, lambda: 0.999999) for attempt in range(1, 7)]
    assert caps == pytest.approx([10, 20, 40, 80, 100, 100], rel=1e-5)


def test_backoff_is_full_jitter_below_the_cap() -> None:
    policy = RetryPolicy(base_delay_s=60, max_delay_s=1800)
    assert backoff_delay(policy, 3, lambda: 0.0) == 0.0
    assert backoff_delay(policy, 3, lambda: 0.5) == pytest.approx(120.0)
    assert backoff_delay(policy, 40, lambda: 0.5) == pytest.approx(900.0)


def test_retries_end_at_max_attempts() -> None:
    policy = RetryPolicy(max_attempts=3)
    assert [retries_left(policy, n) for n in (1, 2, 3)] == [True, True, False]


def test_staleness_and_timeout_reasons() -> None:
    now = datetime(2026, 11, 29, 8, tzinfo=UTC)
    assert is_stale(now - timedelta(seconds=31), now, 30)
    assert not is_stale(now - timedelta(seconds=29), now, 30)
    assert is_stale(None, now, 30)
    assert stage_timeout_reason(Stage.RENDERING, 300) == "rendering took longer than 300 s"
    assert stage_timeout_reason(Stage.DELIVERING, 120.0) == "delivering took longer than 120 s"
