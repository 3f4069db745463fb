"""plan versions: publishing, least-disruption re-plans, the change log, pins, idempotent POSTs,
officer absences

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-02
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

BigIntPK = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "plan_versions",
        sa.Column("id", sa.String(36), nullable=False),
        sa.Column(
            "series",
            sa.String(36),
            sa.ForeignKey("plans.job_id", name="fk_plan_versions_series_plans"),
            nullable=False,
        ),
        sa.Column("number", sa.Integer(), nullable=False),
        sa.Column("parent_id", sa.String(36), nullable=True),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("author", sa.String(24), nullable=True),
        sa.Column("reason", sa.String(500), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("as_of", sa.DateTime(), nullable=False),
        sa.Column("published_through", sa.Date(), nullable=True),
        sa.Column(
            "input_hash",
            sa.String(64),
            sa.ForeignKey("problem_snapshots.hash", name="fk_plan_versions_input_hash_problem_snapshots"),
            nullable=False,
        ),
        sa.Column("delta", sa.LargeBinary(), nullable=True),
        sa.Column("inputs", sa.Text(), nullable=False),
        sa.Column("stats", sa.Text(), nullable=False),
        sa.Column("assignments_added", sa.Integer(), nullable=False),
        sa.Column("assignments_removed", sa.Integer(), nullable=False),
        sa.Column("officers_changed", sa.Integer(), nullable=False),
        sa.Column("disruption_cost", sa.Float(), nullable=False),
        sa.Column("officers_short", sa.Integer(), nullable=False),
        sa.UniqueConstraint("series", "number", name="uq_plan_versions_series"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_plan_versions")),
    )
    op.create_index("ix_plan_versions_series", "plan_versions", ["series"])
    op.create_table(
        "plan_changes",
        sa.Column("id", BigIntPK, autoincrement=True, nullable=False),
        sa.Column("series", sa.String(36), nullable=False),
        sa.Column(
            "version_id",
            sa.String(36),
            sa.ForeignKey("plan_versions.id", name="fk_plan_changes_version_id_plan_versions"),
            nullable=False,
        ),
        sa.Column("number", sa.Integer(), nullable=False),
        sa.Column("service_number", sa.String(32), nullable=False),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("unit", sa.String(16), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("event_id", sa.String(200), nullable=True),
        sa.Column("before", sa.Text(), nullable=False),
        sa.Column("after", sa.Text(), nullable=False),
        sa.Column("notice_days", sa.Integer(), nullable=False),
        sa.Column("clear_days", sa.Integer(), nullable=False),
        sa.Column("cost_class", sa.String(64), nullable=False),
        sa.Column("pay", sa.Float(), nullable=False),
        sa.Column("weight", sa.Float(), nullable=False),
        sa.Column("notify", sa.Boolean(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_plan_changes")),
    )
    op.create_index("ix_plan_changes_version_id", "plan_changes", ["version_id"])
    op.create_index("ix_plan_changes_series_day", "plan_changes", ["series", "day"])
    op.create_index("ix_plan_changes_series_officer", "plan_changes", ["series", "service_number"])
    op.create_index("ix_plan_changes_series_event", "plan_changes", ["series", "event_id"])
    op.create_table(
        "plan_pins",
        sa.Column("id", BigIntPK, autoincrement=True, nullable=False),
        sa.Column(
            "series",
            sa.String(36),
            sa.ForeignKey("plans.job_id", name="fk_plan_pins_series_plans"),
            nullable=False,
        ),
        sa.Column("event_id", sa.String(200), nullable=False),
        sa.Column("tour_index", sa.Integer(), nullable=True),
        sa.Column("service_number", sa.String(32), nullable=True),
        sa.Column("created_by", sa.String(24), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_plan_pins")),
    )
    op.create_index("ix_plan_pins_series", "plan_pins", ["series"])
    op.create_table(
        "idempotent_requests",
        sa.Column("key_id", sa.String(24), nullable=False),
        sa.Column("idempotency_key", sa.String(200), nullable=False),
        sa.Column("request_hash", sa.String(64), nullable=False),
        sa.Column("version_id", sa.String(36), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("key_id", "idempotency_key", name=op.f("pk_idempotent_requests")),
    )
    op.create_table(
        "officer_absences",
        sa.Column("id", BigIntPK, autoincrement=True, nullable=False),
        sa.Column(
            "service_number",
            sa.String(32),
            sa.ForeignKey("officers.service_number", name="fk_officer_absences_service_number_officers"),
            nullable=False,
        ),
        sa.Column("start", sa.Date(), nullable=False),
        sa.Column("end", sa.Date(), nullable=False),
        sa.Column("reason", sa.String(32), nullable=False),
        sa.Column("note", sa.String(500), nullable=False),
        sa.Column("created_by", sa.String(24), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_officer_absences")),
    )
    op.create_index("ix_officer_absences_service_number", "officer_absences", ["service_number"])


def downgrade() -> None:
    op.drop_table("officer_absences")
    op.drop_table("idempotent_requests")
    op.drop_table("plan_pins")
    op.drop_table("plan_changes")
    op.drop_table("plan_versions")
