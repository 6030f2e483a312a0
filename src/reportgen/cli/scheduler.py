"""`reportgen scheduler`: the scheduler process, with the REST API, until SIGTERM or Ctrl-C."""

from __future__ import annotations

import functools
import signal
import threading
from types import FrameType

from reportgen.cli._app import app
from reportgen.cli._boundary import operator, out, sentences, settings
from reportgen.scheduler.running import run_scheduler
from reportgen.services.audit import audit_context


@app.command()
def scheduler() -> None:
    """Run saved schedules and serve the REST API (on REPORTGEN_API_PORT).

    One scheduler leads per deployment; a second copy waits as a standby and takes over within
    15 s when the leader dies. SIGTERM or Ctrl-C stops it gracefully: no new runs start, runs in
    flight get 25 s to finish, the leader lock is released.
    """
    config = settings()
    stop = threading.Event()

    def request_stop(_signum: int, _frame: FrameType | None) -> None:
        stop.set()

    signal.signal(signal.SIGTERM, request_stop)
    signal.signal(signal.SIGINT, request_stop)
    say = functools.partial(out.print, highlight=False, soft_wrap=True)
    with sentences(), audit_context(operator=operator(), via="scheduler"):
        run_scheduler(config, stop, announce=say)
    out.print("Scheduler stopped.")
