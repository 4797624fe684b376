"""Phases as organizers set them up: create, edit, reorder. Every value is checked before
anything is saved, every problem is reported at once, and a change that moves ranks
re-ranks the phase in the same transaction (as `flask phases configure` does)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from lai_platform.audit import changes, record
from lai_platform.challenges.bundles import FINAL_SELECTION_MAX, public_cases
from lai_platform.challenges.checks import (
    check_slug,
    flag,
    number,
    raise_problems,
    text,
    utc_time,
)
from lai_platform.challenges.tasks import task_of
from lai_platform.extensions import db
from lai_platform.leaderboards.ranks import DISPLAY_MODES, lock_for_ranking, recompute_ranks
from lai_platform.leaderboards.settings import apply_display, apply_ranking, check_ranking
from lai_platform.models import Challenge, Phase, User
from lai_platform.models.locking import lock_rows

# Run limits (runner.RunLimits keys): (low, high, whole number?, label).
LIMIT_BOUNDS: dict[str, tuple[float, float, bool, str]] = {
    "time_limit_s": (1, 86_400, False, "The time limit (seconds)"),
    "memory_mb": (128, 524_288, True, "The memory limit (MB)"),
    "cpus": (0.1, 64, False, "The CPU limit"),
    "pids": (16, 65_536, True, "The process limit"),
    "shm_mb": (1, 65_536, True, "The shared memory (MB)"),
}
QUOTAS = ("submissions_per_day", "submissions_total", "submissions_concurrent")
MAX_QUOTA = 1_000_000
FLAGS = ("logs_visible", "case_results_visible")
EDITABLE = frozenset({
    "title", "description", "opens_at", "closes_at", *QUOTAS, *LIMIT_BOUNDS, "gpu",
    "image_max_mb", "ranking_method", "ranking_metrics", "ranking_alpha", "display",
    "public_fraction", *FLAGS, "primary_metric", "final_selection_max",
})
# Stored fields whose change moves ranks: the ranking, who is shown, which cases decide.
RANK_FIELDS = frozenset({"ranking_method", "ranking_metrics", "ranking_alpha", "display_mode",
                         "public_case_ids", "primary_metric", "opens_at", "closes_at",
                         "final_selection_max"})


def settings_of(phase: Phase) -> dict[str, Any]:
    """The phase's settings under the names `edit_phase` reads (API and forms)."""
    limits = phase.limits or {}
    n_cases = phase.dataset.n_cases if phase.dataset is not None else 0
    public = phase.public_case_ids or []
    return {
        "slug": phase.slug, "title": phase.title, "description": phase.description_md,
        "position": phase.position, "dataset": phase.dataset.name if phase.dataset else None,
        "opens_at": phase.opens_at, "closes_at": phase.closes_at,
        **{name: getattr(phase, name) for name in QUOTAS},
        **{name: limits.get(name) for name in LIMIT_BOUNDS}, "gpu": bool(limits.get("gpu")),
        "image_max_mb": phase.image_max_bytes // 2**20,
        "ranking_method": phase.ranking_method, "ranking_metrics": list(phase.ranking_metrics),
        "ranking_alpha": phase.ranking_alpha, "display": phase.display_mode,
        "public_fraction": round(len(public) / n_cases, 6) if public and n_cases else None,
        **{name: getattr(phase, name) for name in FLAGS},
        "primary_metric": phase.primary_metric, "final_selection_max": phase.final_selection_max,
    }


def create_phase(actor: User, challenge: Challenge, given: Mapping[str, Any]) -> Phase:
    """A new phase at the end, without a dataset until one is attached; `given` may carry
    any other setting too."""
    problems: list[str] = []
    slug = check_slug(str(given.get("slug") or ""), "phase", problems)
    # One new phase at a time: the slug check and the next position see the one before.
    lock_rows(Challenge, Challenge.id == challenge.id)
    db.session.expire(challenge, ["phases"])
    if challenge.phase(slug) is not None:
        problems.append(f"This challenge already has a phase {slug!r}: choose another slug.")
    task = task_of(challenge)
    # Not yet in the session: a refused phase is never flushed. Defaults are explicit because
    # column defaults only apply on insert, and the checks read them.
    phase = Phase(challenge_id=challenge.id, slug=slug, title="", description_md="",
                  position=max((p.position for p in challenge.phases), default=-1) + 1,
                  primary_metric=task.primary, ranking_method="score", ranking_metrics=[],
                  ranking_alpha=0.05, display_mode="all", limits={},
                  image_max_bytes=8 * 2**30, logs_visible=False, case_results_visible=False)
    settings = {"title": given.get("title") or "", **{k: v for k, v in given.items()
                                                      if k not in ("slug", "title")}}
    values = read_values(phase, challenge, settings, problems)
    raise_problems(problems)
    after = {"slug": slug, **values}
    _assign(phase, values)
    db.session.add(phase)
    db.session.flush()
    record(actor, challenge, "phase.create", slug, None, after)
    db.session.commit()
    return phase


