"""`SignInFailures`: failed sign-ins per attempted username, so password guessing can be slowed.

The policy (how many failures are free, how long a lock lasts) belongs to
`reportgen.services.users`; this module counts failures atomically on both backends (one
``INSERT ... ON CONFLICT DO UPDATE``) and remembers until when a name is locked, so every web
replica sees the same count.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Engine, case, delete, or_, select, update
from sqlalchemy.dialects import postgresql, sqlite

from reportgen.store.engine import write_transaction
from reportgen.store.tables import sign_in_failures

_table = sign_in_failures


class SignInFailures:
    """Failure counts and locks in the ``sign_in_failures`` table. Every method is one
    transaction; names are stored as given (the service normalises them)."""

    def __init__(self, engine: Engine) -> None:
        self._engine = engine

    def locked_until(self, username: str) -> datetime | None:
        """Until when ``username`` is locked (possibly in the past), or ``None``."""
        with self._engine.connect() as connection:
            return connection.execute(
                select(_table.c.locked_until).where(_table.c.username == username)
            ).scalar_one_or_none()

    def record_failure(self, username: str, *, at: datetime, forget_before: datetime) -> int:
        """Count a failure at ``at`` and return the failures in a row, this one included.

        A previous failure older than ``forget_before`` is forgotten: the count starts again at 1.
        """
        with write_transaction(self._engine) as connection:
            dialect = postgresql if connection.dialect.name == "postgresql" else sqlite
            statement = dialect.insert(_table).values(
                username=username, failures=1, last_failure_at=at
            )
            statement = statement.on_conflict_do_update(
                index_elements=[_table.c.username],
                set_={
                    "failures": case(
                        (_table.c.last_failure_at < forget_before, 1),
                        else_=_table.c.failures + 1,
                    ),
                    "last_failure_at": statement.excluded.last_failure_at,
                },
            )
            return int(connection.execute(statement.returning(_table.c.failures)).scalar_one())

    def lock(self, username: str, until: datetime) -> None:
        """Refuse ``username`` until ``until``; a lock already lasting longer is kept."""
        with self._engine.begin() as connection:
            connection.execute(
                update(_table)
                .where(_table.c.username == username)
                .where(or_(_table.c.locked_until.is_(None), _table.c.locked_until < until))
                .values(locked_until=until)
            )

    def clear(self, username: str) -> None:
        """Forget the failures of ``username`` (after a successful sign-in)."""
        with self._engine.begin() as connection:
            connection.execute(delete(_table).where(_table.c.username == username))
