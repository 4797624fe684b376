"""Which worker ran a submission (submissions.worker), and the workers table.

Revision ID: 5e0c7a19f4b2
Revises: dd4be619b2d8
Create Date: 2026-12-10 10:00:00

"""
import sqlalchemy as sa
from alembic import op

revision = '5e0c7a19f4b2'
down_revision = 'dd4be619b2d8'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'workers',
        sa.Column('name', sa.String(length=200), nullable=False),
        sa.Column('queues', sa.JSON(), nullable=False),
        sa.Column('gpu_capable', sa.Boolean(), nullable=False),
        sa.Column('gpu_reason', sa.Text(), nullable=False),
        sa.Column('started_at', sa.DateTime(), nullable=False),
        sa.Column('last_seen', sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint('name'),
    )
    with op.batch_alter_table('workers', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_workers_last_seen'), ['last_seen'], unique=False)
    with op.batch_alter_table('submissions', schema=None) as batch_op:
        batch_op.add_column(sa.Column('worker', sa.String(length=200), nullable=True))


def downgrade():
    with op.batch_alter_table('submissions', schema=None) as batch_op:
        batch_op.drop_column('worker')
    with op.batch_alter_table('workers', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_workers_last_seen'))
    op.drop_table('workers')
