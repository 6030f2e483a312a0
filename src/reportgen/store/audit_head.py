"""`HeadAnchor`: the audit chain's newest event, recorded in a file outside the database.

Removing the newest events from the database leaves a shorter chain that verifies by itself; the
anchor remembers how far the chain reached. It is rewritten after every append: a temporary file
renamed over the old one (readers see the old head or the new one, never half of one), under a
file lock, and never moved backwards when several processes append at once. A head that lags the
database (a process stopped between its commit and the anchor) is harmless; one ahead of it means
events were removed.

The file holds ``{"seq": N, "hash": "..."}``. It belongs with the audit key, not the database:
keep it where whoever can write the database cannot write. It is not fsynced (an fsync per audit
event would cost more than the query it records), like the embedded SQLite's own commits
(``synchronous=NORMAL``): after a power loss the database may lack its newest events while the
head names them, and verification then says so.
"""

from __future__ import annotations

import json
import logging
import tempfile
from pathlib import Path

from filelock import FileLock, Timeout
from pydantic import ValidationError

from reportgen.domain.audit import ChainHead

LOCK_TIMEOUT_S = 10.0

log = logging.getLogger("reportgen.audit")


class AnchorUnreadable(Exception):
    """The anchor file exists but does not hold a head: someone or something damaged it."""


class HeadAnchor:
    """The head recorded at ``path`` (its lock is ``path`` + ``.lock`` beside it)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._lock = FileLock(path.with_name(path.name + ".lock"), timeout=LOCK_TIMEOUT_S)

    def read(self) -> ChainHead | None:
        """The recorded head; ``None`` when nothing was recorded yet.

        Raises `AnchorUnreadable` when the file exists but does not hold a head.
        """
        try:
            text = self.path.read_text(encoding="utf-8")
        except FileNotFoundError:
            return None
        except (OSError, UnicodeDecodeError) as error:
            raise AnchorUnreadable(f"cannot read {self.path}: {error}") from error
        try:
            return ChainHead.model_validate_json(text)
        except ValidationError:
            raise AnchorUnreadable(f"{self.path} does not hold an audit head") from None

    def advance(self, head: ChainHead) -> None:
        """Record ``head`` unless a newer one is recorded already.

        Never raises: the event is committed by then, and refusing every later append would stop
        the product. A failure is logged, and shows at the next verification (an unreadable
        anchor fails it; a lagging one lets it detect fewer removals).
        """
        try:
            with self._lock:
                current = self.read()
                if current is not None and current.seq >= head.seq:
                    return
                self._write(head)
        except AnchorUnreadable:
            log.exception("audit head not recorded: the anchor is damaged")
        except (OSError, Timeout):
            log.exception("audit head not recorded in %s", self.path)

    def _write(self, head: ChainHead) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(
            "w", dir=self.path.parent, prefix=f".{self.path.name}.", delete=False, encoding="utf-8"
        ) as handle:
            handle.write(json.dumps({"seq": head.seq, "hash": head.hash}))
        try:
            Path(handle.name).replace(self.path)
        except OSError:
            Path(handle.name).unlink(missing_ok=True)
            raise
