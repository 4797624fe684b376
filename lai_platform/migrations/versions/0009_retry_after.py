"""A run given back after a platform fault waits before its next try: submissions.retry_after.

Revision ID: 9d2a5c8e1f03
Revises: 8c1f4e7a2d35
Create Date: 2026-12-02 13:45:00

"""
import sqlalchemy as sa
from alembic import op

revision = '9d2a5c8e1f03'
down_revision = '8c1f4e7a2d35'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('submissions', schema=None) as batch_op:
        batch_op.add_column(sa.Column('retry_after', sa.DateTime(), nullable=True))


def downgrade():
    with op.batch_alter_table('submissions', schema=None) as batch_op:
        batch_op.drop_column('retry_after')
