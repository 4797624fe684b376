"""Changing a challenge's task from the organizer pages and the API: checked against the
phases that rank on its metrics, the datasets that must fit its labels, and the scores
already made under it; audited; the leaderboards follow."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy import func, select

from evaluator import GroundTruthError, Task, TaskError, read_ground_truth, task_from_mapping
from lai_platform import services
from lai_platform.audit import record
from lai_platform.challenges.tasks import task_of
from lai_platform.errors import PlatformError
from lai_platform.extensions import db
from lai_platform.leaderboards.ranking_job import request_ranking
from lai_platform.leaderboards.ranks import lock_for_ranking
from lai_platform.models import Challenge, Dataset, Phase, Result, User

# What scoring depends on: once a phase has scores, changing these would mix two definitions
# on one leaderboard (and a new positive_name renames the predictions key containers write).
SCORING_FIELDS = ("labels", "positive", "positive_name")


class TaskRefused(PlatformError):
    """The task change was refused; nothing was saved. One sentence per problem."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("invalid_task", " ".join(problems), 400)
        self.problems = problems


def change_task(actor: User, challenge: Challenge, given: Mapping[str, Any]) -> dict[str, Any]:
    """Check and store a new task (keys absent from `given` keep their value); returns the
    changed fields (after). Audited; the phases' leaderboards re-rank with the new columns."""
    current = task_of(challenge).to_mapping()
    try:
        task = task_from_mapping({**current, **given})
    except TaskError as exc:
        raise TaskRefused([f"{str(exc)[0].upper()}{str(exc)[1:]}."]) from None
    proposed = task.to_mapping()
    changed = [key for key in proposed if proposed[key] != current[key]]
    if not changed:
        return {}
    problems = _phase_conflicts(challenge, task) if {"metrics", "primary"} & set(changed) else []
    if set(SCORING_FIELDS) & set(changed):
        problems += _scored_conflicts(challenge) or _dataset_conflicts(challenge, task)
    if problems:
        raise TaskRefused(problems)
    challenge.task = proposed
    before, after = {k: current[k] for k in changed}, {k: proposed[k] for k in changed}
    record(actor, challenge, "task.edit", challenge.slug, before, after)
    phases = [phase.id for phase in challenge.phases]
    for phase_id in phases:
        lock_for_ranking(phase_id)  # a new page version: cached pages show the new columns
    db.session.commit()
    for phase_id in phases:  # ranks follow as a job (never inside the request)
        request_ranking(phase_id)
        services.get().jobs.enqueue_ranking(phase_id)
    return after


def _phase_conflicts(challenge: Challenge, task: Task) -> list[str]:
    """A phase ranks on metrics the task must keep showing."""
    problems = []
    for phase in challenge.phases:
        used = [phase.primary_metric, *(phase.ranking_metrics or [])]
        missing = [name for name in dict.fromkeys(used) if name not in task.metrics]
        if missing:
            problems.append(f"Phase '{phase.slug}' ranks on {', '.join(missing)}: keep "
                            f"{'it' if len(missing) == 1 else 'them'} among the metrics, or "
                            "change the phase's ranking first.")
    return problems


def _scored_conflicts(challenge: Challenge) -> list[str]:
    counts = db.session.execute(
        select(Phase.slug, func.count(Result.submission_id))
        .join(Result, Result.phase_id == Phase.id)
        .where(Phase.challenge_id == challenge.id)
        .group_by(Phase.slug)
    ).all()
    scored = [f"'{slug}' ({n})" for slug, n in counts if n]
    if not scored:
        return []
    return [f"The labels, the positive group and its name cannot change once submissions are "
            f"scored (phase {', '.join(scored)}): scores made under two tasks would share one "
            "leaderboard. Change the metrics or the primary metric only, or start a new "
            "challenge."]


def _dataset_conflicts(challenge: Challenge, task: Task) -> list[str]:
    """Each dataset a phase uses (and the newest version of each) must fit the new task."""
    datasets = {phase.dataset.id: phase.dataset for phase in challenge.phases if phase.dataset}
    newest: dict[str, Dataset] = {}
    for dataset in db.session.scalars(select(Dataset).where(
            Dataset.challenge_id == challenge.id).order_by(Dataset.version)):
        newest[dataset.name] = dataset
    datasets.update({d.id: d for d in newest.values()})
    problems = []
    storage = services.get().storage
    for dataset in sorted(datasets.values(), key=lambda d: (d.name, d.version)):
        try:
            with storage.local_path(dataset.ground_truth_key) as path:
                read_ground_truth(path, task=task)
        except GroundTruthError as exc:
            problems.append(f"Dataset {dataset.name} v{dataset.version} does not fit the new "
                            f"task: {exc}.")
    return problems
