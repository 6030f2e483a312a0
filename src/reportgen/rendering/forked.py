"""Work done in a forked child beside the parent, with a way back if the child fails.

`reportgen.rendering.pdf` lays the front part of a long report out in a child while it lays
out the rest itself (ADR 0006). The child is forked, so it starts with the parent's imports,
fonts and data, and nothing has to be pickled to it; it sends its results back through a
pipe, one message at a time, and leaves with ``os._exit``.

Whoever starts a child must be ready to do its work: a child that cannot start (one core, no
process or file left), dies, hangs past `DEADLINE_S`, raises or sends garbage yields None
from `receive`, and is stopped.

    child = Child.start(work, "pdf-front")      # work(send) runs in the child
    laid = child.receive("laid") if child else None
    ...
    child.stop()
"""

from __future__ import annotations

import contextlib
import gc
import logging
import multiprocessing
import os
import time
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any

Message = tuple[Any, ...]
"""What a child sends: its kind first, e.g. ("laid", 9, {...})."""

Send = Callable[[Message], None]
Work = Callable[[Send], None]


DEADLINE_S = 600.0
"""How long a child may take in all. A child that dies is noticed at once (its pipe closes);
this only stops one that hangs (a lock inherited at the fork, say). It is longer than a
run's whole render stage (`Settings.render_timeout_s`, 300 s by default), so it never cuts a
healthy layout short."""

RELAYED_LOGGERS = ("weasyprint", "fontTools")
"""Loggers whose records the child sends back for the parent to log."""

_log = logging.getLogger(__name__)


class Child:
    """A forked child running `work(send)`; the parent reads its messages in order."""

    def __init__(self, process: Any, connection: Any, name: str) -> None:
        self._process = process
        self._connection = connection
        self._name = name
        self._deadline = time.monotonic() + DEADLINE_S
        self._done = False  # the child said "done": it is on its way out

    @classmethod
    def start(cls, work: Work, name: str) -> Child | None:
        """The child started, or None where one would not help (one core) or cannot start
        (no process or file left): the caller then does the work itself."""
        if usable_cores() < 2:
            return None
        context = multiprocessing.get_context("fork")
        try:
            receiver, sender = context.Pipe(duplex=False)
        except OSError as exc:
            _log.warning("%s runs in this process: no pipe (%s)", name, exc)
            return None
        process = context.Process(
            target=_child, args=(sender, receiver, work), name=f"reportgen-{name}"
        )
        try:
            with warnings.catch_warnings():
                # Python 3.12+ warns about fork() in a process with threads. Callers hold a
                # lock that keeps their own threads out of the libraries the child uses; the
                # child touches nothing else and leaves with os._exit.
                warnings.simplefilter("ignore", DeprecationWarning)
                process.start()
        except OSError as exc:  # out of processes or memory: the fork failed
            _log.warning("%s runs in this process: no child (%s)", name, exc)
            receiver.close()
            sender.close()
            return None
        sender.close()
        return cls(process, receiver, name)

    def receive(self, kind: str, *, last: bool = False) -> Message | None:
        """The next message if it is of `kind`, else None (the child failed and is stopped).
        Log records the child relayed before it are logged here. `last`: the child has no
        more to send, and `stop` lets it leave on its own."""
        try:
            while self._connection.poll(max(0.0, self._deadline - time.monotonic())):
                message: Message = self._connection.recv()
                if message[0] == "log":
                    logging.getLogger(message[1]).log(message[2], "%s", message[3])
                    continue
                if message[0] == kind:
                    self._done = last
                    return message
                _log.warning("%s failed in its process: %s", self._name, message[1])
                break
            else:
                _log.warning("%s took over %.0f s; stopped", self._name, DEADLINE_S)
        except (EOFError, OSError) as exc:
            _log.warning("%s ended early (%r)", self._name, exc)
        except Exception as exc:  # noqa: BLE001 - a garbled message: the caller does the work
            _log.warning("%s sent what cannot be read (%r)", self._name, exc)
        self._deadline = 0.0  # once failed, never waited for again
        self._process.kill()
        return None

    def stop(self) -> None:
        """Reap the child; one that has not sent everything by now is killed at once."""
        self._connection.close()
        if not self._done:
            self._process.kill()
        self._process.join(1.0)
        if self._process.exitcode is None:
            self._process.kill()
            self._process.join()
        self._process.close()


class _Relay(logging.Handler):
    """Sends the child's log records to the parent, in order with its other messages."""

    def __init__(self, send: Callable[[Message], None]) -> None:
        super().__init__(logging.INFO)
        self._send = send

    def emit(self, record: logging.LogRecord) -> None:
        self._send(("log", record.name, record.levelno, record.getMessage()))


def _child(connection: Any, parents_end: Any, work: Work) -> None:
    """The child's whole life: run `work`, and leave at once with os._exit (no exit handlers,
    no flushing of files shared with the parent)."""
    code = 1
    try:
        # Objects inherited from the parent are never collected here: their finalizers could
        # wait on locks that threads of the parent held at the fork.
        gc.freeze()
        _first_to_go()
        parents_end.close()
        relay = _Relay(connection.send)
        for name in RELAYED_LOGGERS:
            logger = logging.getLogger(name)
            logger.handlers = [relay]  # the parent's handlers write to copies of its files
            logger.propagate = False
        try:
            work(connection.send)
            code = 0
        except BaseException as exc:  # noqa: BLE001 - the parent does the work and raises
            connection.send(("failed", f"{type(exc).__name__}: {exc}"))
    except BaseException:  # noqa: BLE001, S110 - the parent sees the pipe close and does the work
        pass
    finally:
        os._exit(code)


def _first_to_go() -> None:
    """Ask the kernel to end this child first if memory runs out: it is the cheapest process
    to lose (the parent does its work), unlike the web server or the scheduler it forked from."""
    with contextlib.suppress(OSError):
        Path("/proc/self/oom_score_adj").write_text("1000")


def usable_cores(cpu_max: Path = Path("/sys/fs/cgroup/cpu.max")) -> int:
    """The cores this process may use: its CPU affinity, bounded by a cgroup CPU quota (a
    container limited to one CPU still sees every core of its host)."""
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    cores = cores or 1
    try:
        quota, period = cpu_max.read_text().split()[:2]
        if quota == "max":
            return cores
        return max(1, min(cores, int(quota) // max(1, int(period))))
    except (OSError, ValueError):
        return cores
