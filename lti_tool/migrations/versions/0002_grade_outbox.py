"""grade outbox

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-27 00:30:00

"""
from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa


revision: str = '0002'
down_revision: Union[str, Sequence[str], None] = '0001'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    """Upgrade schema."""
    op.create_table('grade_outbox',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('attempt_id', sa.Integer(), nullable=False),
    sa.Column('registration_id', sa.Integer(), nullable=False),
    sa.Column('resource_link_pk', sa.Integer(), nullable=False),
    sa.Column('user_pk', sa.Integer(), nullable=False),
    sa.Column('lineitem_url', sa.String(length=2048), nullable=True),
    sa.Column('payload', sa.JSON(), nullable=False),
    sa.Column('score_timestamp', sa.DateTime(timezone=True), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('next_try_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('claimed_until', sa.DateTime(timezone=True), nullable=True),
    sa.Column('claim_token', sa.String(length=64), nullable=True),
    sa.Column('last_status_code', sa.Integer(), nullable=True),
    sa.Column('last_error', sa.Text(), nullable=True),
    sa.Column('tries', sa.JSON(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('finished_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['attempt_id'], ['attempts.id'], ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['registration_id'], ['platform_registrations.id'], ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['resource_link_pk'], ['resource_links.id'], ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['user_pk'], ['users.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('grade_outbox', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_grade_outbox_attempt_id'), ['attempt_id'], unique=False)
        batch_op.create_index('ix_grade_outbox_due', ['status', 'next_try_at'], unique=False)
        batch_op.create_index('ix_grade_outbox_series', ['resource_link_pk', 'user_pk', 'score_timestamp'], unique=False)

    with op.batch_alter_table('resource_links', schema=None) as batch_op:
        batch_op.add_column(sa.Column('ags_lineitem', sa.JSON(), nullable=True))


def downgrade() -> None:
    """Downgrade schema."""
    with op.batch_alter_table('resource_links', schema=None) as batch_op:
        batch_op.drop_column('ags_lineitem')

    with op.batch_alter_table('grade_outbox', schema=None) as batch_op:
        batch_op.drop_index('ix_grade_outbox_series')
        batch_op.drop_index('ix_grade_outbox_due')
        batch_op.drop_index(batch_op.f('ix_grade_outbox_attempt_id'))

    op.drop_table('grade_outbox')
