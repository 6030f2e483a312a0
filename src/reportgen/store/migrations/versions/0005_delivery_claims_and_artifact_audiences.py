"""Deliveries are claimed before sending; artifacts remember whose render they are.

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-01

Written by hand to mirror ``deliveries.claimed_by``, ``claimed_attempt``, ``claimed_at`` and
``artifacts.audience`` in ``reportgen/store/tables.py``. Artifacts stored before this revision
have no audience and are shown to admins only.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | tuple[str, ...] | None = None
depends_on: str | tuple[str, ...] | None = None


def upgrade() -> None:
    with op.batch_alter_table("deliveries") as batch:
        batch.add_column(sa.Column("claimed_by", sa.String(200), nullable=True))
        batch.add_column(sa.Column("claimed_attempt", sa.Integer(), nullable=True))
        batch.add_column(sa.Column("claimed_at", sa.DateTime(timezone=True), nullable=True))
    with op.batch_alter_table("artifacts") as batch:
        batch.add_column(sa.Column("audience", sa.Text(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("artifacts") as batch:
        batch.drop_column("audience")
    with op.batch_alter_table("deliveries") as batch:
        batch.drop_column("claimed_at")
        batch.drop_column("claimed_attempt")
        batch.drop_column("claimed_by")
