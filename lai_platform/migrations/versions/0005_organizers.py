"""Organizers per challenge: roles, announcements, moderation, dataset versions, rescoring,
score history, final leaderboards and an append-only audit log.

The global `users.is_organizer` flag becomes an admin role on every existing challenge.

Revision ID: dd4be619b2d8
Revises: 9a41c7e2b3d5
Create Date: 2026-12-02 12:06:53.128103

"""
import sqlalchemy as sa
from alembic import op


# revision identifiers, used by Alembic.
revision = 'dd4be619b2d8'
down_revision = '9a41c7e2b3d5'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('announcements',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('challenge_id', sa.Integer(), nullable=False),
    sa.Column('title', sa.String(length=200), nullable=False),
    sa.Column('body_md', sa.Text(), nullable=False),
    sa.Column('author_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['author_id'], ['users.id'], ),
    sa.ForeignKeyConstraint(['challenge_id'], ['challenges.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('announcements', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_announcements_challenge_id'), ['challenge_id'], unique=False)

    op.create_table('audit_events',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('challenge_id', sa.Integer(), nullable=True),
    sa.Column('actor_id', sa.Integer(), nullable=True),
    sa.Column('action', sa.String(length=64), nullable=False),
    sa.Column('target', sa.String(length=200), nullable=False),
    sa.Column('before', sa.JSON(), nullable=True),
    sa.Column('after', sa.JSON(), nullable=True),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['actor_id'], ['users.id'], ),
    sa.ForeignKeyConstraint(['challenge_id'], ['challenges.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('audit_events', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_audit_events_challenge_id'), ['challenge_id'], unique=False)

    op.create_table('challenge_roles',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('challenge_id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('role', sa.String(length=16), nullable=False),
    sa.Column('granted_by_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['challenge_id'], ['challenges.id'], ),
    sa.ForeignKeyConstraint(['granted_by_id'], ['users.id'], ),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('challenge_id', 'user_id')
    )
    with op.batch_alter_table('challenge_roles', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_challenge_roles_challenge_id'), ['challenge_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_challenge_roles_user_id'), ['user_id'], unique=False)

    op.create_table('final_leaderboards',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('phase_id', sa.Integer(), nullable=False),
    sa.Column('published_at', sa.DateTime(), nullable=False),
    sa.Column('published_by_id', sa.Integer(), nullable=True),
    sa.Column('columns', sa.JSON(), nullable=False),
    sa.Column('rows', sa.JSON(), nullable=False),
    sa.ForeignKeyConstraint(['phase_id'], ['phases.id'], ),
    sa.ForeignKeyConstraint(['published_by_id'], ['users.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('final_leaderboards', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_final_leaderboards_phase_id'), ['phase_id'], unique=False)

    op.create_table('rescorings',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('phase_id', sa.Integer(), nullable=False),
    sa.Column('dataset_id', sa.Integer(), nullable=False),
    sa.Column('state', sa.String(length=16), nullable=False),
    sa.Column('total', sa.Integer(), nullable=False),
    sa.Column('done', sa.Integer(), nullable=False),
    sa.Column('failed', sa.Integer(), nullable=False),
    sa.Column('created_by_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('finished_at', sa.DateTime(), nullable=True),
    sa.ForeignKeyConstraint(['created_by_id'], ['users.id'], ),
    sa.ForeignKeyConstraint(['dataset_id'], ['datasets.id'], ),
    sa.ForeignKeyConstraint(['phase_id'], ['phases.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('rescorings', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_rescorings_phase_id'), ['phase_id'], unique=False)

    op.create_table('score_history',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('submission_id', sa.Integer(), nullable=False),
    sa.Column('dataset_id', sa.Integer(), nullable=True),
    sa.Column('metrics', sa.JSON(), nullable=False),
    sa.Column('primary_score', sa.Float(), nullable=True),
    sa.Column('scored_at', sa.DateTime(), nullable=False),
    sa.Column('replaced_at', sa.DateTime(), nullable=False),
    sa.Column('why', sa.String(length=200), nullable=False),
    sa.ForeignKeyConstraint(['dataset_id'], ['datasets.id'], ),
    sa.ForeignKeyConstraint(['submission_id'], ['submissions.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('score_history', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_score_history_submission_id'), ['submission_id'], unique=False)

    with op.batch_alter_table('challenges', schema=None) as batch_op:
        batch_op.add_column(sa.Column('email_domains', sa.JSON(), nullable=False, server_default='[]'))
        batch_op.add_column(sa.Column('task', sa.JSON(), nullable=True))

    with op.batch_alter_table('datasets', schema=None) as batch_op:
        batch_op.add_column(sa.Column('version', sa.Integer(), nullable=False, server_default='1'))
        batch_op.add_column(sa.Column('report', sa.JSON(), nullable=True))
        batch_op.add_column(sa.Column('created_by_id', sa.Integer(), nullable=True))
        batch_op.create_foreign_key('fk_datasets_created_by', 'users', ['created_by_id'], ['id'])

    with op.batch_alter_table('participations', schema=None) as batch_op:
        batch_op.add_column(sa.Column('reason', sa.Text(), nullable=False, server_default=''))
        batch_op.add_column(sa.Column('decided_at', sa.DateTime(), nullable=True))
        batch_op.add_column(sa.Column('decided_by_id', sa.Integer(), nullable=True))
        batch_op.create_foreign_key('fk_participations_decided_by', 'users', ['decided_by_id'], ['id'])

    with op.batch_alter_table('phases', schema=None) as batch_op:
        batch_op.add_column(sa.Column('submissions_concurrent', sa.Integer(), nullable=True))
        batch_op.alter_column('dataset_id', existing_type=sa.Integer(), nullable=True)

    with op.batch_alter_table('results', schema=None) as batch_op:
        batch_op.add_column(sa.Column('dataset_id', sa.Integer(), nullable=True))
        batch_op.create_foreign_key('fk_results_dataset', 'datasets', ['dataset_id'], ['id'])

    with op.batch_alter_table('submissions', schema=None) as batch_op:
        batch_op.add_column(sa.Column('moderation', sa.String(length=16), nullable=True))
        batch_op.add_column(sa.Column('moderation_reason', sa.Text(), nullable=False, server_default=''))

    op.execute(
        "INSERT INTO challenge_roles (challenge_id, user_id, role, created_at) "
        "SELECT c.id, u.id, 'admin', CURRENT_TIMESTAMP FROM challenges c, users u "
        "WHERE u.is_organizer AND NOT u.is_admin"
    )
    op.execute(
        "UPDATE results SET dataset_id = "
        "(SELECT dataset_id FROM phases WHERE phases.id = results.phase_id)"
    )
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.drop_column('is_organizer')
    _append_only('audit_events')


def _append_only(table):
    """The database itself refuses to change or delete an audit event."""
    message = f"{table} is append-only"
    if op.get_bind().dialect.name == 'postgresql':
        op.execute(
            f"CREATE FUNCTION {table}_append_only() RETURNS trigger AS $$ BEGIN "
            f"RAISE EXCEPTION '{message}'; END; $$ LANGUAGE plpgsql"
        )
        op.execute(
            f"CREATE TRIGGER {table}_append_only BEFORE UPDATE OR DELETE ON {table} "
            f"FOR EACH ROW EXECUTE FUNCTION {table}_append_only()"
        )
        return
    for event in ('UPDATE', 'DELETE'):
        op.execute(
            f"CREATE TRIGGER {table}_no_{event.lower()} BEFORE {event} ON {table} "
            f"BEGIN SELECT RAISE(ABORT, '{message}'); END"
        )


def downgrade():
    if op.get_bind().dialect.name == 'postgresql':
        op.execute("DROP TRIGGER audit_events_append_only ON audit_events")
        op.execute("DROP FUNCTION audit_events_append_only()")
    else:
        op.execute("DROP TRIGGER audit_events_no_update")
        op.execute("DROP TRIGGER audit_events_no_delete")
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.add_column(sa.Column('is_organizer', sa.BOOLEAN(), nullable=False, server_default=sa.false()))
    op.execute("UPDATE users SET is_organizer = (id IN (SELECT user_id FROM challenge_roles))")

    with op.batch_alter_table('submissions', schema=None) as batch_op:
        batch_op.drop_column('moderation_reason')
        batch_op.drop_column('moderation')

    with op.batch_alter_table('results', schema=None) as batch_op:
        batch_op.drop_constraint('fk_results_dataset', type_='foreignkey')
        batch_op.drop_column('dataset_id')

    with op.batch_alter_table('phases', schema=None) as batch_op:
        batch_op.alter_column('dataset_id', existing_type=sa.Integer(), nullable=False)
        batch_op.drop_column('submissions_concurrent')

    with op.batch_alter_table('participations', schema=None) as batch_op:
        batch_op.drop_constraint('fk_participations_decided_by', type_='foreignkey')
        batch_op.drop_column('decided_by_id')
        batch_op.drop_column('decided_at')
        batch_op.drop_column('reason')

    with op.batch_alter_table('datasets', schema=None) as batch_op:
        batch_op.drop_constraint('fk_datasets_created_by', type_='foreignkey')
        batch_op.drop_column('created_by_id')
        batch_op.drop_column('report')
        batch_op.drop_column('version')

    with op.batch_alter_table('challenges', schema=None) as batch_op:
        batch_op.drop_column('task')
        batch_op.drop_column('email_domains')

    with op.batch_alter_table('score_history', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_score_history_submission_id'))

    op.drop_table('score_history')
    with op.batch_alter_table('rescorings', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_rescorings_phase_id'))

    op.drop_table('rescorings')
    with op.batch_alter_table('final_leaderboards', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_final_leaderboards_phase_id'))

    op.drop_table('final_leaderboards')
    with op.batch_alter_table('challenge_roles', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_challenge_roles_user_id'))
        batch_op.drop_index(batch_op.f('ix_challenge_roles_challenge_id'))

    op.drop_table('challenge_roles')
    with op.batch_alter_table('audit_events', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_audit_events_challenge_id'))

    op.drop_table('audit_events')
    with op.batch_alter_table('announcements', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_announcements_challenge_id'))

    op.drop_table('announcements')
