"""LTI services: registrations that accept any deployment id, the roster claim per course

Revision ID: 0003
Revises: 0002 (0001 on its own branch; chained after the outbox migration when merged)
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | Sequence[str] | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Add platform_registrations.allow_any_deployment (false for existing rows) and
    contexts.nrps_endpoint."""
    with op.batch_alter_table("platform_registrations", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("allow_any_deployment", sa.Boolean(), server_default=sa.false(),
                      nullable=False)
        )
    with op.batch_alter_table("contexts", schema=None) as batch_op:
        batch_op.add_column(sa.Column("nrps_endpoint", sa.JSON(), nullable=True))


def downgrade() -> None:
    """Drop the columns again."""
    with op.batch_alter_table("contexts", schema=None) as batch_op:
        batch_op.drop_column("nrps_endpoint")
    with op.batch_alter_table("platform_registrations", schema=None) as batch_op:
        batch_op.drop_column("allow_any_deployment")
