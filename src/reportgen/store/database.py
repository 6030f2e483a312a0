"""`MetadataStore`: the metadata database, its migrations and the repositories over it.

One object per process, built at bootstrap from ``REPORTGEN_DATABASE_URL``. The app calls
`MetadataStore.check_current` at start-up and refuses to run on a database whose schema is behind;
``reportgen db upgrade`` calls `MetadataStore.upgrade`. The Alembic scripts ship inside the
package, so no ``alembic.ini`` is needed anywhere.
"""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from alembic.util import CommandError
from sqlalchemy import Connection, Engine

from reportgen.errors import ConfigurationError
from reportgen.store.audit import AuditLog
from reportgen.store.engine import create_metadata_engine, normalise_url
from reportgen.store.reports import SavedReportRepository
from reportgen.store.schedules import ScheduleRepository
from reportgen.store.sign_ins import SignInFailures
from reportgen.store.users import DEFAULT_BCRYPT_ROUNDS, UserRepository

MIGRATIONS_DIR = Path(__file__).with_name("migrations")
UPGRADE_COMMAND = "reportgen db upgrade"


def migrations_config(connection: Connection | None = None) -> Config:
    """An Alembic config for the packaged migrations, bound to ``connection`` when given."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    config.set_main_option("path_separator", "os")
    if connection is not None:
        config.attributes["connection"] = connection
    return config


class MetadataStore:
    """The metadata DB (SQLite file or PostgreSQL): engine, schema version and repositories.

    Repositories open one short transaction per call on `engine`; later repositories follow the
    same pattern (``with store.engine.begin() as connection: ...``, or
    `reportgen.store.engine.write_transaction` for read-then-write work).

    The audit log needs two things the database must not hold. ``audit_key`` seals the chain
    (HMAC-SHA256); without it the store still migrates and manages users, but appending or
    verifying audit events raises `ConfigurationError`. ``audit_head`` is the file where the
    newest event is recorded after each append (`reportgen.store.audit_head.HeadAnchor`), so
    removing the newest events is detected. The embedded deployment keeps it in ``data_dir``
    beside the key; a PostgreSQL deployment with several processes should point every one of
    them at the same file on shared storage that the database's users cannot write (each
    process's own local file also works, but then detects removals only up to the last event
    that process appended). ``None`` records no head. Delete the head together with the
    database when starting over, or verification reports the events as removed.
    """

    def __init__(
        self,
        url: str,
        *,
        bcrypt_rounds: int = DEFAULT_BCRYPT_ROUNDS,
        audit_key: str | bytes | None = None,
        audit_head: Path | None = None,
    ) -> None:
        self._url = normalise_url(url)
        self.engine: Engine = create_metadata_engine(url)
        self.users = UserRepository(self.engine, bcrypt_rounds=bcrypt_rounds)
        self.sign_ins = SignInFailures(self.engine)
        self.reports = SavedReportRepository(self.engine)
        self.schedules = ScheduleRepository(self.engine)
        key = audit_key.encode("utf-8") if isinstance(audit_key, str) else audit_key
        self.audit_head = audit_head
        self.audit = AuditLog(self.engine, key=key, head=audit_head)

    @property
    def safe_url(self) -> str:
        """The database URL with any password masked, fit for logs and error messages."""
        return self._url.render_as_string(hide_password=True)

    def __repr__(self) -> str:
        return f"MetadataStore({self.safe_url!r})"

    def upgrade(self, revision: str = "head") -> None:
        """Apply the migrations up to ``revision`` (default: the newest), in one transaction."""
        with self.engine.begin() as connection:
            command.upgrade(migrations_config(connection), revision)

    def current_revision(self) -> str | None:
        """The revision the database is at; ``None`` for a database never migrated."""
        with self.engine.connect() as connection:
            return MigrationContext.configure(connection).get_current_revision()

    def head_revision(self) -> str:
        """The newest revision this release of reportgen ships."""
        head = ScriptDirectory.from_config(migrations_config()).get_current_head()
        if head is None:  # pragma: no cover - the package always ships migrations
            raise ConfigurationError(f"no migrations found in {MIGRATIONS_DIR}")
        return head

    def check_current(self) -> None:
        """Raise `ConfigurationError` unless the schema is exactly at this release's head."""
        current, head = self.current_revision(), self.head_revision()
        if current == head:
            return
        if current is None:
            raise ConfigurationError(
                f"the metadata database {self.safe_url} has no schema yet;"
                f" run `{UPGRADE_COMMAND}` to create it"
            )
        scripts = ScriptDirectory.from_config(migrations_config())
        try:
            scripts.get_revision(current)
        except CommandError:
            raise ConfigurationError(
                f"the metadata database {self.safe_url} is at revision {current}, which this"
                " release of reportgen does not know: it was upgraded by a newer release."
                " Run that release, or restore a backup taken before the upgrade"
            ) from None
        raise ConfigurationError(
            f"the metadata database {self.safe_url} is at revision {current} but this release"
            f" needs {head}; run `{UPGRADE_COMMAND}` to upgrade it"
        )

    def dispose(self) -> None:
        """Close every pooled connection (call at shutdown, and in forked children)."""
        self.engine.dispose()
