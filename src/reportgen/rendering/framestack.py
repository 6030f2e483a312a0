"""Deep recursion without CPython's frame-stack churn: run a call with room on the stack.

CPython keeps the frames of Python functions on a per-thread stack made of chunks (16 KiB
each). A call that does not fit in the current chunk maps a new one, and returning from that
call unmaps it again: code whose recursion keeps going back and forth across a chunk's end
maps, faults in and unmaps 16 KiB every time (CPython gh-142183: fixed in 3.13 and 3.14 in
spring 2026 by keeping a spare chunk; 3.11 and 3.12 take security fixes only, and keep it). WeasyPrint lays out by deep recursion and
crosses such a boundary thousands of times per report: measured on the standard report, its
back part took 4,361 page faults and 36 ms of system time per layout, and 183 and 4 ms when
laid out by `on_roomy_stack`; a whole render 70 ms less CPU in the process that lays it out.

`on_roomy_stack` calls through one function whose frame is large (it has thousands of
locals it never sets), so CPython gives it a chunk of its own with room to spare: the calls
made under it, however they recurse, stay inside that chunk instead of crossing a boundary.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import cache
from typing import ParamSpec, TypeVar, cast

_P = ParamSpec("_P")
_R = TypeVar("_R")

ROOM_LOCALS = 15_500
"""Locals of the roomy frame. CPython sizes a new chunk by doubling 16 KiB until it holds the
frame plus 1,000 slots; 15,500 slots (124 KiB) take a 256 KiB chunk and leave about 130 KiB,
some 500 frames of WeasyPrint's layout, for the calls made under it."""


def on_roomy_stack(function: Callable[_P, _R], *args: _P.args, **kwargs: _P.kwargs) -> _R:
    """`function(*args, **kwargs)`, called with a frame-stack chunk of its own (see above)."""
    return cast(_R, _roomy_caller()(function, *args, **kwargs))


@cache
def _roomy_caller() -> Callable[..., object]:
    # The locals are named in code that never runs: the compiler drops the statement but
    # still counts the names, and a frame has a slot for every local, set or not.
    names = " = ".join(f"_{i}" for i in range(ROOM_LOCALS))
    source = (
        "def roomy(function, /, *args, **kwargs):\n"
        f"    if 0:\n        {names} = None\n"
        "    return function(*args, **kwargs)\n"
    )
    namespace: dict[str, Callable[..., object]] = {}
    exec(compile(source, "<reportgen.rendering.framestack>", "exec"), namespace)  # noqa: S102 - our own fixed source, no input in it
    return namespace["roomy"]