def edit_phase(actor: User, phase: Phase, given: Mapping[str, Any]) -> dict[str, Any]:
    """Change the settings named in `given`; returns the changed ones (after)."""
    problems: list[str] = []
    values = read_values(phase, phase.challenge, given, problems)
    raise_problems(problems)
    before, after = changes(phase, values)
    if not after:
        return {}
    _assign(phase, {name: values[name] for name in after})
    if RANK_FIELDS & after.keys():
        recompute_ranks(phase)  # the leaderboard follows at once, as with the CLI
    else:
        lock_for_ranking(phase.id)  # a new page version: cached pages show the new texts
    record(actor, phase.challenge, "phase.edit", phase.slug, before, after)
    db.session.commit()
    return after


def reorder_phases(actor: User, challenge: Challenge, slugs: list[str]) -> None:
    current = [p.slug for p in challenge.phases]
    slugs = [str(s).strip() for s in slugs if str(s).strip()]
    if sorted(slugs) != sorted(current):
        missing = sorted(set(current) - set(slugs))
        unknown = sorted(set(slugs) - set(current))
        problems = [f"Give every phase exactly once ({', '.join(current)})."]
        if missing:
            problems.append(f"Missing: {', '.join(missing)}.")
        if unknown:
            problems.append(f"Not a phase of this challenge: {', '.join(unknown)}.")
        raise_problems(problems)
    if slugs == current:
        return
    by_slug = {p.slug: p for p in challenge.phases}
    for position, slug in enumerate(slugs):
        by_slug[slug].position = position
    record(actor, challenge, "phase.reorder", "", {"order": current}, {"order": slugs})
    db.session.commit()
    db.session.expire(challenge, ["phases"])


def read_values(phase: Phase, challenge: Challenge, given: Mapping[str, Any],
                problems: list[str]) -> dict[str, Any]:
    """The stored fields `given` sets, each checked; problems are appended."""
    unknown = sorted(set(given) - EDITABLE)
    if unknown:
        problems.append(f"Unknown setting(s) {', '.join(unknown)}; known: "
                        f"{', '.join(sorted(EDITABLE))}.")
    values: dict[str, Any] = {}
    if "title" in given:
        values["title"] = text(given, "title", problems, required=True, max_length=200)
    if "description" in given:
        values["description_md"] = text(given, "description", problems)
    _window(phase, given, values, problems)
    for name in QUOTAS:
        if name in given:
            values[name] = number(name, given[name], problems, low=1, high=MAX_QUOTA,
                                  label=f"{name} (a limit per participant)")
    _limits(phase, given, values, problems)
    _ranking(phase, challenge, given, values, problems)
    for name in FLAGS:
        if name in given:
            values[name] = flag(given[name])
    return values


def _window(phase: Phase, given: Mapping, values: dict, problems: list[str]) -> None:
    for name in ("opens_at", "closes_at"):
        if name in given:
            values[name] = utc_time(name, given[name], problems)
    opens = values.get("opens_at", phase.opens_at)
    closes = values.get("closes_at", phase.closes_at)
    if opens is not None and closes is not None and closes <= opens:
        problems.append(f"closes_at ({closes:%Y-%m-%d %H:%M} UTC) must be after opens_at "
                        f"({opens:%Y-%m-%d %H:%M} UTC).")


