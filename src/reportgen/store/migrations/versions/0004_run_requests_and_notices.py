"""Runs: replays point at their original; idempotency keys of run-now requests; owner notices.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-29

Written by hand to mirror ``runs.replay_of``, ``run_requests`` and ``schedule_notices`` in
``reportgen/store/tables.py``.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | tuple[str, ...] | None = None
depends_on: str | tuple[str, ...] | None = None


def upgrade() -> None:
    op.add_column("runs", sa.Column("replay_of", sa.String(36), nullable=True))
    op.create_table(
        "run_requests",
        sa.Column("username", sa.String(63), nullable=False),
        sa.Column("idempotency_key", sa.String(200), nullable=False),
        sa.Column("run_id", sa.String(36), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["run_id"], ["runs.id"], name="fk_run_requests_run_id_runs", ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("username", "idempotency_key", name="pk_run_requests"),
    )
    op.create_table(
        "schedule_notices",
        sa.Column("schedule_id", sa.String(36), nullable=False),
        sa.Column("kind", sa.String(50), nullable=False),
        sa.Column("run_id", sa.String(36), nullable=False),
        sa.Column("sent_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["schedule_id"],
            ["schedules.id"],
            name="fk_schedule_notices_schedule_id_schedules",
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("schedule_id", "kind", name="pk_schedule_notices"),
    )


def downgrade() -> None:
    op.drop_table("schedule_notices")
    op.drop_table("run_requests")
    with op.batch_alter_table("runs") as batch:
        batch.drop_column("replay_of")
