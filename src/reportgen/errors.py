"""One exception hierarchy for the whole product.

User errors are the person's to fix (a bad filter, a dataset they may not see); each carries a
sentence that says what is wrong and how to fix it. Internal errors are ours: the UI shows an
incident id and the log keeps the details.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass


class ReportgenError(Exception):
    """Base of every error the product raises on purpose."""


class UserError(ReportgenError):
    """Something the user asked for cannot be done as asked; the message says how to fix it."""

    status = 400


class InvalidInput(UserError):
    """The request is malformed: an unknown field, a value of the wrong type, a bad range."""

    def __init__(self, problems: str | Iterable[str]) -> None:
        self.problems: tuple[str, ...] = (
            (problems,) if isinstance(problems, str) else tuple(problems)
        )
        super().__init__("; ".join(self.problems))


class NotFound(UserError):
    """The named thing does not exist, or the user may not know that it does."""

    status = 404


class NotAllowed(UserError):
    """The principal is not permitted to do this. The message never reveals protected data."""

    status = 403


class Conflict(UserError):
    """The thing changed after it was read (someone else saved first): reload, then retry."""

    status = 409


class QueryTooLarge(UserError):
    """The result would exceed the row cap."""

    status = 413


class QueryTimeout(UserError):
    """The warehouse did not answer within the configured timeout."""

    status = 504


@dataclass(frozen=True)
class Problem:
    """One validation problem, located in a file when it came from one."""

    message: str
    file: str | None = None
    line: int | None = None

    def __str__(self) -> str:
        if self.file is None:
            return self.message
        return f"{self.file}:{self.line or 1}: {self.message}"


class CatalogInvalid(ReportgenError):
    """The catalog has one or more problems; all of them are listed, each with file and line."""

    def __init__(self, problems: Iterable[Problem]) -> None:
        self.problems: tuple[Problem, ...] = tuple(problems)
        count = len(self.problems)
        listing = "\n".join(str(p) for p in self.problems)
        super().__init__(f"the catalog has {count} problem{'s' if count != 1 else ''}:\n{listing}")


class ConfigurationError(ReportgenError):
    """The deployment is misconfigured (settings, database behind its migrations...)."""


class InternalError(ReportgenError):
    """A fault of ours or of a dependency; never caused by the user's input."""


class WarehouseError(InternalError):
    """The warehouse failed for a reason other than the user's request."""


class DeliveryError(ReportgenError):
    """A delivery attempt failed; the message names the channel, the recipient and the cause.

    A transient failure (a relay down, a timeout, a 5xx) is retried with backoff; a permanent
    one (an address refused, a URL not allowed, a 4xx) is not.
    """

    transient = True


class TransientDeliveryError(DeliveryError):
    transient = True


class PermanentDeliveryError(DeliveryError):
    transient = False
