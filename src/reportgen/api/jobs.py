"""Render jobs: renders run on a small bounded pool, so a burst of requests queues instead of
starving the process, and a long render answers 202 with a job to poll.

Jobs live in this process's memory (the newest `KEEP_JOBS`, for `JOB_TTL`); their files live in
the artifact store, so a job holds only names, sizes and checksums. A job is visible only to
the user who asked for it.
"""

from __future__ import annotations

import contextvars
import logging
import secrets
import threading
from collections import OrderedDict
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from enum import StrEnum

from reportgen.api.problems import ApiProblem
from reportgen.errors import NotFound, UserError
from reportgen.observability import span
from reportgen.services.render import RenderedReport

log = logging.getLogger("reportgen.api")
KEEP_JOBS = 200
JOB_TTL = timedelta(hours=1)


class JobStatus(StrEnum):
    QUEUED = "queued"
    RUNNING = "running"
    SUCCEEDED = "succeeded"
    FAILED = "failed"


@dataclass(frozen=True)
class JobFile:
    filename: str
    key: str
    content_type: str
    size_bytes: int
    sha256: str


@dataclass
class RenderJob:
    id: str
    owner: str
    formats: tuple[str, ...]
    created_at: datetime
    status: JobStatus = JobStatus.QUEUED
    finished_at: datetime | None = None
    bundle: str | None = None
    files: tuple[JobFile, ...] = ()
    error_status: int | None = None
    error: str | None = None
    done: threading.Event = field(default_factory=threading.Event)

    def file(self, filename: str) -> JobFile:
        found = next((f for f in self.files if f.filename == filename), None)
        if found is None:
            names = ", ".join(f.filename for f in self.files) or "none yet"
            raise NotFound(f"render job {self.id} has no file '{filename}'; its files: {names}")
        return found


def _utcnow() -> datetime:
    return datetime.now(UTC)


class RenderJobs:
    """A bounded pool of render workers and the jobs they ran."""

    def __init__(
        self,
        *,
        workers: int = 2,
        max_waiting: int = 16,
        clock: Callable[[], datetime] = _utcnow,
    ) -> None:
        self._pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="render-job")
        self._max_waiting = max_waiting
        self._clock = clock
        self._jobs: OrderedDict[str, RenderJob] = OrderedDict()
        self._lock = threading.Lock()
        self._unfinished = 0

    def submit(
        self, owner: str, formats: tuple[str, ...], work: Callable[[], RenderedReport]
    ) -> RenderJob:
        """Queue ``work`` as a job of ``owner``; a 503 problem when too many are waiting."""
        with self._lock:
            if self._unfinished >= self._max_waiting:
                raise ApiProblem(
                    503,
                    f"{self._unfinished} renders are queued or running, the most this server"
                    " takes at once; retry in a minute",
                    headers={"Retry-After": "60"},
                )
            self._unfinished += 1
            job = RenderJob(
                id=secrets.token_hex(8), owner=owner, formats=formats, created_at=self._clock()
            )
            self._remember(job)
        context = contextvars.copy_context()  # the request's trace continues in the job
        self._pool.submit(context.run, self._run, job, work)
        return job

    def get(self, owner: str, job_id: str) -> RenderJob:
        with self._lock:
            job = self._jobs.get(job_id)
        if job is None or job.owner != owner:
            raise NotFound(
                f"there is no render job '{job_id}' of yours; jobs are kept for"
                f" {JOB_TTL.total_seconds() / 3600:g} h"
            )
        return job

    def shutdown(self) -> None:
        self._pool.shutdown(wait=True, cancel_futures=True)

    def _remember(self, job: RenderJob) -> None:
        self._jobs[job.id] = job
        oldest = self._clock() - JOB_TTL
        while self._jobs:
            first = next(iter(self._jobs.values()))
            if len(self._jobs) <= KEEP_JOBS and first.created_at >= oldest:
                break
            if not first.done.is_set():
                break  # never forget a job still running
            self._jobs.popitem(last=False)

    def _run(self, job: RenderJob, work: Callable[[], RenderedReport]) -> None:
        job.status = JobStatus.RUNNING
        try:
            with span("render.job", job_id=job.id, formats=",".join(job.formats)):
                rendered = work()
        except UserError as exc:
            job.error_status, job.error = exc.status, str(exc)
            job.status = JobStatus.FAILED
        except Exception:  # a job must end, whatever went wrong; the log keeps the cause
            incident = secrets.token_hex(4)
            log.exception("incident %s: render job %s failed", incident, job.id)
            job.error_status = 500
            job.error = f"Something went wrong (incident {incident}); the server log has details"
            job.status = JobStatus.FAILED
        else:
            job.bundle = rendered.bundle.prefix
            job.files = tuple(
                JobFile(
                    filename=stored.key.rsplit("/", 1)[-1],
                    key=stored.key,
                    content_type=stored.content_type,
                    size_bytes=stored.size_bytes,
                    sha256=stored.sha256,
                )
                for stored in rendered.bundle.files
            )
            job.status = JobStatus.SUCCEEDED
        finally:
            job.finished_at = self._clock()
            with self._lock:
                self._unfinished -= 1
            job.done.set()
