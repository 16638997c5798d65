"""instructor views: criterion and option rows, result history, grade audit

Revision ID: 0005
Revises: 0003 (chained after the outbox and LTI services migrations merged into this branch)
"""
from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa


revision: str = '0005'
down_revision: Union[str, Sequence[str], None] = '0003'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    """Upgrade schema."""
    with op.batch_alter_table('step_results', schema=None) as batch_op:
        batch_op.add_column(sa.Column('machine_score', sa.Float(), nullable=True))
    op.create_table('step_criterion_results',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('attempt_id', sa.Integer(), nullable=False),
    sa.Column('step_id', sa.String(length=255), nullable=False),
    sa.Column('criterion_id', sa.String(length=255), nullable=False),
    sa.Column('label', sa.String(length=255), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('points', sa.Float(), nullable=False),
    sa.Column('max_points', sa.Float(), nullable=False),
    sa.ForeignKeyConstraint(['attempt_id'], ['attempts.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_index('ix_step_criterion_results_attempt_id', 'step_criterion_results', ['attempt_id'])
    op.create_table('step_option_choices',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('attempt_id', sa.Integer(), nullable=False),
    sa.Column('step_id', sa.String(length=255), nullable=False),
    sa.Column('option_id', sa.String(length=255), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.Column('correct', sa.Boolean(), nullable=False),
    sa.ForeignKeyConstraint(['attempt_id'], ['attempts.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_index('ix_step_option_choices_attempt_id', 'step_option_choices', ['attempt_id'])
    op.create_table('step_result_history',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('attempt_id', sa.Integer(), nullable=False),
    sa.Column('step_id', sa.String(length=255), nullable=False),
    sa.Column('score', sa.Float(), nullable=False),
    sa.Column('criteria', sa.JSON(), nullable=False),
    sa.Column('feedback', sa.JSON(), nullable=False),
    sa.Column('grader', sa.String(length=64), nullable=False),
    sa.Column('grader_version', sa.String(length=32), nullable=False),
    sa.Column('content_hash', sa.String(length=128), nullable=False),
    sa.Column('graded_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('replaced_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('reason', sa.String(length=32), nullable=False),
    sa.ForeignKeyConstraint(['attempt_id'], ['attempts.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_index('ix_step_result_history_attempt_id', 'step_result_history', ['attempt_id'])
    op.create_table('grade_audit',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('registration_id', sa.Integer(), nullable=False),
    sa.Column('attempt_id', sa.Integer(), nullable=False),
    sa.Column('scenario_id', sa.String(length=255), nullable=False),
    sa.Column('step_id', sa.String(length=255), nullable=True),
    sa.Column('action', sa.String(length=16), nullable=False),
    sa.Column('old_score', sa.Float(), nullable=True),
    sa.Column('new_score', sa.Float(), nullable=True),
    sa.Column('machine_score', sa.Float(), nullable=True),
    sa.Column('machine_criteria', sa.JSON(), nullable=False),
    sa.Column('human_criteria', sa.JSON(), nullable=False),
    sa.Column('comment', sa.Text(), nullable=False),
    sa.Column('actor_user_pk', sa.Integer(), nullable=False),
    sa.Column('actor_name', sa.String(length=255), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_index('ix_grade_audit_registration_id', 'grade_audit', ['registration_id'])
    op.create_index('ix_grade_audit_attempt_id', 'grade_audit', ['attempt_id'])
    op.create_index('ix_grade_audit_scenario_id', 'grade_audit', ['scenario_id'])


def downgrade() -> None:
    """Downgrade schema."""
    op.drop_table('grade_audit')
    op.drop_table('step_result_history')
    op.drop_table('step_option_choices')
    op.drop_table('step_criterion_results')
    with op.batch_alter_table('step_results', schema=None) as batch_op:
        batch_op.drop_column('machine_score')
