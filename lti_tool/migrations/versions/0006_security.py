"""security: anonymised step scores kept after erasure and retention

Revision ID: 0006
Revises: 0005
"""
from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa


revision: str = '0006'
down_revision: Union[str, Sequence[str], None] = '0005'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    """Upgrade schema."""
    op.create_table('anonymous_step_scores',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('registration_id', sa.Integer(), nullable=True),
    sa.Column('resource_link_pk', sa.Integer(), nullable=True),
    sa.Column('scenario_id', sa.String(length=255), nullable=False),
    sa.Column('scenario_version', sa.String(length=64), nullable=False),
    sa.Column('step_id', sa.String(length=255), nullable=False),
    sa.Column('score', sa.Float(), nullable=False),
    sa.Column('weight', sa.Float(), nullable=False),
    sa.Column('grader', sa.String(length=64), nullable=False),
    sa.Column('grader_version', sa.String(length=32), nullable=False),
    sa.Column('graded_month', sa.String(length=7), nullable=False),
    sa.Column('reason', sa.String(length=16), nullable=False),
    sa.ForeignKeyConstraint(['registration_id'], ['platform_registrations.id'], ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['resource_link_pk'], ['resource_links.id'], ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('anonymous_step_scores', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_anonymous_step_scores_registration_id'), ['registration_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_anonymous_step_scores_resource_link_pk'), ['resource_link_pk'], unique=False)


def downgrade() -> None:
    """Downgrade schema."""
    with op.batch_alter_table('anonymous_step_scores', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_anonymous_step_scores_resource_link_pk'))
        batch_op.drop_index(batch_op.f('ix_anonymous_step_scores_registration_id'))
    op.drop_table('anonymous_step_scores')
