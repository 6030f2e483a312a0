"""Failed sign-ins per attempted username, for throttling password guessing.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-29

Written by hand to mirror ``sign_in_failures`` in ``reportgen/store/tables.py``.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | tuple[str, ...] | None = None
depends_on: str | tuple[str, ...] | None = None


def upgrade() -> None:
    op.create_table(
        "sign_in_failures",
        sa.Column("username", sa.String(200), nullable=False),
        sa.Column("failures", sa.Integer(), nullable=False),
        sa.Column("last_failure_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("locked_until", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("username", name="pk_sign_in_failures"),
    )


def downgrade() -> None:
    op.drop_table("sign_in_failures")
