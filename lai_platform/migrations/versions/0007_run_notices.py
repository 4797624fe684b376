"""An opt-in e-mail when a run ends: users.notify_on_finish.

Revision ID: 7b3e9d2a6c14
Revises: 5e0c7a19f4b2
Create Date: 2026-12-14 10:00:00

"""
import sqlalchemy as sa
from alembic import op

revision = '7b3e9d2a6c14'
down_revision = '5e0c7a19f4b2'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.add_column(sa.Column('notify_on_finish', sa.Boolean(), nullable=False,
                                      server_default=sa.false()))


def downgrade():
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.drop_column('notify_on_finish')
