"""instructor speed: per-learner placement summary (learner_progress), filled from the attempts

Revision ID: 0008
Revises: 0007
"""
from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa


revision: str = '0008'
down_revision: Union[str, Sequence[str], None] = '0007'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None

DONE = "('graded', 'needs_review', 'overridden')"


def _seconds_sql(dialect: str) -> str:
    if dialect == "postgresql":
        return "EXTRACT(EPOCH FROM submitted_at - created_at)"
    return "(julianday(submitted_at) - julianday(created_at)) * 86400.0"


def upgrade() -> None:
    """Upgrade schema, then summarise the attempts already there (one SQL statement)."""
    op.create_table('learner_progress',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('resource_link_pk', sa.Integer(), nullable=False),
    sa.Column('user_pk', sa.Integer(), nullable=False),
    sa.Column('status', sa.String(length=32), nullable=False),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('best_score', sa.Float(), nullable=True),
    sa.Column('last_score', sa.Float(), nullable=True),
    sa.Column('mean_score', sa.Float(), nullable=True),
    sa.Column('seconds', sa.Float(), nullable=True),
    sa.Column('needs_review', sa.Boolean(), nullable=False),
    sa.Column('grade_sync', sa.String(length=32), nullable=False),
    sa.Column('latest_attempt_id', sa.Integer(), nullable=True),
    sa.Column('graded_attempt_id', sa.Integer(), nullable=True),
    sa.Column('submitted_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('in_roster', sa.Boolean(), nullable=True),
    sa.Column('sort_name', sa.String(length=255), nullable=False),
    sa.ForeignKeyConstraint(['resource_link_pk'], ['resource_links.id'], ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['user_pk'], ['users.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('resource_link_pk', 'user_pk')
    )
    op.create_index('ix_learner_progress_link_status', 'learner_progress',
                    ['resource_link_pk', 'status'])
    op.create_index('ix_learner_progress_link_name', 'learner_progress',
                    ['resource_link_pk', 'sort_name', 'user_pk'])
    op.create_index('ix_learner_progress_user_pk', 'learner_progress', ['user_pk'])
    # Item analysis reads the graded attempts of a placement and scenario, then their rows.
    op.create_index('ix_attempts_link_scenario_status', 'attempts',
                    ['resource_link_pk', 'scenario_id', 'status'])

    seconds = _seconds_sql(op.get_bind().dialect.name)
    op.execute(f"""
        INSERT INTO learner_progress (resource_link_pk, user_pk, status, attempts, best_score,
            last_score, mean_score, seconds, needs_review, grade_sync, latest_attempt_id,
            graded_attempt_id, submitted_at, in_roster, sort_name)
        SELECT p.link_pk, p.user_pk, l.status, p.n, p.best, d.score, p.mean, p.secs,
            p.reviews > 0, COALESCE(d.grade_sync_status, l.grade_sync_status, ''),
            p.latest_id, p.last_done_id, l.submitted_at, NULL, lower(u.name)
        FROM (
            SELECT resource_link_pk AS link_pk, user_pk, count(*) AS n, max(id) AS latest_id,
                max(CASE WHEN status IN {DONE} THEN id END) AS last_done_id,
                max(score) AS best,
                avg(CASE WHEN status IN {DONE} THEN score END) AS mean,
                sum(CASE WHEN status = 'needs_review' THEN 1 ELSE 0 END) AS reviews,
                sum({seconds}) AS secs
            FROM attempts GROUP BY resource_link_pk, user_pk
        ) p
        JOIN attempts l ON l.id = p.latest_id
        JOIN users u ON u.id = p.user_pk
        LEFT JOIN attempts d ON d.id = p.last_done_id
    """)


def downgrade() -> None:
    """Downgrade schema."""
    op.drop_index('ix_attempts_link_scenario_status', table_name='attempts')
    op.drop_index('ix_learner_progress_user_pk', table_name='learner_progress')
    op.drop_index('ix_learner_progress_link_name', table_name='learner_progress')
    op.drop_index('ix_learner_progress_link_status', table_name='learner_progress')
    op.drop_table('learner_progress')
