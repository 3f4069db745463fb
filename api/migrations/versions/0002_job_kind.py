"""plan_jobs.kind: plan or frontier, so that each list shows its own jobs

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-28
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("plan_jobs") as batch:
        batch.add_column(sa.Column("kind", sa.String(length=16), nullable=False, server_default="plan"))
        batch.create_index("ix_plan_jobs_kind_created", ["kind", "created_at"])
    # jobs queued before this column said what they were only inside their options
    op.execute("UPDATE plan_jobs SET kind = 'frontier' WHERE options LIKE '%\"kind\"%frontier%'")


def downgrade() -> None:
    with op.batch_alter_table("plan_jobs") as batch:
        batch.drop_index("ix_plan_jobs_kind_created")
        batch.drop_column("kind")
