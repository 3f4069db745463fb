"""initial schema

Revision ID: 0001
Revises:
Create Date: 2026-11-28
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "api_keys",
        sa.Column("id", sa.String(length=24), nullable=False),
        sa.Column("secret_hash", sa.String(length=64), nullable=False),
        sa.Column("role", sa.String(length=16), nullable=False),
        sa.Column("label", sa.String(length=200), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("revoked_at", sa.DateTime(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_api_keys")),
    )
    op.create_table(
        "dataset_versions",
        sa.Column("name", sa.String(length=32), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_dataset_versions")),
    )
    op.create_table(
        "events",
        sa.Column("external_id", sa.String(length=200), nullable=False),
        sa.Column("name", sa.String(length=300), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("borough", sa.String(length=16), nullable=False),
        sa.Column("start", sa.DateTime(), nullable=False),
        sa.Column("end", sa.DateTime(), nullable=False),
        sa.Column("priority", sa.String(length=16), nullable=False),
        sa.Column("demand", sa.Text(), nullable=False),
        sa.Column("grade", sa.String(length=16), nullable=True),
        sa.Column("venue", sa.String(length=300), nullable=False),
        sa.Column("notified", sa.Date(), nullable=True),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("external_id", name=op.f("pk_events")),
    )
    with op.batch_alter_table("events", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_events_borough"), ["borough"], unique=False)
        batch_op.create_index(batch_op.f("ix_events_kind"), ["kind"], unique=False)
        batch_op.create_index(batch_op.f("ix_events_priority"), ["priority"], unique=False)
        batch_op.create_index("ix_events_start_id", ["start", "external_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_events_status"), ["status"], unique=False)

    op.create_table(
        "officers",
        sa.Column("service_number", sa.String(length=32), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("unit", sa.String(length=16), nullable=False),
        sa.Column("rank", sa.String(length=8), nullable=False),
        sa.Column("duty_role", sa.String(length=16), nullable=False),
        sa.Column("skills", sa.Text(), nullable=False),
        sa.Column("shift_pattern", sa.String(length=32), nullable=False),
        sa.Column("pattern_offset", sa.Integer(), nullable=False),
        sa.Column("leave", sa.Text(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("service_number", name=op.f("pk_officers")),
    )
    with op.batch_alter_table("officers", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_officers_rank"), ["rank"], unique=False)
        batch_op.create_index(batch_op.f("ix_officers_unit"), ["unit"], unique=False)

    op.create_table(
        "plan_assignments",
        sa.Column(
            "id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=True, nullable=False
        ),
        sa.Column("plan_id", sa.String(length=36), nullable=False),
        sa.Column("service_number", sa.String(length=32), nullable=False),
        sa.Column("event_id", sa.String(length=200), nullable=False),
        sa.Column("tour_index", sa.Integer(), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("role", sa.String(length=32), nullable=False),
        sa.Column("slot", sa.Integer(), nullable=False),
        sa.Column("unit_id", sa.String(length=100), nullable=False),
        sa.Column("source", sa.String(length=16), nullable=False),
        sa.Column("start", sa.DateTime(), nullable=False),
        sa.Column("end", sa.DateTime(), nullable=False),
        sa.Column("rest_day_cancelled", sa.Boolean(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_plan_assignments")),
    )
    with op.batch_alter_table("plan_assignments", schema=None) as batch_op:
        batch_op.create_index("ix_plan_assignments_event", ["plan_id", "event_id"], unique=False)
        batch_op.create_index("ix_plan_assignments_officer", ["plan_id", "service_number"], unique=False)

    op.create_table(
        "plan_bcu_days",
        sa.Column("plan_id", sa.String(length=36), nullable=False),
        sa.Column("bcu", sa.String(length=16), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("data", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("plan_id", "bcu", "day", name=op.f("pk_plan_bcu_days")),
    )
    op.create_table(
        "plan_event_kpis",
        sa.Column("plan_id", sa.String(length=36), nullable=False),
        sa.Column("event_id", sa.String(length=200), nullable=False),
        sa.Column("tour_index", sa.Integer(), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("borough", sa.String(length=16), nullable=False),
        sa.Column("priority", sa.String(length=16), nullable=False),
        sa.Column("short", sa.Integer(), nullable=False),
        sa.Column("data", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("plan_id", "event_id", "tour_index", name=op.f("pk_plan_event_kpis")),
    )
    with op.batch_alter_table("plan_event_kpis", schema=None) as batch_op:
        batch_op.create_index("ix_plan_event_kpis_day", ["plan_id", "day"], unique=False)

    op.create_table(
        "plan_jobs",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("stage", sa.String(length=32), nullable=False),
        sa.Column("percent", sa.Float(), nullable=False),
        sa.Column("message", sa.String(length=500), nullable=False),
        sa.Column("objective", sa.Float(), nullable=True),
        sa.Column("bound", sa.Float(), nullable=True),
        sa.Column("gap", sa.Float(), nullable=True),
        sa.Column("start", sa.Date(), nullable=False),
        sa.Column("end", sa.Date(), nullable=False),
        sa.Column("policy_version", sa.Integer(), nullable=True),
        sa.Column("options", sa.Text(), nullable=False),
        sa.Column("input_hash", sa.String(length=64), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("started_at", sa.DateTime(), nullable=True),
        sa.Column("finished_at", sa.DateTime(), nullable=True),
        sa.Column("heartbeat_at", sa.DateTime(), nullable=True),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("worker_id", sa.String(length=64), nullable=True),
        sa.Column("cancel_requested", sa.Boolean(), nullable=False),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("created_by", sa.String(length=24), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_plan_jobs")),
    )
    with op.batch_alter_table("plan_jobs", schema=None) as batch_op:
        batch_op.create_index("ix_plan_jobs_status_created", ["status", "created_at"], unique=False)

    op.create_table(
        "plan_shortfalls",
        sa.Column(
            "id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=True, nullable=False
        ),
        sa.Column("plan_id", sa.String(length=36), nullable=False),
        sa.Column("event_id", sa.String(length=200), nullable=False),
        sa.Column("tour_index", sa.Integer(), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("role", sa.String(length=32), nullable=False),
        sa.Column("required", sa.Integer(), nullable=False),
        sa.Column("filled", sa.Integer(), nullable=False),
        sa.Column("officers_short", sa.Integer(), nullable=False),
        sa.Column("reasons", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_plan_shortfalls")),
    )
    with op.batch_alter_table("plan_shortfalls", schema=None) as batch_op:
        batch_op.create_index("ix_plan_shortfalls_event", ["plan_id", "event_id"], unique=False)

    op.create_table(
        "plan_unit_days",
        sa.Column("plan_id", sa.String(length=36), nullable=False),
        sa.Column("unit", sa.String(length=16), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("data", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("plan_id", "unit", "day", name=op.f("pk_plan_unit_days")),
    )
    op.create_table(
        "policy_versions",
        sa.Column("version", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("note", sa.String(length=500), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("created_by", sa.String(length=24), nullable=True),
        sa.PrimaryKeyConstraint("version", name=op.f("pk_policy_versions")),
    )
    op.create_table(
        "problem_snapshots",
        sa.Column("hash", sa.String(length=64), nullable=False),
        sa.Column("blob", sa.LargeBinary(), nullable=False),
        sa.Column("calendar_version", sa.Integer(), nullable=False),
        sa.Column("officers_version", sa.Integer(), nullable=False),
        sa.Column("policy_version", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("hash", name=op.f("pk_problem_snapshots")),
    )
    op.create_table(
        "plans",
        sa.Column("job_id", sa.String(length=36), nullable=False),
        sa.Column("input_hash", sa.String(length=64), nullable=False),
        sa.Column("calendar_version", sa.Integer(), nullable=False),
        sa.Column("officers_version", sa.Integer(), nullable=False),
        sa.Column("policy_version", sa.Integer(), nullable=False),
        sa.Column("start", sa.Date(), nullable=False),
        sa.Column("end", sa.Date(), nullable=False),
        sa.Column("method", sa.String(length=64), nullable=False),
        sa.Column("plan_blob", sa.LargeBinary(), nullable=False),
        sa.Column("summary", sa.Text(), nullable=False),
        sa.Column("stages", sa.Text(), nullable=False),
        sa.Column("assignments", sa.Integer(), nullable=False),
        sa.Column("shortfalls", sa.Integer(), nullable=False),
        sa.Column("solve_seconds", sa.Float(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["input_hash"], ["problem_snapshots.hash"], name=op.f("fk_plans_input_hash_problem_snapshots")
        ),
        sa.ForeignKeyConstraint(["job_id"], ["plan_jobs.id"], name=op.f("fk_plans_job_id_plan_jobs")),
        sa.PrimaryKeyConstraint("job_id", name=op.f("pk_plans")),
    )


def downgrade() -> None:
    op.drop_table("plans")
    op.drop_table("problem_snapshots")
    op.drop_table("policy_versions")
    op.drop_table("plan_unit_days")
    with op.batch_alter_table("plan_shortfalls", schema=None) as batch_op:
        batch_op.drop_index("ix_plan_shortfalls_event")

    op.drop_table("plan_shortfalls")
    with op.batch_alter_table("plan_jobs", schema=None) as batch_op:
        batch_op.drop_index("ix_plan_jobs_status_created")

    op.drop_table("plan_jobs")
    with op.batch_alter_table("plan_event_kpis", schema=None) as batch_op:
        batch_op.drop_index("ix_plan_event_kpis_day")

    op.drop_table("plan_event_kpis")
    op.drop_table("plan_bcu_days")
    with op.batch_alter_table("plan_assignments", schema=None) as batch_op:
        batch_op.drop_index("ix_plan_assignments_officer")
        batch_op.drop_index("ix_plan_assignments_event")

    op.drop_table("plan_assignments")
    with op.batch_alter_table("officers", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_officers_unit"))
        batch_op.drop_index(batch_op.f("ix_officers_rank"))

    op.drop_table("officers")
    with op.batch_alter_table("events", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_events_status"))
        batch_op.drop_index("ix_events_start_id")
        batch_op.drop_index(batch_op.f("ix_events_priority"))
        batch_op.drop_index(batch_op.f("ix_events_kind"))
        batch_op.drop_index(batch_op.f("ix_events_borough"))

    op.drop_table("events")
    op.drop_table("dataset_versions")
    op.drop_table("api_keys")
