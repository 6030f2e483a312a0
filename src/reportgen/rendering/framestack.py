"""Deep recursion without CPython's frame-stack churn: run a call with room on the stack.

CPython keeps the frames of Python functions on a per-thread stack made of chunks (16 KiB
each). A call that does not fit in the current chunk maps a new one, and returning from that
call unmaps it again: code whose recursion keeps going back and forth across a chunk's end
maps, faults in and unmaps 16 KiB every time (CPython issue gh-142183; the CPython 3.11 this
project runs on has it). WeasyPrint lays out by deep recursion and crosses such a boundary
thousands of times per report. On the standard report, a render laid out under
`on_roomy_stack` takes about 45 ms less CPU in its process and 30 ms less in the forked
child that lays out the front part, with the same bytes (`make bench`: pdf.standard.warm_s).

`on_roomy_stack` calls through one function whose frame is large (it has thousands of
locals it never sets), so CPython gives it a chunk of its own with about 135 KiB to spare:
calls made under it that recurse no deeper than that (some 500 of WeasyPrint's frames) stay
inside that chunk instead of crossing a boundary. A call already under a roomy frame runs
as it is: a second large frame would take most of the first one's room.
"""

from __future__ import annotations

import threading
import types
from collections.abc import Callable
from functools import cache
from typing import ParamSpec, TypeVar, cast

_P = ParamSpec("_P")
_R = TypeVar("_R")

ROOM_LOCALS = 15_500
"""Locals of the roomy frame. CPython sizes a new chunk by doubling 16 KiB until it holds the
frame plus 1,000 slots of 8 bytes: at 15,370 locals or more that is a 256 KiB chunk, of which
the frame (≈121 KiB) leaves ≈135 KiB; below, a 128 KiB chunk with hardly any room left."""

_under = threading.local()


def on_roomy_stack(function: Callable[_P, _R], *args: _P.args, **kwargs: _P.kwargs) -> _R:
    """`function(*args, **kwargs)`, called with a frame-stack chunk of its own (see above)."""
    if getattr(_under, "roomy", False):
        return function(*args, **kwargs)
    _under.roomy = True
    try:
        return cast(_R, _roomy_caller()(function, *args, **kwargs))
    finally:
        _under.roomy = False


@cache
def _roomy_caller() -> Callable[..., object]:
    # The same function with thousands more local names: none is ever set, but a frame has a
    # slot for every local. The names go after the parameters, so the code is unchanged.
    code = _call.__code__
    names = tuple(f"_room{i}" for i in range(ROOM_LOCALS))
    roomy = code.replace(
        co_varnames=code.co_varnames + names, co_nlocals=code.co_nlocals + len(names)
    )
    return cast(Callable[..., object], types.FunctionType(roomy, _call.__globals__, "roomy"))


def _call(function: Callable[..., object], /, *args: object, **kwargs: object) -> object:
    return function(*args, **kwargs)
