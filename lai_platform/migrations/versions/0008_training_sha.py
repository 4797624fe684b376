"""The training archive's SHA-256 (challenges.training_data_sha256), published for
resumable, checked downloads. Archives stored earlier are hashed on first download.

Revision ID: 8c1f4e7a2d35
Revises: 7b3e9d2a6c14
Create Date: 2026-12-14 11:00:00

"""
import sqlalchemy as sa
from alembic import op

revision = '8c1f4e7a2d35'
down_revision = '7b3e9d2a6c14'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('challenges', schema=None) as batch_op:
        batch_op.add_column(sa.Column('training_data_sha256', sa.String(length=64),
                                      nullable=True))


def downgrade():
    with op.batch_alter_table('challenges', schema=None) as batch_op:
        batch_op.drop_column('training_data_sha256')
