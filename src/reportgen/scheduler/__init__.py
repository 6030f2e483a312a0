"""The scheduler process: one leader per deployment turns due schedules into runs.

- `run_scheduler(settings, stop)` is ``reportgen scheduler``: services, the REST API on
  ``REPORTGEN_API_PORT``, leader election, scheduling and workers, a graceful stop.
- `SchedulerProcess(duties, lock)` is the leadership loop: a standby retries the lock every 2 s;
  the leader runs an APScheduler whose jobs follow the schedules table (`JobBook`), the worker
  pool, and stops scheduling at once if it loses the lock. ``health`` is the
  `SchedulerHealth` the API reports.
- `open_leader_lock(settings)`: a PostgreSQL advisory lock, or a file lock beside SQLite.
- `Dispatcher` records each due fire time once, applying the schedule's misfire policy
  (`plan_fires`), keeping each schedule as a small `Tracked`; `CadenceTrigger` asks
  `reportgen.domain.timing` when to fire. `JobBook` loads the schedules a page at a time.
"""

from reportgen.scheduler.firing import Dispatched, Dispatcher, Tracked
from reportgen.scheduler.health import SchedulerHealth, SchedulerState
from reportgen.scheduler.jobs import JobBook, Reconciled, new_scheduler
from reportgen.scheduler.leadership import (
    FileLeaderLock,
    LeaderLock,
    PostgresLeaderLock,
    open_leader_lock,
)
from reportgen.scheduler.misfires import FirePlan, due_times, plan_fires
from reportgen.scheduler.process import Duties, SchedulerProcess
from reportgen.scheduler.running import run_scheduler
from reportgen.scheduler.server import ApiServer, api_app, health_app
from reportgen.scheduler.trigger import CadenceTrigger

__all__ = [
    "ApiServer",
    "CadenceTrigger",
    "Dispatched",
    "Dispatcher",
    "Duties",
    "FileLeaderLock",
    "FirePlan",
    "JobBook",
    "LeaderLock",
    "PostgresLeaderLock",
    "Reconciled",
    "SchedulerHealth",
    "SchedulerProcess",
    "SchedulerState",
    "Tracked",
    "api_app",
    "due_times",
    "health_app",
    "new_scheduler",
    "open_leader_lock",
    "plan_fires",
    "run_scheduler",
]
