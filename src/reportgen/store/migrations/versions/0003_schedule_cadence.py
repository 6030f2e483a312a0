"""Schedules keep a cadence (cron or preset) and report parameters, and number their changes.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-29

``cron`` and ``preset`` become ``cadence`` (JSON: a cron expression or a preset such as
"weekdays at 08:00") and ``parameters``; ``updated_by`` says who saved last (for the message an
editor sees when someone saved first); ``change_seq`` numbers every change, in commit order, so
the scheduler can read only what changed since its last look. Written by hand to mirror
``schedules`` in ``reportgen/store/tables.py``.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | tuple[str, ...] | None = None
depends_on: str | tuple[str, ...] | None = None

_schedules = sa.table(
    "schedules",
    sa.column("id", sa.String(36)),
    sa.column("owner", sa.String(63)),
    sa.column("cron", sa.String(100)),
    sa.column("preset", sa.JSON()),
    sa.column("cadence", sa.JSON()),
    sa.column("parameters", sa.JSON()),
    sa.column("updated_by", sa.String(63)),
    sa.column("change_seq", sa.BigInteger()),
)


def upgrade() -> None:
    with op.batch_alter_table("schedules") as batch:
        batch.add_column(sa.Column("cadence", sa.JSON(), nullable=True))
        batch.add_column(sa.Column("parameters", sa.JSON(), nullable=True))
        batch.add_column(sa.Column("updated_by", sa.String(63), nullable=True))
        batch.add_column(sa.Column("change_seq", sa.BigInteger(), nullable=True))
    connection = op.get_bind()
    rows = connection.execute(
        sa.select(
            _schedules.c.id, _schedules.c.owner, _schedules.c.cron, _schedules.c.preset
        ).order_by(_schedules.c.id)
    ).all()
    for seq, row in enumerate(rows, start=1):
        preset = row.preset if isinstance(row.preset, dict) else {}
        connection.execute(
            sa.update(_schedules)
            .where(_schedules.c.id == row.id)
            .values(
                cadence={"kind": "cron", "expression": row.cron},
                parameters=preset.get("parameters", {}),
                updated_by=row.owner,
                change_seq=seq,
            )
        )
    with op.batch_alter_table("schedules") as batch:
        for name in ("cadence", "parameters", "updated_by", "change_seq"):
            batch.alter_column(name, nullable=False)
        batch.drop_column("cron")
        batch.drop_column("preset")
        batch.create_index("ix_schedules_change_seq", ["change_seq"], unique=True)


def downgrade() -> None:
    with op.batch_alter_table("schedules") as batch:
        batch.add_column(sa.Column("cron", sa.String(100), nullable=True))
        batch.add_column(sa.Column("preset", sa.JSON(), nullable=True))
    connection = op.get_bind()
    rows = connection.execute(
        sa.select(_schedules.c.id, _schedules.c.cadence, _schedules.c.parameters)
    ).all()
    for row in rows:
        cadence = row.cadence if isinstance(row.cadence, dict) else {}
        # Presets have no cron form in 0002; the closest cron keeps the schedule readable.
        cron = cadence.get("expression") or "0 0 * * *"
        connection.execute(
            sa.update(_schedules)
            .where(_schedules.c.id == row.id)
            .values(cron=cron, preset={"parameters": row.parameters or {}})
        )
    with op.batch_alter_table("schedules") as batch:
        batch.drop_index("ix_schedules_change_seq")
        batch.alter_column("cron", nullable=False)
        batch.alter_column("preset", nullable=False)
        batch.drop_column("change_seq")
        batch.drop_column("updated_by")
        batch.drop_column("parameters")
        batch.drop_column("cadence")
