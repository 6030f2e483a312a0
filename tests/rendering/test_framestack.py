"""A call on a roomy frame stack: same result, and no frame-stack churn under it."""

from __future__ import annotations

import resource
import sys

import pytest

from reportgen.rendering.framestack import on_roomy_stack


def _depth(n: int) -> int:
    return 0 if n == 0 else _depth(n - 1) + 1


def _back_and_forth(depth: int, times: int) -> int:
    """Recurse to `depth` and back `times` times: every chunk boundary on the way is crossed
    twice per round, which is what makes CPython map and unmap a chunk each time."""
    return sum(_depth(depth) for _ in range(times))


def _page_faults(call: object) -> int:
    before = resource.getrusage(resource.RUSAGE_THREAD).ru_minflt
    call()  # type: ignore[operator]
    return resource.getrusage(resource.RUSAGE_THREAD).ru_minflt - before


def test_returns_what_the_function_returns() -> None:
    assert on_roomy_stack(divmod, 17, 5) == (3, 2)
    assert on_roomy_stack(sorted, [3, 1, 2], reverse=True) == [3, 2, 1]


def test_raises_what_the_function_raises() -> None:
    with pytest.raises(ZeroDivisionError):
        on_roomy_stack(divmod, 1, 0)


def test_a_nested_call_gets_room_too() -> None:
    assert on_roomy_stack(on_roomy_stack, _back_and_forth, 50, 3) == 150


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="RUSAGE_THREAD is Linux's")
def test_recursion_under_it_does_not_map_a_chunk_per_crossing() -> None:
    on_roomy_stack(_back_and_forth, 10, 1)  # the roomy caller compiled, its chunk once faulted in
    rounds = 2_000
    faults = _page_faults(lambda: on_roomy_stack(_back_and_forth, 300, rounds))
    # A CPython that maps a chunk per crossing takes at least one fault per round (10,000
    # measured on 3.11); under the roomy frame it takes about 40, all of them its own frame's.
    assert faults < rounds / 10
