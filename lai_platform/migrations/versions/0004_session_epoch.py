"""Sessions that logout, a password change and an admin can end: users.session_epoch.

Revision ID: 9a41c7e2b3d5
Revises: 3c5f1a2b7d90
Create Date: 2026-12-02 10:30:00

"""
import sqlalchemy as sa
from alembic import op

revision = '9a41c7e2b3d5'
down_revision = '3c5f1a2b7d90'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.add_column(sa.Column('session_epoch', sa.Integer(), nullable=False, server_default='0'))


def downgrade():
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.drop_column('session_epoch')
