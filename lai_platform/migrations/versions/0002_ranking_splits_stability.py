"""Ranking methods, display modes, public/private split, rank stability, evaluation images.

Server defaults let databases that already hold rows upgrade in place.

Revision ID: d73e98658116
Revises: ea1978bad979
Create Date: 2026-11-27 06:34:26.341226

"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = 'd73e98658116'
down_revision = 'ea1978bad979'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('challenges', schema=None) as batch_op:
        batch_op.add_column(sa.Column('training_centres', sa.JSON(), nullable=False, server_default='[]'))

    with op.batch_alter_table('phases', schema=None) as batch_op:
        batch_op.add_column(sa.Column('ranking_method', sa.String(length=32), nullable=False, server_default='score'))
        batch_op.add_column(sa.Column('ranking_metrics', sa.JSON(), nullable=False, server_default='[]'))
        batch_op.add_column(sa.Column('ranking_alpha', sa.Float(), nullable=False, server_default='0.05'))
        batch_op.add_column(sa.Column('display_mode', sa.String(length=16), nullable=False, server_default='all'))
        batch_op.add_column(sa.Column('public_case_ids', sa.JSON(), nullable=True))
        batch_op.add_column(sa.Column('case_results_visible', sa.Boolean(), nullable=False, server_default=sa.false()))
        batch_op.add_column(sa.Column('evaluation_image_id', sa.String(length=80), nullable=True))
        batch_op.add_column(sa.Column('evaluation_image_key', sa.String(length=512), nullable=True))
        batch_op.add_column(sa.Column('ranked_on', sa.String(length=16), nullable=True))
        batch_op.add_column(sa.Column('rank_stability', sa.JSON(), nullable=True))

    with op.batch_alter_table('results', schema=None) as batch_op:
        batch_op.add_column(sa.Column('metrics_public', sa.JSON(), nullable=True))
        batch_op.add_column(sa.Column('metrics_private', sa.JSON(), nullable=True))
        batch_op.add_column(sa.Column('curves', sa.JSON(), nullable=True))
        batch_op.add_column(sa.Column('resampled', sa.JSON(), nullable=True))
        batch_op.add_column(sa.Column('case_scores', sa.JSON(), nullable=True))
        batch_op.add_column(sa.Column('shown', sa.Boolean(), nullable=False, server_default=sa.true()))
        batch_op.add_column(sa.Column('rank_low', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('rank_high', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('rank_hold_probability', sa.Float(), nullable=True))

    with op.batch_alter_table('submissions', schema=None) as batch_op:
        batch_op.add_column(sa.Column('is_baseline', sa.Boolean(), nullable=False, server_default=sa.false()))



def downgrade():
    with op.batch_alter_table('submissions', schema=None) as batch_op:
        batch_op.drop_column('is_baseline')

    with op.batch_alter_table('results', schema=None) as batch_op:
        batch_op.drop_column('rank_hold_probability')
        batch_op.drop_column('rank_high')
        batch_op.drop_column('rank_low')
        batch_op.drop_column('shown')
        batch_op.drop_column('case_scores')
        batch_op.drop_column('resampled')
        batch_op.drop_column('curves')
        batch_op.drop_column('metrics_private')
        batch_op.drop_column('metrics_public')

    with op.batch_alter_table('phases', schema=None) as batch_op:
        batch_op.drop_column('rank_stability')
        batch_op.drop_column('ranked_on')
        batch_op.drop_column('evaluation_image_key')
        batch_op.drop_column('evaluation_image_id')
        batch_op.drop_column('case_results_visible')
        batch_op.drop_column('public_case_ids')
        batch_op.drop_column('display_mode')
        batch_op.drop_column('ranking_alpha')
        batch_op.drop_column('ranking_metrics')
        batch_op.drop_column('ranking_method')

    with op.batch_alter_table('challenges', schema=None) as batch_op:
        batch_op.drop_column('training_centres')

