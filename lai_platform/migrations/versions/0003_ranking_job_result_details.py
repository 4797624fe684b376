"""Ranking as a job of its own, light result rows, image tarball checksums.

Results keep what every ranking reads (`part_values`); resampled and per-case vectors move
to `result_details.vectors` (float32 arrays behind a JSON index) with the curves. Phases get the
ranking request/version columns.

Revision ID: 3c5f1a2b7d90
Revises: d73e98658116
Create Date: 2026-12-02 09:00:00

"""
import json
import struct

import numpy as np
import sqlalchemy as sa
from alembic import op

revision = '3c5f1a2b7d90'
down_revision = 'd73e98658116'
branch_labels = None
depends_on = None


def _load(value):
    return json.loads(value) if isinstance(value, str) else value


def _values(metrics):
    return {name: entry.get("value") for name, entry in ((metrics or {}).get("metrics") or {}).items()
            if isinstance(entry, dict)}


def _pack(resampled, case_scores):
    """The format of lai_platform.scoring.vectors (LAIV1), written here so that this
    migration does not depend on code that may change."""
    index, arrays, offset = {}, [], 0
    for kind, vectors in (("resampled", resampled or {}), ("case", case_scores or {})):
        for part, by_metric in vectors.items():
            for metric, values in (by_metric or {}).items():
                array = np.array([np.nan if v is None else v for v in values], dtype="<f4")
                index[f"{kind}.{part}.{metric}"] = [offset, len(array)]
                arrays.append(array.tobytes())
                offset += array.nbytes
    if not index:
        return None
    header = json.dumps(index, separators=(",", ":")).encode()
    return b"LAIV1" + struct.pack("<I", len(header)) + header + b"".join(arrays)


def upgrade():
    op.create_table(
        'result_details',
        sa.Column('submission_id', sa.Integer(), nullable=False),
        sa.Column('vectors', sa.LargeBinary(), nullable=True),
        sa.Column('curves', sa.JSON(), nullable=True),
        sa.ForeignKeyConstraint(['submission_id'], ['results.submission_id'], ),
        sa.PrimaryKeyConstraint('submission_id'),
    )
    with op.batch_alter_table('results', schema=None) as batch_op:
        batch_op.add_column(sa.Column('part_values', sa.JSON(), nullable=False, server_default='{}'))
        batch_op.add_column(sa.Column('position', sa.Integer(), nullable=True))
        batch_op.create_index('ix_results_phase_position', ['phase_id', 'position'], unique=False)

    bind = op.get_bind()
    rows = bind.execute(sa.text(
        "SELECT submission_id, metrics, metrics_public, metrics_private, resampled, "
        "case_scores, curves FROM results")).all()
    for row in rows:
        part_values = {"all": _values(_load(row.metrics))}
        for part, metrics in (("public", row.metrics_public), ("private", row.metrics_private)):
            if metrics is not None:
                part_values[part] = _values(_load(metrics))
        bind.execute(sa.text("UPDATE results SET part_values = :v WHERE submission_id = :id"),
                     {"v": json.dumps(part_values), "id": row.submission_id})
        bind.execute(
            sa.text("INSERT INTO result_details (submission_id, vectors, curves) "
                    "VALUES (:id, :vectors, :curves)"),
            {"id": row.submission_id,
             "vectors": _pack(_load(row.resampled), _load(row.case_scores)),
             "curves": None if row.curves is None else json.dumps(_load(row.curves))})

    with op.batch_alter_table('results', schema=None) as batch_op:
        batch_op.drop_column('resampled')
        batch_op.drop_column('case_scores')
        batch_op.drop_column('curves')

    with op.batch_alter_table('phases', schema=None) as batch_op:
        batch_op.add_column(sa.Column('rank_requested_at', sa.DateTime(), nullable=True))
        batch_op.add_column(sa.Column('ranked_at', sa.DateTime(), nullable=True))
        batch_op.add_column(sa.Column('ranks_version', sa.Integer(), nullable=False, server_default='0'))
        batch_op.add_column(sa.Column('shown_count', sa.Integer(), nullable=False, server_default='0'))
    # Every phase is ranked again by the next tick.
    bind.execute(sa.text("UPDATE phases SET rank_requested_at = CURRENT_TIMESTAMP"))

    with op.batch_alter_table('container_images', schema=None) as batch_op:
        batch_op.add_column(sa.Column('tarball_sha256', sa.String(length=64), nullable=True))
        batch_op.create_index(batch_op.f('ix_container_images_tarball_sha256'), ['tarball_sha256'], unique=False)


def downgrade():
    with op.batch_alter_table('container_images', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_container_images_tarball_sha256'))
        batch_op.drop_column('tarball_sha256')
    with op.batch_alter_table('phases', schema=None) as batch_op:
        batch_op.drop_column('shown_count')
        batch_op.drop_column('ranks_version')
        batch_op.drop_column('ranked_at')
        batch_op.drop_column('rank_requested_at')
    with op.batch_alter_table('results', schema=None) as batch_op:
        batch_op.add_column(sa.Column('curves', sa.JSON(), nullable=True))
        batch_op.add_column(sa.Column('resampled', sa.JSON(), nullable=True))
        batch_op.add_column(sa.Column('case_scores', sa.JSON(), nullable=True))
        batch_op.drop_index('ix_results_phase_position')
        batch_op.drop_column('position')
        batch_op.drop_column('part_values')
    # The vectors are not converted back: a downgraded platform re-scores to rank on them.
    op.drop_table('result_details')
