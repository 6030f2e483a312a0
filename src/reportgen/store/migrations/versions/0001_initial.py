"""The initial metadata schema: users, tokens, reports, schedules, runs, deliveries, audit.

Revision ID: 0001
Revises:
Create Date: 2025-01-01

Written by hand to mirror ``reportgen/store/tables.py`` exactly (a test compares the two).
Constraint names follow the naming convention there, so later migrations can refer to them.
Timestamps are ``timestamptz`` on PostgreSQL; SQLite stores them as UTC text.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | tuple[str, ...] | None = None
depends_on: str | tuple[str, ...] | None = None

ID = sa.String(36)
USERNAME = sa.String(63)


def _timestamp(name: str, *, nullable: bool = True) -> sa.Column[object]:
    return sa.Column(name, sa.DateTime(timezone=True), nullable=nullable)


def _identity() -> sa.Column[int]:
    return sa.Column(
        "id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), sa.Identity(), nullable=False
    )


def upgrade() -> None:
    op.create_table(
        "users",
        sa.Column("username", USERNAME, nullable=False),
        sa.Column("display_name", sa.String(200), nullable=False),
        sa.Column("email", sa.String(320), nullable=False),
        sa.Column("password_hash", sa.String(255), nullable=False),
        sa.Column("roles", sa.JSON(), nullable=False),
        sa.Column("attributes", sa.JSON(), nullable=False),
        sa.Column("disabled", sa.Boolean(), nullable=False),
        _timestamp("created_at", nullable=False),
        _timestamp("updated_at", nullable=False),
        sa.PrimaryKeyConstraint("username", name="pk_users"),
    )

    op.create_table(
        "api_tokens",
        sa.Column("id", ID, nullable=False),
        sa.Column("username", USERNAME, nullable=False),
        sa.Column("name", sa.String(100), nullable=False),
        sa.Column("token_hash", sa.String(64), nullable=False),
        sa.Column("scopes", sa.JSON(), nullable=False),
        _timestamp("created_at", nullable=False),
        _timestamp("expires_at"),
        _timestamp("last_used_at"),
        _timestamp("revoked_at"),
        sa.PrimaryKeyConstraint("id", name="pk_api_tokens"),
        sa.ForeignKeyConstraint(
            ["username"],
            ["users.username"],
            name="fk_api_tokens_username_users",
            ondelete="CASCADE",
        ),
        sa.UniqueConstraint("token_hash", name="uq_api_tokens_token_hash"),
    )
    op.create_index("ix_api_tokens_username", "api_tokens", ["username"])

    op.create_table(
        "saved_reports",
        sa.Column("id", ID, nullable=False),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("owner", USERNAME, nullable=False),
        sa.Column("dataset", sa.String(200), nullable=False),
        _timestamp("created_at", nullable=False),
        _timestamp("updated_at", nullable=False),
        sa.Column("current_version", sa.Integer(), nullable=False),
        _timestamp("deleted_at"),
        sa.PrimaryKeyConstraint("id", name="pk_saved_reports"),
        sa.ForeignKeyConstraint(["owner"], ["users.username"], name="fk_saved_reports_owner_users"),
    )
    op.create_index("ix_saved_reports_owner", "saved_reports", ["owner"])
    op.create_index("ix_saved_reports_dataset", "saved_reports", ["dataset"])

    op.create_table(
        "report_versions",
        sa.Column("report_id", ID, nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("spec", sa.JSON(), nullable=False),
        sa.Column("created_by", USERNAME, nullable=False),
        _timestamp("created_at", nullable=False),
        sa.Column("comment", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("report_id", "version", name="pk_report_versions"),
        sa.ForeignKeyConstraint(
            ["report_id"],
            ["saved_reports.id"],
            name="fk_report_versions_report_id_saved_reports",
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["created_by"], ["users.username"], name="fk_report_versions_created_by_users"
        ),
    )

    op.create_table(
        "schedules",
        sa.Column("id", ID, nullable=False),
        sa.Column("report_id", ID, nullable=False),
        sa.Column("owner", USERNAME, nullable=False),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("cron", sa.String(100), nullable=False),
        sa.Column("timezone", sa.String(64), nullable=False),
        sa.Column("preset", sa.JSON(), nullable=False),
        sa.Column("recipients", sa.JSON(), nullable=False),
        sa.Column("channels", sa.JSON(), nullable=False),
        sa.Column("formats", sa.JSON(), nullable=False),
        sa.Column("run_as", sa.String(20), nullable=False),
        sa.Column("only_if_changed", sa.Boolean(), nullable=False),
        sa.Column("misfire_policy", sa.String(20), nullable=False),
        sa.Column("retry_policy", sa.JSON(), nullable=False),
        sa.Column("paused", sa.Boolean(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        _timestamp("created_at", nullable=False),
        _timestamp("updated_at", nullable=False),
        _timestamp("deleted_at"),
        sa.PrimaryKeyConstraint("id", name="pk_schedules"),
        sa.ForeignKeyConstraint(
            ["report_id"], ["saved_reports.id"], name="fk_schedules_report_id_saved_reports"
        ),
        sa.ForeignKeyConstraint(["owner"], ["users.username"], name="fk_schedules_owner_users"),
        sa.CheckConstraint("run_as IN ('recipient', 'owner')", name="ck_schedules_run_as"),
        sa.CheckConstraint(
            "misfire_policy IN ('run_once', 'run_all', 'skip')", name="ck_schedules_misfire_policy"
        ),
    )
    op.create_index("ix_schedules_report_id", "schedules", ["report_id"])
    op.create_index("ix_schedules_owner", "schedules", ["owner"])

    op.create_table(
        "runs",
        sa.Column("id", ID, nullable=False),
        sa.Column("schedule_id", ID, nullable=True),
        sa.Column("report_id", ID, nullable=True),
        sa.Column("report_version", sa.Integer(), nullable=True),
        sa.Column("requested_by", USERNAME, nullable=True),
        sa.Column("trigger", sa.String(20), nullable=False),
        _timestamp("fire_time", nullable=False),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("stage", sa.String(20), nullable=True),
        sa.Column("attempt", sa.Integer(), nullable=False),
        _timestamp("next_attempt_at"),
        sa.Column("worker_id", sa.String(200), nullable=True),
        _timestamp("heartbeat_at"),
        _timestamp("started_at"),
        _timestamp("finished_at"),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("result_hashes", sa.JSON(), nullable=True),
        _timestamp("created_at", nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_runs"),
        sa.ForeignKeyConstraint(
            ["schedule_id"], ["schedules.id"], name="fk_runs_schedule_id_schedules"
        ),
        sa.ForeignKeyConstraint(
            ["report_id"], ["saved_reports.id"], name="fk_runs_report_id_saved_reports"
        ),
        sa.ForeignKeyConstraint(
            ["requested_by"], ["users.username"], name="fk_runs_requested_by_users"
        ),
        sa.UniqueConstraint("schedule_id", "fire_time", name="uq_runs_schedule_id_fire_time"),
        sa.CheckConstraint(
            "status IN ('pending', 'running', 'succeeded', 'skipped', 'failed', 'retrying',"
            " 'dead')",
            name="ck_runs_status",
        ),
    )
    op.create_index("ix_runs_status_next_attempt_at", "runs", ["status", "next_attempt_at"])
    op.create_index("ix_runs_created_at", "runs", ["created_at"])

    op.create_table(
        "run_transitions",
        _identity(),
        sa.Column("run_id", ID, nullable=False),
        _timestamp("at", nullable=False),
        sa.Column("from_status", sa.String(20), nullable=True),
        sa.Column("to_status", sa.String(20), nullable=False),
        sa.Column("stage", sa.String(20), nullable=True),
        sa.Column("detail", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_run_transitions"),
        sa.ForeignKeyConstraint(
            ["run_id"], ["runs.id"], name="fk_run_transitions_run_id_runs", ondelete="CASCADE"
        ),
    )
    op.create_index("ix_run_transitions_run_id_at", "run_transitions", ["run_id", "at"])

    op.create_table(
        "deliveries",
        sa.Column("id", ID, nullable=False),
        sa.Column("run_id", ID, nullable=False),
        sa.Column("channel", sa.String(20), nullable=False),
        sa.Column("recipient", sa.String(500), nullable=False),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        _timestamp("next_attempt_at"),
        sa.Column("last_error", sa.Text(), nullable=True),
        _timestamp("delivered_at"),
        _timestamp("created_at", nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_deliveries"),
        sa.ForeignKeyConstraint(
            ["run_id"], ["runs.id"], name="fk_deliveries_run_id_runs", ondelete="CASCADE"
        ),
        sa.UniqueConstraint(
            "run_id", "channel", "recipient", name="uq_deliveries_run_id_channel_recipient"
        ),
    )
    op.create_index(
        "ix_deliveries_status_next_attempt_at", "deliveries", ["status", "next_attempt_at"]
    )

    op.create_table(
        "delivery_attempts",
        _identity(),
        sa.Column("delivery_id", ID, nullable=False),
        _timestamp("at", nullable=False),
        sa.Column("outcome", sa.String(20), nullable=False),
        sa.Column("detail", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_delivery_attempts"),
        sa.ForeignKeyConstraint(
            ["delivery_id"],
            ["deliveries.id"],
            name="fk_delivery_attempts_delivery_id_deliveries",
            ondelete="CASCADE",
        ),
    )
    op.create_index(
        "ix_delivery_attempts_delivery_id_at", "delivery_attempts", ["delivery_id", "at"]
    )

    op.create_table(
        "artifacts",
        sa.Column("id", ID, nullable=False),
        sa.Column("run_id", ID, nullable=True),
        sa.Column("kind", sa.String(20), nullable=False),
        sa.Column("uri", sa.Text(), nullable=False),
        sa.Column("sha256", sa.String(64), nullable=False),
        sa.Column("size_bytes", sa.BigInteger(), nullable=False),
        sa.Column("content_type", sa.String(100), nullable=False),
        _timestamp("created_at", nullable=False),
        sa.Column("manifest", sa.JSON(), nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_artifacts"),
        sa.ForeignKeyConstraint(["run_id"], ["runs.id"], name="fk_artifacts_run_id_runs"),
    )
    op.create_index("ix_artifacts_run_id", "artifacts", ["run_id"])
    op.create_index("ix_artifacts_sha256", "artifacts", ["sha256"])

    op.create_table(
        "audit_events",
        sa.Column("seq", sa.BigInteger(), autoincrement=False, nullable=False),
        _timestamp("at", nullable=False),
        sa.Column("actor", sa.String(200), nullable=False),
        sa.Column("action", sa.String(100), nullable=False),
        sa.Column("target", sa.String(500), nullable=False),
        sa.Column("outcome", sa.String(10), nullable=False),
        sa.Column("details", sa.JSON(), nullable=False),
        sa.Column("prev_hash", sa.String(64), nullable=False),
        sa.Column("hash", sa.String(64), nullable=False),
        sa.PrimaryKeyConstraint("seq", name="pk_audit_events"),
        sa.UniqueConstraint("prev_hash", name="uq_audit_events_prev_hash"),
        sa.CheckConstraint(
            "outcome IN ('allowed', 'denied', 'succeeded', 'failed')",
            name="ck_audit_events_outcome",
        ),
    )
    op.create_index("ix_audit_events_actor_at", "audit_events", ["actor", "at"])
    op.create_index("ix_audit_events_action_at", "audit_events", ["action", "at"])
    op.create_index("ix_audit_events_target", "audit_events", ["target"])
    op.create_index("ix_audit_events_at", "audit_events", ["at"])


def downgrade() -> None:
    for table in (
        "audit_events",
        "artifacts",
        "delivery_attempts",
        "deliveries",
        "run_transitions",
        "runs",
        "schedules",
        "report_versions",
        "saved_reports",
        "api_tokens",
        "users",
    ):
        # Dropping a table drops its indexes and constraints with it.
        op.drop_table(table)