def _limits(phase: Phase, given: Mapping, values: dict, problems: list[str]) -> None:
    named = [n for n in (*LIMIT_BOUNDS, "gpu") if n in given]
    if named:
        limits = dict(phase.limits or {})
        for name in named:
            if name == "gpu":
                limits.pop("gpu", None)
                if flag(given["gpu"]):
                    limits["gpu"] = True
                continue
            low, high, whole, label = LIMIT_BOUNDS[name]
            value = number(name, given[name], problems, low=low, high=high, integer=whole,
                           label=label)
            limits.pop(name, None)  # empty: the platform's default
            if value is not None:
                limits[name] = value
        values["limits"] = limits
    if "image_max_mb" in given:
        raw = given["image_max_mb"]
        size = number("image_max_mb", raw, problems, low=1, high=65_536,
                      label="The image size limit (MB)")
        if raw is None or not str(raw).strip():
            problems.append("The image size limit (MB) must be given.")
        elif size is not None:
            values["image_max_bytes"] = int(size) * 2**20


def _ranking(phase: Phase, challenge: Challenge, given: Mapping, values: dict,
             problems: list[str]) -> None:
    if "primary_metric" in given:
        metric, allowed = str(given["primary_metric"] or "").strip(), task_of(challenge).metrics
        if metric not in allowed:
            problems.append(f"The primary metric {metric!r} is not one of the task's metrics "
                            f"({', '.join(allowed)}).")
        else:
            values["primary_metric"] = metric
    if "display" in given:
        mode = str(given["display"] or "").strip()
        if mode not in DISPLAY_MODES:
            problems.append(f"display must be one of {', '.join(DISPLAY_MODES)}, not {mode!r}.")
        else:
            values["display_mode"] = mode
    if "public_fraction" in given:
        _public_fraction(phase, challenge, given["public_fraction"], values, problems)
    if "final_selection_max" in given:
        values["final_selection_max"] = number(
            "final_selection_max", given["final_selection_max"], problems, low=1,
            high=FINAL_SELECTION_MAX, label="The final selection (submissions a participant "
            "may mark; empty: off)")
    if not ({"ranking_method", "ranking_metrics", "ranking_alpha", "primary_metric"}
            & set(given)):
        return
    method = str(given.get("ranking_method", phase.ranking_method) or "").strip()
    metrics = _names(given.get("ranking_metrics", phase.ranking_metrics))
    alpha = number("ranking_alpha", given.get("ranking_alpha", phase.ranking_alpha), problems,
                   low=0, high=1, integer=False, label="The ranking alpha")
    alpha = phase.ranking_alpha if alpha is None else alpha
    try:
        check_ranking(phase, method, metrics, alpha,
                      values.get("primary_metric", phase.primary_metric))
    except ValueError as exc:
        problems.append(f"Ranking: {str(exc).removeprefix(f'phase {phase.slug}: ')}.")
        return
    values |= {"ranking_method": method, "ranking_metrics": metrics, "ranking_alpha": alpha}


def _public_fraction(phase: Phase, challenge: Challenge, raw: Any, values: dict,
                     problems: list[str]) -> None:
    fraction = number("public_fraction", raw, problems, low=0, high=1, integer=False,
                      label="The public fraction")
    if fraction is None:
        if raw is None or not str(raw).strip():
            values["public_case_ids"] = None  # no split: every case decides
        return
    if not 0 < fraction < 1:
        problems.append("The public fraction must be strictly between 0 and 1 (leave it empty "
                        "for no public/private split).")
    elif phase.dataset is None:
        problems.append("A public fraction needs the phase's dataset: attach one first.")
    else:
        ids = [c.case_id for c in phase.dataset.cases]
        values["public_case_ids"] = public_cases(ids, fraction, f"{challenge.slug}/{phase.slug}")


def _names(value: Any) -> list[str]:
    items = value if isinstance(value, list | tuple) else str(value or "").split(",")
    return [str(item).strip() for item in items if str(item).strip()]


def _assign(phase: Phase, values: dict[str, Any]) -> None:
    """Store checked values; ranking and display through the one place that sets them."""
    ranking = {k: values.pop(k) for k in ("ranking_method", "ranking_metrics",
                                          "ranking_alpha") if k in values}
    display = values.pop("display_mode", None)
    for name, value in values.items():
        setattr(phase, name, value)
    if ranking:
        apply_ranking(phase, ranking.get("ranking_method", phase.ranking_method),
                      ranking.get("ranking_metrics", phase.ranking_metrics),
                      ranking.get("ranking_alpha", phase.ranking_alpha))
    if display is not None:
        apply_display(phase, display)
