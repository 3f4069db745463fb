"""plan_jobs: who asked to cancel and when, and what kind of failure ended a job; plans.analysis

`created_by` (the submitter's key id) already exists; `cancelled_by` is the key id that asked to
cancel. `error_kind` tells a job that failed on its inputs or in the solver (deterministic: never
retried) from one given up after repeated worker crashes. Jobs stored before this revision keep
NULL in all three. `plans.analysis` is the plan's analysis as the job computed it
(api.jobs.analysis.PlanAnalysis, zlib msgpack); NULL for plans stored before it, which the API
analyses itself.

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-03
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("plan_jobs") as batch:
        batch.add_column(sa.Column("cancelled_by", sa.String(length=24), nullable=True))
        batch.add_column(sa.Column("cancel_requested_at", sa.DateTime(), nullable=True))
        batch.add_column(sa.Column("error_kind", sa.String(length=16), nullable=True))
    with op.batch_alter_table("plans") as batch:
        batch.add_column(sa.Column("analysis", sa.LargeBinary(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("plans") as batch:
        batch.drop_column("analysis")
    with op.batch_alter_table("plan_jobs") as batch:
        batch.drop_column("error_kind")
        batch.drop_column("cancel_requested_at")
        batch.drop_column("cancelled_by")
