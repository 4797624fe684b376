"""Final selection: phases.final_selection_max and submissions.selected_for_final.

Revision ID: 4f6b2d8e0a17
Revises: 9d2a5c8e1f03
Create Date: 2026-12-03 10:00:00

"""
import sqlalchemy as sa
from alembic import op

revision = '4f6b2d8e0a17'
down_revision = '9d2a5c8e1f03'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('phases', schema=None) as batch_op:
        batch_op.add_column(sa.Column('final_selection_max', sa.Integer(), nullable=True))
    with op.batch_alter_table('submissions', schema=None) as batch_op:
        batch_op.add_column(sa.Column('selected_for_final', sa.Boolean(), nullable=False,
                                      server_default=sa.false()))


def downgrade():
    with op.batch_alter_table('submissions', schema=None) as batch_op:
        batch_op.drop_column('selected_for_final')
    with op.batch_alter_table('phases', schema=None) as batch_op:
        batch_op.drop_column('final_selection_max')
