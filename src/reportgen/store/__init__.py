"""The metadata database: users, saved reports, schedules, runs, deliveries and the audit log.

- `MetadataStore(url, audit_key=..., audit_head=...)` opens a SQLite file or a PostgreSQL
  database; ``upgrade()`` applies the packaged Alembic migrations, ``check_current()`` refuses a
  database that is behind.
- ``store.users`` is a `UserRepository` (accounts, roles, attributes, bcrypt passwords).
- ``store.sign_ins`` is a `SignInFailures`: failed sign-ins per username, for throttling.
- ``store.reports`` is a `SavedReportRepository` (named specs, every save a new version);
  ``store.schedules`` a `ScheduleRepository` (optimistic locking, a numbered change feed).
- ``store.audit`` is an `AuditLog`: append-only, chained with an HMAC keyed by ``audit_key``,
  its newest event recorded in the ``audit_head`` file; ``verify()`` proves it intact.
- `reportgen.store.tables` holds the schema; `write_transaction` opens a transaction that holds
  SQLite's write lock from the start, for read-then-write work.
"""

from reportgen.store.audit import AuditLog
from reportgen.store.database import MetadataStore, migrations_config
from reportgen.store.engine import write_transaction
from reportgen.store.reports import SavedReportRepository
from reportgen.store.schedules import ScheduleRepository
from reportgen.store.sign_ins import SignInFailures
from reportgen.store.tables import metadata, new_id, utcnow
from reportgen.store.users import UserRepository

__all__ = [
    "AuditLog",
    "MetadataStore",
    "SavedReportRepository",
    "ScheduleRepository",
    "SignInFailures",
    "UserRepository",
    "metadata",
    "migrations_config",
    "new_id",
    "utcnow",
    "write_transaction",
]
