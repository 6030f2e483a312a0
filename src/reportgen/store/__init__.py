"""The metadata database: users, saved reports, schedules, runs, deliveries and the audit log.

- `MetadataStore(url)` opens a SQLite file or a PostgreSQL database; ``upgrade()`` applies the
  packaged Alembic migrations, ``check_current()`` refuses a database that is behind.
- ``store.users`` is a `UserRepository` (accounts, roles, attributes, bcrypt passwords).
- ``store.audit`` is an `AuditLog`: append-only, hash-chained, ``verify()`` proves it intact.
- `reportgen.store.tables` holds the schema; `write_transaction` opens a transaction that holds
  SQLite's write lock from the start, for read-then-write work.
"""

from reportgen.store.audit import AuditLog
from reportgen.store.database import MetadataStore, migrations_config
from reportgen.store.engine import write_transaction
from reportgen.store.tables import metadata, new_id, utcnow
from reportgen.store.users import UserRepository

__all__ = [
    "AuditLog",
    "MetadataStore",
    "UserRepository",
    "metadata",
    "migrations_config",
    "new_id",
    "utcnow",
    "write_transaction",
]
